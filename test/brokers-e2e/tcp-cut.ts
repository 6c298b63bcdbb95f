// A loopback TCP relay in front of a broker that the test can cut (every connection reset, the
// port refused), stall (every connection, open or new, held open and never answered: a server
// that accepts and says nothing) and mend (relaying again on the same port): an outage of the
// network between the client and a shared broker, with the broker itself untouched.
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';

export class TcpCut {
  readonly #sockets = new Set<Socket>();
  /** Each relayed client's upstream connection. */
  readonly #upstreams = new Map<Socket, Socket>();
  #server: Server | undefined;
  #stalled = false;

  private constructor(
    readonly target: { readonly host: string; readonly port: number },
    public port: number,
  ) {}

  /** Relay a random free loopback port to `target`. */
  static async open(target: { host: string; port: number }): Promise<TcpCut> {
    const t = new TcpCut(target, 0);
    await t.mend();
    return t;
  }

  #track(s: Socket): void {
    this.#sockets.add(s);
    s.once('close', () => this.#sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  #relay(client: Socket): void {
    this.#track(client);
    if (this.#stalled) {
      client.resume(); // read and drop: the request is taken, never answered
      return;
    }
    const upstream = connect(this.target);
    this.#track(upstream);
    this.#upstreams.set(client, upstream);
    client.once('close', () => {
      this.#upstreams.delete(client);
      upstream.destroy();
    });
    upstream.once('close', () => {
      if (this.#upstreams.delete(client)) client.destroy();
    });
    client.pipe(upstream).pipe(client);
  }

  /** Listen (again, on the same port once it had one), relaying every new connection. */
  mend(): Promise<void> {
    this.#stalled = false;
    if (this.#server !== undefined) return Promise.resolve();
    const server = createServer((client) => this.#relay(client));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  /**
   * Answer nothing more: open connections stay open, what the client sends is read and dropped,
   * and new connections are accepted and treated the same (until mend(); those stay stalled).
   */
  stall(): void {
    this.#stalled = true;
    for (const [client, upstream] of this.#upstreams) {
      this.#upstreams.delete(client);
      client.unpipe(upstream);
      upstream.unpipe(client);
      upstream.destroy();
      client.resume();
    }
  }

  /** Reset every relayed connection and stop listening: connects are refused until mend(). */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.resetAndDestroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
