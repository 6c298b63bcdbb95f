/**
 * The one redaction of a URL for error messages, metric labels, logs and /status: the broker
 * adapters' addresses and the Redis store's URL (a --check error, the gateway's store status).
 */

/**
 * `url` with its password replaced by `***`. A URL that does not parse, or parses with no host
 * (`redis:/u:pw@h`, a slash short: all of it a path), loses everything from its scheme to its
 * last '@' — a password may hold '@', ':' or '/'.
 */
export function redactUrl(url: string): string {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (u !== undefined && u.host !== '') {
    if (u.password !== '') u.password = '***';
    return u.toString().replace(/\/$/, '');
  }
  return url.replace(/^([a-z][a-z0-9+.-]*:\/*)?[^]*@/i, '$1');
}

/** A string that may be a URL carrying a user (and so perhaps a password). */
export const URL_WITH_USER = /^[a-z][a-z0-9+.-]*:[^]*@/i;

/** A value given as a string, quoted as an error message shows it: a URL without its password. */
export function quotedValue(v: string): string {
  return JSON.stringify(URL_WITH_USER.test(v) ? redactUrl(v) : v);
}
