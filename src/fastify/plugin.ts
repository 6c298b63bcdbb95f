/**
 * The Fastify adapter: a plugin that admits each request of the context it is registered
 * in, in an `onRequest` hook (before the body is read). It carries fastify-plugin's
 * semantics without importing it: marked `skip-override`, its hook lands in the context
 * that registers it — register it at the root for every route, inside a child context
 * (`app.register(async (api) => { api.register(admissionPlugin, ...) })`) for that
 * context's routes only. Route settings come from the route's `config.sluice`, validated
 * when the route is added.
 *
 * Fastify is only a type here (an optional peer): nothing is imported at run time.
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { InvalidArgumentError, InvalidOptionError } from '../core/errors.js';
import { isPromise } from '../core/gate-base.js';
import { HttpAdmission } from '../http/admission.js';
import type { HttpDecision } from '../http/decision.js';
import type { HttpAdmissionOptions, RouteAdmission } from '../http/options.js';
import { resolveRoute } from '../http/options.js';
import { pathOf } from '../http/write.js';

/** A policy's options, or `{ policy }` to share one policy object between contexts. */
export type FastifyAdmissionOptions = HttpAdmissionOptions<FastifyRequest> | { readonly policy: HttpAdmission<FastifyRequest> };

/** Route settings under `config.sluice`. */
export interface FastifyRouteConfig {
  readonly sluice?: RouteAdmission;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** sluice admission settings of this route (see `sluice/fastify`). */
    sluice?: RouteAdmission;
  }
}

/** Options of `register()` that Fastify reads itself. */
interface FastifyRegisterKeys {
  readonly prefix?: unknown;
  readonly logLevel?: unknown;
  readonly logSerializers?: unknown;
}

function policyOf(options: FastifyAdmissionOptions): HttpAdmission<FastifyRequest> {
  if ('policy' in options && options.policy !== undefined) {
    if (!(options.policy instanceof HttpAdmission)) throw new InvalidOptionError('policy', 'an HttpAdmission', options.policy);
    const others = Object.keys(options).filter((k) => k !== 'policy');
    if (others.length > 0) throw new InvalidOptionError(others[0]!, 'absent when a policy object is given (it has its own options)', (options as Record<string, unknown>)[others[0]!]);
    return options.policy;
  }
  return new HttpAdmission<FastifyRequest>(options as HttpAdmissionOptions<FastifyRequest>);
}

function routeOf(request: FastifyRequest): RouteAdmission | undefined {
  return (request.routeOptions.config as FastifyRouteConfig | undefined)?.sluice;
}

function write(d: HttpDecision, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  switch (d.type) {
    case 'admitted':
      for (const [name, value] of d.headers) void reply.header(name, value);
      return done();
    case 'exempt':
      return done();
    case 'rejected':
      for (const [name, value] of d.headers) void reply.header(name, value);
      void reply.code(d.status).send(d.body);
      return;
    case 'abandoned':
      return;
  }
}

/**
 * The routes `register(admissionPlugin, { prefix })` admits: those under the registering
 * context's prefix joined with `prefix` (as Fastify joins them for an encapsulated plugin's
 * routes), or undefined for all of the context's. Fastify itself ignores `prefix` for a plugin
 * that does not encapsulate, as this one does not, so without this the option limited every route.
 */
function prefixOf(fastify: FastifyInstance, prefix: unknown): string | undefined {
  if (prefix === undefined) return undefined;
  if (typeof prefix !== 'string' || prefix === '' || prefix === '/') throw new InvalidOptionError('prefix', "a path the admitted routes start with ('/api')", prefix);
  const base = fastify.prefix.endsWith('/') ? fastify.prefix.slice(0, -1) : fastify.prefix;
  const own = prefix.startsWith('/') ? prefix : `/${prefix}`;
  return base + (own.endsWith('/') ? own.slice(0, -1) : own);
}

/** Whether `path` is `prefix` or below it (`/api`: `/api`, `/api/`, `/api/x`; not `/apix`). */
function under(path: string, prefix: string): boolean {
  return path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === '/');
}

function plugin(fastify: FastifyInstance, options: FastifyAdmissionOptions, ready: (err?: Error) => void): void {
  // Called, not registered: there is no callback to report to.
  if (typeof ready !== 'function') throw new InvalidArgumentError('done', "Fastify's plugin callback (register the plugin: app.register(admissionPlugin, options))", ready);
  let policy: HttpAdmission<FastifyRequest>;
  let prefix: string | undefined;
  try {
    // Fastify hands a number, a string or an array on as given (undefined and null become {}):
    // a string's characters read as unknown keys `0`, `1`…, a number or an array as no options at all.
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new InvalidArgumentError('options', "an object of admissionPlugin options (a policy's options, or { policy })", options);
    }
    // Fastify's own register options reach the plugin too: they are not the policy's.
    const { prefix: given, logLevel: _logLevel, logSerializers: _logSerializers, ...own } = options as FastifyAdmissionOptions & FastifyRegisterKeys;
    prefix = prefixOf(fastify, given);
    policy = policyOf(own as FastifyAdmissionOptions);
  } catch (err) {
    return ready(err as Error);
  }
  fastify.addHook('onRoute', (route) => {
    resolveRoute((route.config as FastifyRouteConfig | undefined)?.sluice, `${route.method.toString()} ${route.url} config.sluice`);
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    if (prefix !== undefined && !under(request.routeOptions.url ?? pathOf(request.url), prefix)) return done();
    let d: HttpDecision | Promise<HttpDecision>;
    try {
      d = policy.handle(request, reply.raw, routeOf(request), pathOf(request.url));
    } catch (err) {
      return done(err as Error);
    }
    if (isPromise(d)) d.then((x) => write(x, reply, done), done);
    else write(d, reply, done);
  });
  ready();
}

// fastify-plugin's marks: no encapsulation of its own (hooks go to the registering context), a name, a version range.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'sluice',
  [Symbol.for('plugin-meta')]: { name: 'sluice', fastify: '>=4' },
});

/**
 * @example
 * await app.register(admissionPlugin, { rateLimits: [{ algorithm: 'gcra', rate: 10, burst: 20 }], concurrency: 100 });
 */
export const admissionPlugin: FastifyPluginCallback<FastifyAdmissionOptions> = plugin;
