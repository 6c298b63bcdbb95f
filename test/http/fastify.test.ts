// Fastify adapter on real loopback sockets, against the oldest and the newest major that
// package.json claims (fastify 4 through the devDependency alias "fastify4").
import Fastify from 'fastify';
import Fastify4 from 'fastify4';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import type { GateEvent } from '../../src/core/index.js';
import { InvalidOptionError } from '../../src/core/index.js';
import { admissionPlugin, HttpAdmission } from '../../src/fastify/index.js';
import { abandonInFlightAndWaiter, get } from './helpers.js';

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});


const tight = { rateLimits: [{ algorithm: 'gcra' as const, rate: 0.001, burst: 1, name: 'tight' }] };

// Fastify 4's own types differ in details the tests do not touch: typed as the Fastify 5 factory.
const MAJORS = [
  ['Fastify 5', Fastify, 'fastify', '5'],
  ['Fastify 4', Fastify4 as unknown as typeof Fastify, 'fastify4', '4'],
] as const;

describe.each(MAJORS)('admissionPlugin (%s)', (_major, Fastify, pkg, major) => {
  it(`runs against the package of that major`, () => {
    expect((createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version.split('.')[0]).toBe(major);
  });

  async function start(build: (app: FastifyInstance) => void | Promise<void>): Promise<number> {
    const app = Fastify({ forceCloseConnections: true });
    apps.push(app);
    await build(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  it('limits with 429 + Retry-After + RateLimit fields + problem+json, and marks successes', async () => {
    const port = await start(async (app) => {
      await app.register(admissionPlugin, { rateLimits: [{ algorithm: 'token-bucket', rate: 0.001, burst: 2, name: 'burst' }] });
      app.get('/', async () => 'ok');
    });
    const first = await get(port);
    expect(first).toMatchObject({ status: 200, body: 'ok' });
    expect(first.headers).toMatchObject({ 'ratelimit-policy': '"burst";q=2;w=2000', ratelimit: '"burst";r=1;t=1000' });
    await get(port);
    const refused = await get(port);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^[0-9]+$/);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json(;|$)/);
    expect(JSON.parse(refused.body)).toMatchObject({ status: 429, reason: 'rate_limited', 'violated-policies': ['burst'] });
  });

  it('registered in a child context, limits only that context', async () => {
    const port = await start(async (app) => {
      await app.register(async (api) => {
        await api.register(admissionPlugin, tight);
        api.get('/api', async () => 'api');
      });
      app.get('/open', async () => 'open');
    });
    expect((await get(port, '/api')).status).toBe(200);
    expect((await get(port, '/api')).status).toBe(429);
    for (let i = 0; i < 3; i++) {
      const r = await get(port, '/open');
      expect(r.status).toBe(200);
      expect(r.headers['ratelimit']).toBeUndefined();
    }
  });

  it('registered at the root, limits every route; route config sets cost and exemption', async () => {
    const port = await start(async (app) => {
      await app.register(admissionPlugin, { rateLimits: [{ algorithm: 'gcra', rate: 0.001, burst: 3 }] });
      app.get('/a', async () => 'a');
      app.get('/heavy', { config: { sluice: { cost: 3 } } }, async () => 'heavy');
      app.get('/health', { config: { sluice: { exempt: true } } }, async () => 'up');
      await app.register(async (child) => {
        child.get('/child', async () => 'child');
      });
    });
    expect((await get(port, '/a')).status).toBe(200);
    expect((await get(port, '/heavy')).status).toBe(429);
    expect((await get(port, '/child')).status).toBe(200);
    expect((await get(port, '/a')).status).toBe(200);
    expect((await get(port, '/child')).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await get(port, '/health')).status).toBe(200);
  });

  it('refuses bad route settings when the route is added, and a policy object with options', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(admissionPlugin, {});
    expect(() => app.get('/x', { config: { sluice: { cost: 0 } } }, async () => 'x')).toThrow(InvalidOptionError);
    const other = Fastify();
    apps.push(other);
    const policy = new HttpAdmission<FastifyRequest>({});
    await expect(other.register(admissionPlugin, { policy, concurrency: 3 } as never)).rejects.toThrow(/concurrency/);
  });

  it('keys by a user set in an earlier hook; a spoofed X-Forwarded-For changes nothing', async () => {
    const port = await start(async (app) => {
      app.decorateRequest('user', undefined);
      app.addHook('onRequest', async (req) => {
        (req as FastifyRequest & { user?: string | undefined }).user = req.headers['x-user'] as string | undefined;
      });
      await app.register(admissionPlugin, { ...tight, tenant: (req) => (req as FastifyRequest & { user?: string }).user });
      app.get('/', async () => 'ok');
    });
    expect((await get(port, '/', { 'x-user': 'alice' })).status).toBe(200);
    expect((await get(port, '/', { 'x-user': 'alice' })).status).toBe(429);
    expect((await get(port, '/', { 'x-user': 'bob' })).status).toBe(200);
    expect((await get(port, '/', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
    expect((await get(port, '/', { 'x-forwarded-for': '198.51.100.2' })).status).toBe(429);
  });

  it('releases an abandoned request as dropped and removes an abandoned waiter', async () => {
    const policy = new HttpAdmission<FastifyRequest>({ concurrency: { limit: 1, maxQueue: 2, maxWaitMs: 10_000 } });
    const outcomes: string[] = [];
    policy.concurrency!.on((e: GateEvent) => void (e.type === 'release' && outcomes.push(e.outcome)));
    const port = await start(async (app) => {
      await app.register(admissionPlugin, { policy });
      app.get('/hang', (_req, _reply) => undefined);
    });
    await abandonInFlightAndWaiter(port, '/hang', policy.concurrency!, outcomes);
    expect(outcomes).toEqual(['dropped']);
    expect(policy.concurrency!.inFlight).toBe(0);
  });
});
