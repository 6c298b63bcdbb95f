// A raw client for Expect: 100-continue tests: it writes a head, waits to be told to continue,
// and reads whatever the gateway answers (expect-continue.test.ts, reload-expect.test.ts).
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** A client that writes its head, then waits for what the gateway says before (maybe) sending the body. */
export class ExpectClient {
  readonly #socket: Socket;
  #text = '';
  #waiters = new Set<() => void>();
  closed = false;

  constructor(url: string) {
    const u = new URL(url);
    this.#socket = connect(Number(u.port), u.hostname);
    this.#socket.setEncoding('latin1').on('data', (d: string) => {
      this.#text += d;
      for (const w of this.#waiters) w();
    });
    this.#socket.on('close', () => {
      this.closed = true;
      for (const w of this.#waiters) w();
    });
    this.#socket.on('error', () => undefined);
  }

  write(s: string): void {
    this.#socket.write(Buffer.from(s, 'latin1'));
  }

  get text(): string {
    return this.#text;
  }

  /** Resolves once `pred(text)` holds or the connection closed; rejects after 5 s. */
  until(pred: (text: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pred(this.#text) && !this.closed) return;
        this.#waiters.delete(check);
        clearTimeout(t);
        resolve(this.#text);
      };
      const t = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`nothing matched within 5 s; got ${JSON.stringify(this.#text)}`));
      }, 5_000);
      this.#waiters.add(check);
      check();
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  /** Close with a reset (RST), as a client that crashed or gave up does. */
  reset(): void {
    this.#socket.resetAndDestroy();
  }
}

export const head = (headers: string): string => `POST /x HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\n${headers}\r\n`;
/** A whole final response (status line, head, Content-Length body) is in `text`. */
export const finalResponse = (text: string): boolean => {
  const m = /HTTP\/1\.1 [2-5]\d\d [^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(text);
  if (m === null) return false;
  const cl = /content-length: *(\d+)/i.exec(m[1]!);
  return cl === null || text.length >= m.index + m[0].length + Number(cl[1]);
};
