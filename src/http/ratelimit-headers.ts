/**
 * RateLimit header fields, draft-ietf-httpapi-ratelimit-headers-11 (Structured Field Lists):
 *
 *     RateLimit-Policy: "burst";q=100;w=60,"daily";q=1000;w=86400
 *     RateLimit: "burst";r=99;t=1
 *
 * A policy item is a String naming the policy with `q` (quota, non-negative Integer) and
 * `w` (window, positive Integer seconds); a service-limit item names the policy with `r`
 * (available quota, non-negative Integer) and `t` (effective window, non-negative Integer
 * seconds). From {@link PolicyFacts}: w = max(1, ceil(windowMs / 1000)), q = floor(limit ·
 * w · 1000 / windowMs) (the limit itself when the window is whole seconds: q / w is the
 * policy's rate, whatever its window), r = floor(remaining), t = ceil(resetMs / 1000).
 *
 * Older forms, for clients that read them: `legacy` (RateLimit-Limit / -Remaining / -Reset,
 * draft-06 and before) and `x` (X-RateLimit-*), both for the tightest policy (least quota
 * left, relative to its limit), Reset in delta-seconds.
 *
 * Retry-After (RFC 9110 section 10.2.3) is delta-seconds: 1*DIGIT, here
 * ceil(retryAfterMs / 1000), capped at 2^31 - 1 so it never prints in exponent form. An
 * infinite retryAfterMs (retrying will not help) gives no Retry-After at all.
 */
import type { PolicyFacts } from '../core/types.js';
import { deepFreeze } from '../core/deep-freeze.js';

export type HeaderStyle = 'draft' | 'legacy' | 'x' | 'none';

export const HEADER_STYLES: readonly HeaderStyle[] = deepFreeze(['draft', 'legacy', 'x', 'none']);

/** A header name and value, written in order. */
export type HeaderPair = readonly [name: string, value: string];

/** Largest delta-seconds written: the cap RFC 9111 section 1.2.2 gives caches. */
export const MAX_DELTA_SECONDS = 2_147_483_647;

/** Ceil of ms to whole seconds, as a non-negative integer within {@link MAX_DELTA_SECONDS}. */
export function deltaSeconds(ms: number): number {
  if (!(ms > 0)) return 0;
  const s = Math.ceil(ms / 1000);
  return s > MAX_DELTA_SECONDS ? MAX_DELTA_SECONDS : s;
}

function integer(n: number): number {
  if (!(n > 0)) return 0;
  const f = Math.floor(n);
  return f > MAX_DELTA_SECONDS ? MAX_DELTA_SECONDS : f;
}

/**
 * A Structured Field String (RFC 9651 section 3.3.3): printable ASCII, `"` and `\` escaped.
 * Other characters cannot be written, so they become `_` (policy names are validated at
 * construction; this only guards names from gates built elsewhere).
 */
export function sfString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += `\\${s[i]!}`;
    else if (c < 0x20 || c > 0x7e) out += '_';
    else out += s[i]!;
  }
  return `${out}"`;
}

/**
 * Written items per policy name: a policy's RateLimit-Policy item rarely changes, so it is
 * written once and reused while its limit and window stay the same. Policy names come from
 * configuration, so the cache is small; it is cleared if it ever grows past a bound.
 */
interface Written {
  readonly limit: number;
  readonly windowMs: number;
  readonly name: string;
  readonly item: string;
}
const written = new Map<string, Written>();
const MAX_WRITTEN = 1024;

function writtenFor(f: PolicyFacts): Written {
  let w = written.get(f.policy);
  if (w === undefined || w.limit !== f.limit || w.windowMs !== f.windowMs) {
    const name = w?.name ?? sfString(f.policy);
    const s = Math.max(1, deltaSeconds(f.windowMs));
    w = { limit: f.limit, windowMs: f.windowMs, name, item: `${name};q=${integer(f.limit * windowScale(s, f.windowMs))};w=${s}` };
    if (written.size >= MAX_WRITTEN) written.clear();
    written.set(f.policy, w);
  }
  return w;
}

