/**
 * The helpers `sluice/http` exports (addresses, proxy headers, trust, RateLimit headers, problem
 * details, writing a refusal), each checking its arguments: a value it cannot use is an
 * InvalidArgumentError naming it — `cfg.maxHops: expected an integer in [1, 64], received -1`,
 * `ip: expected a parsed address (what parseIp or parseNode returns), received an object` — not a
 * TypeError from inside ("Cannot read properties of undefined"), nor an answer made of garbage
 * (addressKey of a made-up address `300.1.2.3` was "44.1.2.0/24", statusOf('nope') 503). The adapters
 * and the gateway call the unchecked functions in their own modules, per request: what they pass
 * was validated at construction.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { nearestKey } from '../core/option-keys.js';
import { argInt, argNumber } from '../core/options.js';
import type { Outcome, PolicyFacts, RejectionReason } from '../core/types.js';
import { REJECTION_REASONS } from '../core/types.js';
import type { ClientIpConfig, HttpRequestLike } from './client-ip.js';
import { clientAddress as clientAddressOf, clientKey as clientKeyOf } from './client-ip.js';
import type { Refused } from './decision.js';
import type { ProxyHeader } from './forwarded.js';
import { clientFromHeader as fromHeader, forwardedFor as forOf, PROXY_HEADERS } from './forwarded.js';
import type { ParsedIp } from './ip.js';
import { addressKey as keyOf, parseIp as parseIpOf, parseNode as parseNodeOf } from './ip.js';
import { defaultClassify as classifyOf } from './options.js';
import type { Problem, RefusalStatus } from './problem.js';
import { problem as problemOf, statusOf as statusOfValid } from './problem.js';
import type { HeaderPair, HeaderStyle } from './ratelimit-headers.js';
import * as headers from './ratelimit-headers.js';
import type { TrustCheck, TrustProxyOption } from './trusted-proxies.js';
import { isTrusted as isTrustedOf, trustCheck as trustCheckOf } from './trusted-proxies.js';
import { pathOf as pathOfValid, setHeaders as setHeadersOf, writeRefusal as writeRefusalOf } from './write.js';

const { MAX_DELTA_SECONDS } = headers;
const quoted = (list: readonly string[]): string => list.map((s) => JSON.stringify(s)).join(', ');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function argString(name: string, value: unknown, expected: string): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(name, expected, value);
  return value;
}

function argOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], what = ''): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw new InvalidArgumentError(name, `${what}one of ${quoted(allowed)}${what === '' ? '' : ')'}`, value);
  return value as T;
}

/** A field of an argument object that is not one of `known`: the nearest known one, or the list. */
function argKnownFields(name: string, value: Record<string, unknown>, known: readonly string[], owner: string): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const near = nearestKey(key, known);
    throw new InvalidArgumentError(`${name}.${key}`, `one of the ${owner} fields${near === undefined ? `: ${known.join(', ')}` : ` (did you mean ${JSON.stringify(near)}?)`}`, value[key]);
  }
}

/** An address as parseIp or parseNode gave it: a made-up one is re-read from its text and must match. */
function argIp(name: string, value: unknown): ParsedIp {
  const ip = value as Partial<ParsedIp> | null;
  const again = isObject(ip) && typeof ip.text === 'string' ? parseIpOf(ip.text) : undefined;
  const same = again !== undefined && again.family === ip!.family && again.text === ip!.text && (again.groups === undefined ? ip!.groups === undefined : Array.isArray(ip!.groups) && again.groups.every((g, i) => ip!.groups![i] === g));
  if (!same) throw new InvalidArgumentError(name, 'a parsed address (what parseIp or parseNode returns)', value);
  return value as ParsedIp;
}

const TRUST = 'a trust check (a function; trustCheck() makes one)';
const hops = (name: string, value: unknown): number => argInt(name, value, 1, 64);
const v4Prefix = (name: string, value: unknown): number => argInt(name, value, 0, 32);
const v6Prefix = (name: string, value: unknown): number => argInt(name, value, 0, 128);

function argRequest(req: unknown): HttpRequestLike {
  if (!isObject(req)) throw new InvalidArgumentError('req', 'a request (an object with headers and socket)', req);
  if (!isObject(req['headers'])) throw new InvalidArgumentError('req.headers', 'an object of header fields', req['headers']);
  const socket = req['socket'];
  if (socket !== undefined && socket !== null && typeof socket !== 'object') throw new InvalidArgumentError('req.socket', 'a socket (an object with remoteAddress), null or undefined', socket);
  return req as unknown as HttpRequestLike;
}

const CFG_FIELDS = ['trusted', 'header', 'maxHops', 'ipv4Prefix', 'ipv6Prefix'];

