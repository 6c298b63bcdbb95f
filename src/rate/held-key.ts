/**
 * The name a caller's key is held under in this process's memory (MemoryStore): the key itself,
 * or its SHA-256 past {@link MAX_HELD_KEY_LENGTH}, as the HTTP layer (tenant.ts, 128) and the
 * Redis store (boundedName, 1024) bound theirs. Held as it arrived, a run of hostile 1 MB keys
 * kept a megabyte each, up to `maxKeys` (100,000 by default) of them.
 */
import { createHash } from 'node:crypto';

/** Longest key held as it is, in UTF-16 code units; a longer one is held under its SHA-256. */
export const MAX_HELD_KEY_LENGTH = 1024;

/**
 * A hashed name begins so. A key that begins so is hashed too, whatever its length, so a short
 * key can never stand for a long one: two keys share a name only by a SHA-256 collision.
 */
const HASHED = '#sha256:';

/** `key` as held: itself, or {@link HASHED} and its SHA-256 in base64url (53 characters). */
export function heldKey(key: string): string {
  if (key.length <= MAX_HELD_KEY_LENGTH && !key.startsWith(HASHED)) return key;
  return HASHED + createHash('sha256').update(key).digest('base64url');
}
