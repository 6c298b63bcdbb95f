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
import { InvalidOptionError } from '../core/errors.js';

/** The hash tag of a caller's key, braces included. */
export function hashTag(key: string): string {
  if (key.length === 0) return '{%}';
  const enc = key.includes('%') || key.includes('}') ? key.replace(/%/g, '%25').replace(/\}/g, '%7D') : key;
  return `{${enc}}`;
}

/**
 * Check a prefix or store name: it comes before the tag, so a brace in it would move the
 * tag. Returns it.
 */
export function keyPart(option: string, value: unknown): string {
  if (typeof value !== 'string' || /[{}]/.test(value)) throw new InvalidOptionError(option, 'a string without "{" or "}" (they would move the hash tag)', value);
  return value;
}

/** The suffix of each kind of state. */
export const KIND = {
  'token-bucket': ':tb',
  gcra: ':gcra',
  'sliding-window': ':sw',
  leases: ':leases',
  breaker: ':breaker',
} as const;

/** The Redis key of `key`'s state of `kind` under `base` (keyPrefix + store name). */
export function stateKey(base: string, key: string, kind: keyof typeof KIND): string {
  return base + hashTag(key) + KIND[kind];
}