function argConfig(cfg: unknown): ClientIpConfig {
  if (!isObject(cfg)) throw new InvalidArgumentError('cfg', `a ClientIpConfig (${CFG_FIELDS.join(', ')})`, cfg);
  argKnownFields('cfg', cfg, CFG_FIELDS, 'ClientIpConfig');
  if (cfg['trusted'] !== undefined && typeof cfg['trusted'] !== 'function') throw new InvalidArgumentError('cfg.trusted', `${TRUST} or undefined`, cfg['trusted']);
  argOneOf('cfg.header', cfg['header'], PROXY_HEADERS);
  hops('cfg.maxHops', cfg['maxHops']);
  v4Prefix('cfg.ipv4Prefix', cfg['ipv4Prefix']);
  v6Prefix('cfg.ipv6Prefix', cfg['ipv6Prefix']);
  return cfg as unknown as ClientIpConfig;
}

/** Parse a bare address (no port, no brackets). Undefined when it is not one. */
export function parseIp(input: string): ParsedIp | undefined {
  return parseIpOf(argString('input', input, 'an address (a string)'));
}

/** Parse a node as proxies write it (`192.0.2.1:8080`, `[2001:db8::1]:8080`, ...). Undefined for anything else. */
export function parseNode(input: string): ParsedIp | undefined {
  return parseNodeOf(argString('input', input, 'a node as proxies write it (a string)'));
}

/** The key an address is limited under: masked to `ipv4Prefix` / `ipv6Prefix` bits, written `network/prefix` when masked. */
export function addressKey(ip: ParsedIp, ipv4Prefix: number, ipv6Prefix: number): string {
  return keyOf(argIp('ip', ip), v4Prefix('ipv4Prefix', ipv4Prefix), v6Prefix('ipv6Prefix', ipv6Prefix));
}

/** The client's address, or undefined when the socket has none. */
export function clientAddress(req: HttpRequestLike, cfg: ClientIpConfig): ParsedIp | undefined {
  return clientAddressOf(argRequest(req), argConfig(cfg));
}

/** The client's address key, grouped by prefix; `unknown` when the socket has no address. */
export function clientKey(req: HttpRequestLike, cfg: ClientIpConfig): string {
  return clientKeyOf(argRequest(req), argConfig(cfg));
}

/** The client address: `peer` when it is untrusted or no header is present; else the first untrusted address walking `header` from the right. */
export function clientFromHeader(peer: ParsedIp, header: string | undefined, kind: ProxyHeader, trusted: TrustCheck, maxHops: number): ParsedIp {
  argIp('peer', peer);
  if (header !== undefined) argString('header', header, "the header field's value (a string) or undefined");
  argOneOf('kind', kind, PROXY_HEADERS);
  if (typeof trusted !== 'function') throw new InvalidArgumentError('trusted', TRUST, trusted);
  return fromHeader(peer, header, kind, trusted, hops('maxHops', maxHops));
}

/** The `for` node of one Forwarded element, or undefined. */
export function forwardedFor(element: string): ParsedIp | undefined {
  return forOf(argString('element', element, 'one element of a Forwarded header (a string)'));
}

/** A trust check from addresses, CIDR blocks and presets, or a predicate; `name` names the option in its errors. */
export function trustCheck(option: TrustProxyOption, name = 'trustProxy'): TrustCheck {
  if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('name', "the option's name (a non-empty string)", name);
  return trustCheckOf(option, name);
}

/** Whether `check` trusts `address` (false for text that is not an address). */
export function isTrusted(check: TrustCheck, address: string): boolean {
  if (typeof check !== 'function') throw new InvalidArgumentError('check', TRUST, check);
  return isTrustedOf(check, argString('address', address, 'an address (a string)'));
}

/** Ceil of ms to whole seconds, within MAX_DELTA_SECONDS (Infinity gives the cap). */
export function deltaSeconds(ms: number): number {
  return headers.deltaSeconds(argNumber('ms', ms, 0));
}

/** A Structured Field String: printable ASCII, `"` and `\` escaped, anything else `_`. */
export function sfString(s: string): string {
  return headers.sfString(argString('s', s, 'a string'));
}

function argFacts(name: string, value: unknown): PolicyFacts {
  if (!isObject(value)) throw new InvalidArgumentError(name, 'PolicyFacts (policy, limit, remaining, windowMs, resetMs)', value);
  const policy = value['policy'];
  if (typeof policy !== 'string' || policy === '') throw new InvalidArgumentError(`${name}.policy`, 'a policy name (a non-empty string)', policy);
  argNumber(`${name}.limit`, value['limit'], Number.MIN_VALUE, Number.MAX_VALUE);
  argNumber(`${name}.remaining`, value['remaining'], 0, Number.MAX_VALUE);
  argNumber(`${name}.windowMs`, value['windowMs'], Number.MIN_VALUE, Number.MAX_VALUE);
  argNumber(`${name}.resetMs`, value['resetMs'], 0, Number.MAX_VALUE);
  return value as unknown as PolicyFacts;
}

function argFactList(value: unknown): readonly PolicyFacts[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError('facts', 'an array of PolicyFacts', value);
  value.forEach((f, i) => argFacts(`facts[${i}]`, f));
  return value as readonly PolicyFacts[];
}

