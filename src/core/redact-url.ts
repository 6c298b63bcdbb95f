/**
 * The one redaction of a URL for error messages, metric labels, logs and /status: the broker
 * adapters' addresses and the Redis store's URL (a --check error, the gateway's store status).
 */

/**
 * `url` with its password replaced by `***`, the rest as written (WHATWG's normal form when it
 * parses). A URL that does not parse, parses with no host (`redis:/u:pw@h`, a slash short: all of
 * it a path), or has an '@' after its authority (`redis://u:2024/pw@h` parses as host `u`, port
 * 2024 and a path `/pw@h`: a raw '/', '?' or '#' in the password ended the authority early) is
 * taken as `scheme://user:password@rest` with the credentials up to its last '@' — a password may
 * hold '@', ':', '/', '?' or '#' — and shows `user:***@`; credentials without a ':' are dropped
 * (they may be a password alone).
 */
export function redactUrl(url: string): string {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (u !== undefined && u.host !== '' && !`${u.pathname}${u.search}${u.hash}`.includes('@')) {
    if (u.password !== '') u.password = '***';
    return u.toString().replace(/\/$/, '');
  }
  const m = /^([a-z][a-z0-9+.-]*:\/*)?([^]*)@/i.exec(url);
  if (m === null) return url;
  const scheme = m[1] ?? '';
  const credentials = m[2]!;
  const colon = credentials.indexOf(':');
  const shown = colon === -1 ? '' : `${credentials.slice(0, colon)}:***@`;
  return scheme + shown + url.slice(m[0].length);
}

/** A string that may be a URL carrying a user (and so perhaps a password). */
export const URL_WITH_USER = /^[a-z][a-z0-9+.-]*:[^]*@/i;

/** A value given as a string, quoted as an error message shows it: a URL without its password. */
export function quotedValue(v: string): string {
  return JSON.stringify(URL_WITH_USER.test(v) ? redactUrl(v) : v);
}
