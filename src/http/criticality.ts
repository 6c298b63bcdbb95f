/**
 * A request's criticality class (sluice/pressure): the route's class unless the request
 * names one in the configured header. A client may always lower its own class; raising it
 * above the route's needs `allowRaise` (a boolean or a predicate, e.g. "is an internal
 * caller"). An unknown value is ignored, so the answer is always a class.
 */
import { InvalidOptionError } from '../core/errors.js';
import type { CriticalityClass } from '../pressure/criticality.js';
import { CLASS_PRIORITY, CRITICALITY_CLASSES } from '../pressure/criticality.js';
import { headerText } from './client-ip.js';
import type { HttpRequestLike } from './client-ip.js';

export interface CriticalityOption<R> {
  /** Header a client may name its class in (values: critical-plus, critical, sheddable-plus, sheddable). @default none: the route's class */
  readonly header?: string;
  /** Class of a request that names none. @default 'critical' (what sluice/pressure treats as unmarked work) */
  readonly default?: CriticalityClass;
  /** May a request raise itself above the route's class? A predicate decides per request. @default false */
  readonly allowRaise?: boolean | ((req: R) => boolean);
}

export interface CriticalityConfig<R> {
  readonly header: string | undefined;
  readonly fallback: CriticalityClass;
  readonly allowRaise: boolean | ((req: R) => boolean);
}

export function criticalityConfig<R>(option: CriticalityOption<R> | undefined, fallback: CriticalityClass): CriticalityConfig<R> {
  const o = option ?? {};
  if (o.header !== undefined && (typeof o.header !== 'string' || o.header === '')) throw new InvalidOptionError('criticality.header', 'a header name', o.header);
  const def = o.default ?? fallback;
  if (!isClass(def)) throw new InvalidOptionError('criticality.default', `one of ${CRITICALITY_CLASSES.join(', ')}`, def);
  const allowRaise = o.allowRaise ?? false;
  if (typeof allowRaise !== 'boolean' && typeof allowRaise !== 'function') throw new InvalidOptionError('criticality.allowRaise', 'a boolean or a function', allowRaise);
  return { header: o.header?.toLowerCase(), fallback: def, allowRaise };
}

/** The class of `req` on a route whose class is `route` (the configured default when undefined). */
export function requestClass<R extends HttpRequestLike>(req: R, cfg: CriticalityConfig<R>, route: CriticalityClass | undefined): CriticalityClass {
  const base = route ?? cfg.fallback;
  if (cfg.header === undefined) return base;
  const raw = headerText(req.headers[cfg.header]);
  if (raw === undefined || raw.length > 32) return base;
  const asked = raw.trim().toLowerCase();
  if (!isClass(asked) || asked === base) return base;
  if (CLASS_PRIORITY[asked] < CLASS_PRIORITY[base]) return asked;
  const allow = cfg.allowRaise;
  return allow === true || (typeof allow === 'function' && allow(req)) ? asked : base;
}

export function isClass(value: unknown): value is CriticalityClass {
  return typeof value === 'string' && (CRITICALITY_CLASSES as readonly string[]).includes(value);
}
