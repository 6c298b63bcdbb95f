/**
 * Who is the tenant: the key a request's rate limits are metered under. From a header (an
 * API key), a function (the authenticated user), or the client address; a request without
 * the header, or for which the function returns nothing, falls back to its address, so
 * every request has a key. Keys are namespaced (`ip:`, `key:`) so a client cannot name
 * another source's key, and long keys are hashed so a huge header cannot grow the store.
 */
import { createHash } from 'node:crypto';
import { InvalidOptionError } from '../core/errors.js';
import type { ClientIpConfig, HttpRequestLike } from './client-ip.js';
import { clientKey, headerText } from './client-ip.js';

/**
 * `'ip'`: the client address. `{ header }`: that header's value (an API key), the address
 * when it is absent. A function: its string (the authenticated user, say), the address when
 * it returns undefined or an empty string.
 */
export type TenantOption<R> = 'ip' | { readonly header: string } | ((req: R) => string | undefined);

/** Keys longer than this are replaced by a SHA-256 digest. */
export const MAX_KEY_LENGTH = 128;

export type TenantResolver<R> = (req: R) => string;

const addressKeys = new WeakMap<object, string>();

/** Build the resolver once; validates the option. */
export function tenantResolver<R extends HttpRequestLike>(option: TenantOption<R>, ip: ClientIpConfig): TenantResolver<R> {
  // Without trusted proxies the key only depends on the socket: remember it per connection.
  const byAddress =
    ip.trusted === undefined
      ? (req: R): string => {
          const socket = req.socket;
          if (socket === null || socket === undefined) return `ip:${clientKey(req, ip)}`;
          let k = addressKeys.get(socket);
          if (k === undefined) {
            k = `ip:${clientKey(req, ip)}`;
            addressKeys.set(socket, k);
          }
          return k;
        }
      : (req: R): string => `ip:${clientKey(req, ip)}`;
  if (option === 'ip') return byAddress;
  if (typeof option === 'function') {
    return (req) => {
      const k = option(req);
      return typeof k === 'string' && k !== '' ? `user:${bounded(k)}` : byAddress(req);
    };
  }
  if (typeof option === 'object' && option !== null && typeof option.header === 'string' && option.header !== '') {
    const name = option.header.toLowerCase();
    return (req) => {
      const v = asciiOnly(headerText(req.headers[name]));
      return v !== undefined && v !== '' ? `key:${bounded(v)}` : byAddress(req);
    };
  }
  throw new InvalidOptionError('tenant', "'ip', { header: string } or a function", option);
}

/**
 * A header key without its bytes beyond ASCII (node reads header bytes as latin1): a spent API
 * key padded with a no-break space (0xA0) was a fresh bucket per padding, while an upstream that
 * trims (JavaScript's trim, Python's strip) reads the spent key. Dropped, such bytes fold every
 * padding onto the key itself; two keys that differ only in them share a bucket, which costs a
 * client nothing it could not do by sending the key. The gateway refuses them outright (400
 * bad_identity_header).
 */
function asciiOnly(v: string | undefined): string | undefined {
  return v === undefined || !NOT_ASCII.test(v) ? v : v.replace(NOT_ASCII_ALL, '');
}
const NOT_ASCII = /[^\x00-\x7f]/;
const NOT_ASCII_ALL = /[^\x00-\x7f]/g;

/** The prefix of a key metered by its hash (a long one, or one written in that form). */
const HASHED = 'sha256:';

/**
 * A key as metered: as it is, or `sha256:<its SHA-256, base64url>` when longer than
 * MAX_KEY_LENGTH — or when it starts with `sha256:` itself: written as the hashed form of a
 * long key, it was metered as written, in that key's bucket (hostile pass). So a key in that
 * form is always a hash, and two keys share one only by a SHA-256 collision.
 */
function bounded(key: string): string {
  return key.length <= MAX_KEY_LENGTH && !key.startsWith(HASHED) ? key : `${HASHED}${createHash('sha256').update(key).digest('base64url')}`;
}
