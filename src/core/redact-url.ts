/**
 * The one redaction of a URL for error messages, metric labels, logs and /status: the broker
 * adapters' addresses and the Redis store's URL (a --check error, the gateway's store status).
 */

/** `url` with its password replaced by `***`; a URL that does not parse loses everything up to the last '@' of its authority (a password may hold '@' or ':'). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^/]*@/, '//');
  }
}
