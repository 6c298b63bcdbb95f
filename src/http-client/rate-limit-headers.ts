/**
 * Reading a server's quota from its response headers, so a client can pace itself before it
 * is refused. Three generations are understood, the newest first:
 *
 * 1. The IETF draft (draft-ietf-httpapi-ratelimit-headers-10): `RateLimit-Policy` and
 *    `RateLimit`, Structured Field Lists of named items,
 *
 *        RateLimit-Policy: "burst";q=100;w=60,"daily";q=1000;w=86400
 *        RateLimit: "burst";r=50;t=30
 *
 *    `q` quota units per window `w` seconds (unit `qu`, default "requests"); `r` units left,
 *    `t` seconds until more quota is available. A malformed field is ignored as a whole (the
 *    draft's rule); an item without a valid `r` is skipped.
 * 2. The older drafts' separate fields: `RateLimit-Limit`, `RateLimit-Remaining`,
 *    `RateLimit-Reset` (delta-seconds).
 * 3. The de-facto `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`. Their
 *    reset is delta-seconds for some servers and epoch seconds for others (GitHub); a value
 *    above 10^9 (a date after 2001) is read as epoch seconds.
 */
import { argNumber, InvalidArgumentError } from '../core/index.js';
import { parseList, SfToken } from './structured-field.js';
import type { BareItem } from './structured-field.js';

/** Anything with `get(name)`: a fetch `Headers`, or a small adapter over Node's headers. */
export interface HeadersLike {
  get(name: string): string | null;
}

/** One entry of `RateLimit-Policy`. */
export interface QuotaPolicy {
  readonly name: string;
  /** `q`: quota units per window. */
  readonly quota: number;
  /** `w` in ms; undefined when not given. */
  readonly windowMs: number | undefined;
  /** `qu`. @default 'requests' */
  readonly unit: string;
}

/** What the server says is left of one policy. */
export interface ServerQuota {
  /** Policy name; '' for the older single-policy forms. */
  readonly policy: string;
  /** `r`: units left. */
  readonly remaining: number;
  /** `t` in ms: until more quota is available; undefined when not given. */
  readonly resetMs: number | undefined;
  /** `q` of the policy of the same name, when known. */
  readonly limit: number | undefined;
  /** `w` of the policy of the same name in ms, when known. */
  readonly windowMs: number | undefined;
  /** The policy's quota unit ('requests' unless the policy says otherwise). */
  readonly unit: string;
  /** Which header form it came from. */
  readonly source: 'draft' | 'ratelimit-legacy' | 'x-ratelimit';
}

/** Epoch seconds above this are read as a date, below as delta-seconds (X-RateLimit-Reset). */
const EPOCH_SECONDS_FLOOR = 1e9;

/** The policies of a `RateLimit-Policy` field value; [] for a missing or malformed one. */
export function parseRateLimitPolicy(value: string | null | undefined): QuotaPolicy[] {
  if (typeof value !== 'string') return [];
  const items = parseList(value);
  if (items === undefined) return [];
  const out: QuotaPolicy[] = [];
  for (const item of items) {
    const name = nameOf(item.value);
    const quota = nonNegativeInt(item.params.get('q'));
    if (name === undefined || quota === undefined) continue;
    const w = item.params.get('w');
    const windowS = w === undefined ? undefined : nonNegativeInt(w);
    if (w !== undefined && (windowS === undefined || windowS === 0)) continue; // w must be a positive integer
    const qu = item.params.get('qu');
    const unit = typeof qu === 'string' ? qu : 'requests';
    out.push({ name, quota, windowMs: windowS === undefined ? undefined : windowS * 1000, unit });
  }
  return out;
}

/** The service limits of a `RateLimit` field value, joined with their policies by name; [] for a missing or malformed one. */
export function parseRateLimit(value: string | null | undefined, policies: readonly QuotaPolicy[] = []): ServerQuota[] {
  if (typeof value !== 'string') return [];
  const items = parseList(value);
  if (items === undefined) return [];
  const out: ServerQuota[] = [];
  for (const item of items) {
    const name = nameOf(item.value);
    const remaining = nonNegativeInt(item.params.get('r'));
    if (name === undefined || remaining === undefined) continue;
    const t = item.params.get('t');
    const resetS = t === undefined ? undefined : nonNegativeInt(t);
    if (t !== undefined && resetS === undefined) continue;
    const policy = policies.find((p) => p.name === name);
    out.push({
      policy: name,
      remaining,
      resetMs: resetS === undefined ? undefined : resetS * 1000,
      limit: policy?.quota,
      windowMs: policy?.windowMs,
      unit: policy?.unit ?? 'requests',
      source: 'draft',
    });
  }
  return out;
}

/**
 * Every quota the response states, from the newest header form present: the draft's fields,
 * else `RateLimit-*`, else `X-RateLimit-*`. [] when there are none (or only malformed ones).
 *
 * @param nowEpochMs wall-clock time, for an `X-RateLimit-Reset` given as epoch seconds
 */
export function readRateLimit(headers: HeadersLike, nowEpochMs: number = Date.now()): ServerQuota[] {
  if (typeof (headers as Partial<HeadersLike> | null | undefined)?.get !== 'function') throw new InvalidArgumentError('headers', "headers with get(name) (a fetch Response's headers)", headers);
  // An X-RateLimit-Reset in epoch seconds is read against it: NaN would make every such reset NaN ms.
  argNumber('nowEpochMs', nowEpochMs, 0, Number.MAX_VALUE);
  const draft = headers.get('ratelimit');
  if (draft !== null) {
    const found = parseRateLimit(draft, parseRateLimitPolicy(headers.get('ratelimit-policy')));
    if (found.length > 0) return found;
  }
  const legacy = legacyQuota(headers, 'ratelimit-', 'ratelimit-legacy', () => undefined);
  if (legacy !== undefined) return [legacy];
  const x = legacyQuota(headers, 'x-ratelimit-', 'x-ratelimit', (s) => (s > EPOCH_SECONDS_FLOOR ? Math.max(0, s * 1000 - nowEpochMs) : undefined));
  return x === undefined ? [] : [x];
}

function legacyQuota(headers: HeadersLike, prefix: string, source: ServerQuota['source'], epoch: (seconds: number) => number | undefined): ServerQuota | undefined {
  const remaining = leadingInt(headers.get(`${prefix}remaining`));
  if (remaining === undefined) return undefined;
  const resetS = leadingInt(headers.get(`${prefix}reset`));
  const limit = leadingInt(headers.get(`${prefix}limit`));
  const resetMs = resetS === undefined ? undefined : (epoch(resetS) ?? resetS * 1000);
  return { policy: '', remaining, resetMs, limit, windowMs: undefined, unit: 'requests', source };
}

/** The integer a legacy field starts with (`RateLimit-Limit: 100, 100;w=60` → 100); undefined if none. */
function leadingInt(value: string | null): number | undefined {
  if (value === null) return undefined;
  const m = /^[ \t]*(\d{1,15})[ \t]*(?:$|[,;])/.exec(value);
  return m === null ? undefined : Number(m[1]);
}

function nameOf(value: BareItem | readonly unknown[]): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof SfToken) return value.value;
  return undefined;
}

function nonNegativeInt(v: BareItem | undefined): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}
