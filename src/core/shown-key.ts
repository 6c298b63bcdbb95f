/**
 * How a tenant key is shown where people and metrics backends can read it (a dashboard, a
 * metric label): by default as a stable short hash, because the key may be a secret — an API
 * key, or a value derived from an Authorization header — and whoever can read a dashboard or
 * scrape /metrics must not learn it. The hash is stable (the same key shows the same value in
 * every process, after every restart), so a line can be followed over time and matched across
 * workers; an operator finds a known key's line by hashing it the same way:
 *
 *   printf %s 'key:<the API key>' | sha256sum | cut -c1-12
 *
 * The key's namespace (`key:`, `user:`) stays readable; an address (`ip:…`) is shown as it is:
 * it is no secret (every access log has it), and it is what an operator blocks. `'raw'`
 * shows every key as it is, for a deployment whose keys are not secrets.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';
import { optOneOf } from './options.js';

/** `'hash'`: a stable short hash (the default); `'raw'`: the key as the limiter meters it. */
export type TenantKeys = 'hash' | 'raw';

/** Hex digits of SHA-256 shown: 48 bits, so 100,000 keys share one with a chance of about 1 in 50,000. */
const SHOWN_HEX = 12;

/** The key's namespace as written (`key:`, `user:`), shown as it is; '' for none. */
function namespaceOf(key: string): string {
  return /^[a-z][a-z0-9]*:/.exec(key)?.[0] ?? '';
}

/** Exported (sluice/core): a key that is not a string threw "key.startsWith is not a function". */
function argKey(key: unknown): void {
  if (typeof key !== 'string') throw new InvalidArgumentError('key', 'a tenant key (a string)', key);
}

/** `key` as shown under `mode`. */
export function shownKey(key: string, mode: TenantKeys = 'hash'): string {
  argKey(key);
  if (mode !== 'hash' && mode !== 'raw') throw new InvalidArgumentError('mode', 'one of "hash", "raw"', mode);
  if (mode === 'raw' || key.startsWith('ip:')) return key;
  return `${namespaceOf(key)}#${createHash('sha256').update(key).digest('hex').slice(0, SHOWN_HEX)}`;
}

/**
 * `key` as a store names it when its keys must not show it (a Redis key browser, SCAN,
 * MONITOR): the namespace, then the whole SHA-256 of the key, base64url — never shared by two
 * keys, as a short hash could be (two tenants would share one bucket). An address as it is.
 */
export function storedKey(key: string): string {
  argKey(key);
  if (key.startsWith('ip:')) return key;
  return `${namespaceOf(key)}#${createHash('sha256').update(key).digest('base64url')}`;
}

/** Validate a `tenantKeys` option (named `option` in the error). */
export function optTenantKeys(option: string, value: unknown): TenantKeys {
  return optOneOf(option, value ?? 'hash', ['hash', 'raw'] as const);
}