const seconds = (name: string, value: unknown): number => argInt(name, value, 0, MAX_DELTA_SECONDS);

type RefusedAt = { readonly index: number; readonly seconds: number };

function argRefused(value: unknown, facts: readonly PolicyFacts[]): RefusedAt | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new InvalidArgumentError('refused', 'the refused policy (an object with index and seconds) or undefined', value);
  argKnownFields('refused', value, ['index', 'seconds'], 'refused');
  argInt('refused.index', value['index'], 0, facts.length - 1);
  seconds('refused.seconds', value['seconds']);
  return value as unknown as RefusedAt;
}

/** One RateLimit-Policy item: `"name";q=..;w=..`. */
export function policyItem(facts: PolicyFacts): string {
  return headers.policyItem(argFacts('facts', facts));
}

/** One RateLimit item: `"name";r=..;t=..`; `tSeconds` overrides t (a refused policy's retry time). */
export function limitItem(facts: PolicyFacts, tSeconds?: number): string {
  return headers.limitItem(argFacts('facts', facts), tSeconds === undefined ? undefined : seconds('tSeconds', tSeconds));
}

/** The rate-limit headers of `style` for `facts`; `refused`: the index of the policy that refused and its retry time, seconds. */
export function rateLimitHeaders(style: HeaderStyle, facts: readonly PolicyFacts[], refused?: RefusedAt): HeaderPair[] {
  argOneOf('style', style, headers.HEADER_STYLES);
  return headers.rateLimitHeaders(style, argFactList(facts), argRefused(refused, facts));
}

/** Retry-After seconds for a refusal, never before the `t` of a reported policy with nothing left; undefined for Infinity. */
export function retryAfterSeconds(retryAfterMs: number, facts: readonly PolicyFacts[], refused?: RefusedAt): number | undefined {
  argNumber('retryAfterMs', retryAfterMs, 0);
  return headers.retryAfterSeconds(retryAfterMs, argFactList(facts), argRefused(refused, facts));
}

const reason = (value: unknown): RejectionReason => argOneOf('reason', value, REJECTION_REASONS, 'a rejection reason (');

/** 429 for rate_limited and quota; 503 for every capacity reason. */
export function statusOf(r: RejectionReason): RefusalStatus {
  return statusOfValid(reason(r));
}

/** A problem-details object (RFC 9457) for a refusal; `detail` is said instead of the reason's own sentence. */
export function problem(r: RejectionReason, violated: readonly string[], retryAfterS: number | undefined, detail?: string): Problem {
  reason(r);
  if (!Array.isArray(violated)) throw new InvalidArgumentError('violated', 'an array of policy names (strings)', violated);
  violated.forEach((v, i) => argString(`violated[${i}]`, v, 'a policy name (a string)'));
  if (retryAfterS !== undefined) seconds('retryAfterS', retryAfterS);
  if (detail !== undefined) argString('detail', detail, 'a sentence (a string) or undefined');
  return problemOf(r, violated, retryAfterS, detail);
}

/** `failure` for a 5xx status, else `success`. */
export function defaultClassify(status: number): Outcome {
  return classifyOf(argInt('status', status, 100, 999));
}

/** The path of a request target without its query; `/` for none. */
export function pathOf(url: string | undefined): string {
  if (url !== undefined) argString('url', url, 'a request target (a string) or undefined');
  return pathOfValid(url);
}

function argPairs(name: string, value: unknown): readonly HeaderPair[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(name, 'an array of [name, value] string pairs', value);
  value.forEach((p: unknown, i) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string') throw new InvalidArgumentError(`${name}[${i}]`, 'a [name, value] pair of strings', p);
  });
  return value as readonly HeaderPair[];
}

/** Set each header pair on `res`, in order. */
export function setHeaders(res: Parameters<typeof setHeadersOf>[0], pairs: readonly HeaderPair[]): void {
  if (!isObject(res) || typeof res['setHeader'] !== 'function') throw new InvalidArgumentError('res', 'a response with setHeader()', res);
  setHeadersOf(res, argPairs('headers', pairs));
}

const REFUSED = "a refused decision (type 'rejected', with status, headers and body)";

/** Answer a refusal: status, headers, problem+json body; nothing when headers already went out. */
export function writeRefusal(res: Parameters<typeof writeRefusalOf>[0], refusal: Refused): void {
  if (!isObject(res) || typeof res['setHeader'] !== 'function' || typeof res['end'] !== 'function') throw new InvalidArgumentError('res', 'a node:http ServerResponse (headersSent, setHeader(), end())', res);
  const r = refusal as unknown;
  if (!isObject(r) || r['type'] !== 'rejected' || (r['status'] !== 429 && r['status'] !== 503) || typeof r['body'] !== 'string') throw new InvalidArgumentError('refusal', REFUSED, refusal);
  argPairs('refusal.headers', r['headers']);
  writeRefusalOf(res, refusal);
}
