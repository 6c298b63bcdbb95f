// A loopback TCP relay in front of a broker that the test can cut (every connection reset, the
// port refused) and mend (listening again on the same port): an outage of the network between
// the client and a shared broker, with the broker itself untouched.
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';

export class TcpCut {
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;

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

  /** Listen (again, on the same port once it had one). */
  mend(): Promise<void> {
    if (this.#server !== undefined) return Promise.resolve();
    const server = createServer((client) => {
      const upstream = connect(this.target);
      this.#track(client);
      this.#track(upstream);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  /** Reset every relayed connection and stop listening: connects are refused until mend(). */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.resetAndDestroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
