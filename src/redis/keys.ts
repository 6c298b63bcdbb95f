/**
 * Key layout. Every key sluice writes is
 *
 *   <keyPrefix><store name>{<tag>}:<kind>
 *
 * where <tag> is the caller's key with `%` and `}` percent-encoded (`%25`, `%7D`), or `%` for
 * the empty key. Redis Cluster hashes only what is between the first `{` and the next `}`,
 * so every key of one caller's key (its token-bucket, GCRA and sliding-window states, or a
 * concurrency limit's leases and demands) lands in one slot: a decision is one script on one
 * node, and deleting a key's states is one multi-key DEL. The encoding is injective (two
 * caller keys never share a Redis key) and the tag never empty (an empty tag would hash the
 * whole key, and a key's states could land on different nodes).
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError, InvalidOptionError } from '../core/errors.js';
import { storedKey } from '../core/shown-key.js';
import type { TenantKeys } from '../core/shown-key.js';

/** The hash tag of a caller's key, braces included. */
export function hashTag(key: string): string {
  // An array or a function has a length and no includes(): it read as the empty key, `{%}`.
  if (typeof key !== 'string') throw new InvalidArgumentError('key', "a string (a caller's key)", key);
  if (key.length === 0) return '{%}';
  const enc = key.includes('%') || key.includes('}') ? key.replace(/%/g, '%25').replace(/\}/g, '%7D') : key;
  return `{${enc}}`;
}

/**
 * Check a prefix or store name: it comes before the tag, so a brace in it would move the
 * tag. Returns it.
 */
export function keyPart(option: string, value: unknown): string {
  if (typeof value !== 'string' || /[{}]/.test(value)) throw new InvalidOptionError(option, 'a string without "{" or "}" (they would move the hash tag that keeps a decision\'s keys on one cluster slot)', value);
  return value;
}

/**
 * The longest name (a caller's key or a limit's name, after `keyNames`), in UTF-16 code units,
 * that the store writes into Redis as it is. A longer one is named by its SHA-256 instead
 * ({@link LONG_KEY}): a caller's 20 MB key sent as it is cost a script call that ran past the
 * store's timeout (three of them opened the breaker, and every tenant's decisions fell back to
 * `onStoreError`), and each of its states kept 20 MB in Redis.
 */
export const MAX_STORE_KEY_LENGTH = 1024;

/**
 * How a name longer than {@link MAX_STORE_KEY_LENGTH} is written: this, then its SHA-256 in
 * base64url. A name that begins so itself is hashed too, so a name of this form is always a
 * hash, and two names share one only by a SHA-256 collision. `storedKey`'s names ('hash') never
 * begin so: theirs is `#` and base64url, which has no `:`.
 */
const LONG_KEY = '#sha256:';

/** `name` as written into Redis: itself, or {@link LONG_KEY} and its hash when too long (or of that form). */
export function boundedName(name: string): string {
  if (name.length <= MAX_STORE_KEY_LENGTH && !name.startsWith(LONG_KEY)) return name;
  return LONG_KEY + createHash('sha256').update(name).digest('base64url');
}

const hashedBounded = (key: string): string => boundedName(storedKey(key));

/**
 * What a caller's key (or a limit's name) is called in Redis under `keyNames`: itself ('raw',
 * or not set), or its hash ({@link storedKey}); either way no longer than about
 * MAX_STORE_KEY_LENGTH ({@link boundedName}: storedKey keeps an address, `ip:…`, as it is,
 * whatever its length). Before the hash tag is made of it: a hashed name keeps its key's
 * states on one slot as the raw one did.
 */
export function keyNamer(keyNames: TenantKeys | undefined): (key: string) => string {
  return keyNames === 'hash' ? hashedBounded : boundedName;
}

/** The suffix of each kind of state. */
export const KIND = {
  'token-bucket': ':t',
  gcra: ':g',
  'sliding-window': ':s',
  leases: ':leases',
  breaker: ':breaker',
} as const;

/** The Redis key of `key`'s state of `kind` under `base` (keyPrefix + store name). */
export function stateKey(base: string, key: string, kind: keyof typeof KIND): string {
  return base + hashTag(key) + KIND[kind];
}

/** The rate algorithms' kinds of state. */
type RateKind = 'token-bucket' | 'gcra' | 'sliding-window';

/**
 * A store's state keys ({@link stateKey} under one base) by caller key, built once per key
 * instead of once per decision: a key is three concatenations (cons strings), then flattened
 * again when it is written — about 150 B of young garbage per decision.
 *
 * Bounded, and stable when full: a full map takes no new keys (its entries stay, in the old
 * generation, costing scavenges nothing), and is emptied to follow the keys in use only after
 * `64 · max` misses. Emptying it whenever it filled would, with more distinct keys in turn
 * than it holds, keep thousands of entries young until each scavenge copied and promoted
 * them: measured at 100,000 keys, 2.5 times the GC time per decision of no cache at all
 * (after `4 · max` misses: still about 2 times).
 */
export class StateKeys {
  readonly #base: string;
  readonly #max: number;
  /** What a caller's key is named in Redis: itself, or its hash (storedKey). */
  readonly name: (key: string) => string;
  readonly #maps: Record<RateKind, Map<string, string>> = { 'token-bucket': new Map(), gcra: new Map(), 'sliding-window': new Map() };
  /** Misses since the maps were last emptied while one of them was full. */
  #missesFull = 0;

  constructor(base: string, max: number, name: (key: string) => string = boundedName) {
    this.#base = base;
    this.#max = max;
    this.name = name;
  }

  of(key: string, kind: RateKind): string {
    const m = this.#maps[kind];
    const found = m.get(key);
    if (found !== undefined) return found;
    const k = stateKey(this.#base, this.name(key), kind);
    // A long key is not kept: the map would hold the caller's string (megabytes, for all we know).
    if (m.size < this.#max && key.length <= MAX_STORE_KEY_LENGTH) m.set(key, k);
    else if (++this.#missesFull >= 64 * this.#max) {
      this.#missesFull = 0;
      m.clear();
    }
    return k;
  }
}

/** CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with: polynomial 0x1021, init 0. */
const CRC16 = ((): Uint16Array => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

const encoder = new TextEncoder();

/**
 * The Redis Cluster hash slot of a key (0..16383), by Redis's rule: when the key has a `{`
 * followed by a `}` with something between them, only that text is hashed.
 */
export function keySlot(key: string): number {
  let s = key;
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) s = key.slice(open + 1, close);
  }
  const bytes = encoder.encode(s);
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ byte) & 0xff]!;
  return crc & 16383;
}