/**
 * What `w` whole seconds hold of a window of `windowMs`: 1 when the window is whole seconds
 * (the quota as it is), else the quota is scaled to the seconds written — a token bucket's
 * window is burst / rate (2000/s, burst 100: 50 ms), and `q=100;w=1` told clients a twentieth
 * of the rate; `q=2000;w=1` is the rate. A ratio, so that a whole window multiplies by exactly 1.
 */
function windowScale(seconds: number, windowMs: number): number {
  const ms = seconds * 1000;
  // Not below 1: a window past MAX_DELTA_SECONDS is written capped, with its whole quota.
  return ms > windowMs && windowMs > 0 ? ms / windowMs : 1;
}

/** One RateLimit-Policy item: `"name";q=..;w=..`. */
export function policyItem(f: PolicyFacts): string {
  return writtenFor(f).item;
}

/** One RateLimit item: `"name";r=..;t=..`; `tSeconds` overrides t (a refused policy's retry time). */
export function limitItem(f: PolicyFacts, tSeconds?: number): string {
  return `${writtenFor(f).name};r=${integer(f.remaining)};t=${tSeconds ?? deltaSeconds(f.resetMs)}`;
}

/** The policy with the least quota left relative to its limit. */
export function tightest(facts: readonly PolicyFacts[]): PolicyFacts | undefined {
  let best: PolicyFacts | undefined;
  for (const f of facts) if (best === undefined || f.remaining / f.limit < best.remaining / best.limit) best = f;
  return best;
}

/**
 * The rate-limit headers for `facts` (one entry per policy that metered the request, in
 * order). `refused`: the index of the policy that refused it and the retry time in seconds
 * reported as its `t` (r = 0 or too little for the cost: nothing more can be used before).
 */
export function rateLimitHeaders(style: HeaderStyle, facts: readonly PolicyFacts[], refused?: { readonly index: number; readonly seconds: number }): HeaderPair[] {
  if (facts.length === 0 || style === 'none') return [];
  if (style === 'draft') {
    let policy = '';
    let limit = '';
    for (let i = 0; i < facts.length; i++) {
      const f = facts[i]!;
      const sep = i === 0 ? '' : ', ';
      policy += sep + policyItem(f);
      limit += sep + limitItem(f, refused?.index === i ? refused.seconds : undefined);
    }
    return [
      ['RateLimit-Policy', policy],
      ['RateLimit', limit],
    ];
  }
  const f = refused === undefined ? tightest(facts)! : facts[refused.index]!;
  const reset = refused === undefined ? deltaSeconds(f.resetMs) : refused.seconds;
  const prefix = style === 'legacy' ? 'RateLimit' : 'X-RateLimit';
  return [
    [`${prefix}-Limit`, String(integer(f.limit))],
    [`${prefix}-Remaining`, String(integer(f.remaining))],
    [`${prefix}-Reset`, String(reset)],
  ];
}

/**
 * Retry-After seconds for a refusal: ceil(retryAfterMs / 1000), and never earlier than the
 * `t` of any reported policy that has nothing left (RateLimit draft section 6: Retry-After
 * should not point before the end of such an effective window). Undefined when retrying
 * will not help.
 */
export function retryAfterSeconds(retryAfterMs: number, facts: readonly PolicyFacts[], refused?: { readonly index: number; readonly seconds: number }): number | undefined {
  if (retryAfterMs === Infinity || Number.isNaN(retryAfterMs)) return undefined;
  let s = deltaSeconds(retryAfterMs);
  for (let i = 0; i < facts.length; i++) {
    const f = facts[i]!;
    if (integer(f.remaining) > 0) continue;
    const t = refused?.index === i ? refused.seconds : deltaSeconds(f.resetMs);
    if (t > s) s = t;
  }
  return s;
}
