/**
 * The request and response sluice/http reads, without sockets: a tenant's request (its key as
 * `x-api-key` and `x-tenant`, its address as the peer), and a response that finishes with a
 * status or is aborted by its client. Enough for HttpAdmission, nothing more.
 */

export class FakeRequest {
  readonly headers: Record<string, string>;
  readonly socket: { readonly remoteAddress: string };
  readonly method = 'GET';
  readonly url = '/';

  constructor(tenant: number) {
    const key = `tenant-${tenant}`;
    this.headers = { 'x-api-key': key, 'x-tenant': key, authorization: `Bearer ${key}` };
    this.socket = { remoteAddress: `10.${(tenant >>> 16) & 255}.${(tenant >>> 8) & 255}.${tenant & 255}` };
  }
}

export class FakeResponse {
  statusCode = 200;
  writableFinished = false;
  destroyed = false;
  closed = false;
  onFinish: ((status: number, retryAfterS: number | undefined) => void) | undefined;
  #listeners: (() => void)[] = [];

  on(event: 'close', listener: () => void): this {
    if (event === 'close') this.#listeners.push(listener);
    return this;
  }

  /** The upstream answered (or the gateway refused): the whole response went out, with its Retry-After if it had one. */
  finish(status: number, retryAfterS?: number): void {
    if (this.closed) return;
    this.statusCode = status;
    this.writableFinished = true;
    this.#close();
    this.onFinish?.(status, retryAfterS);
  }

  /** The client gave up first. */
  abort(): void {
    if (this.closed) return;
    this.destroyed = true;
    this.#close();
  }

  #close(): void {
    this.closed = true;
    const ls = this.#listeners;
    this.#listeners = [];
    for (const l of ls) l.call(this);
  }
}
