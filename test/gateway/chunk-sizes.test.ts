// A chunked body whose chunk sizes declare more than maxBodySize is refused 413 at once, its
// limit stated — as a Content-Length over it is — not 408 after bodyTimeout (hostile-5:
// `FFFFFFFFFFFFFFFF`, 2^64 - 1 bytes, is a size the parser takes, and the client then sent
// nothing). Nothing is forwarded. Chunked bodies within the limit pass byte for byte, however
// their reads fall. A size past 2^64 - 1 stays the parser's 400 bad_chunk (bad-requests.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { cleanup, get, oneRoute, sleep, startInProcess, upstream } from './helpers.js';
import { rawConversation, rawExchange, rawSocket } from './raw-client.js';

afterEach(cleanup);

const head = (extra = ''): string => `POST /x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n${extra}\r\n`;
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

/** A gateway with a body limit (1 kB) and a bodyTimeout far beyond every wait here, before an upstream that records each body. */
async function gateway(maxBodySize: `${number}kb` = '1kb'): Promise<{ url: string; bodies: string[]; status: () => ReturnType<Awaited<ReturnType<typeof startInProcess>>['status']> }> {
  const bodies: string[] = [];
  const up = await upstream((req, res) => {
    let body = '';
    req.setEncoding('latin1').on('data', (d: string) => (body += d));
    req.on('end', () => {
      bodies.push(body);
      res.end('ok');
    });
  });
  const gw = await startInProcess(oneRoute(up.url, '5s', { server: { maxBodySize, bodyTimeout: '60s' } }));
  return { url: gw.url, bodies, status: () => gw.status() };
}

const TOO_LARGE = { status: 413, reason: 'body_too_large', detail: 'The request body is larger than 1024 bytes.' };

describe('chunk sizes over maxBodySize', () => {
  it('FFFFFFFFFFFFFFFF (and 0 + 16 Fs) in the same write as the head: 413 at once, nothing forwarded', async () => {
    const gw = await gateway();
    for (const size of ['FFFFFFFFFFFFFFFF', '0FFFFFFFFFFFFFFFF', '401']) {
      const r = await rawExchange(gw.url, `${head()}${size}\r\nhello`, 10_000);
      expect(r.timedOut, size).toBe(false);
      expect(JSON.parse(r.body), size).toEqual({ type: 'about:blank', title: 'Payload Too Large', ...TOO_LARGE });
      expect(r.head).toMatch(/\r\nconnection: close/i);
    }
    expect(gw.bodies).toEqual([]);
    expect(gw.status().counters.bodyTooLarge).toBe(3);
  });

  it('a size line sent after the head, in a later write: 413 as it arrives', async () => {
    const gw = await gateway();
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write(head());
    await sleep(50);
    socket.write('5\r\nhello\r\n');
    await sleep(50);
    socket.write('FFFFFFFF\r\nab');
    const t = setTimeout(() => socket.destroy(), 10_000);
    await closed;
    clearTimeout(t);
    expect(statuses(text())).toEqual([413]);
    expect(text()).toContain('"reason":"body_too_large"');
    expect(gw.bodies).toEqual([]);
  });

  it('sizes that add up past the limit: 413 at the size line that goes over, before its bytes', async () => {
    const gw = await gateway();
    const r = await rawExchange(gw.url, `${head()}300\r\n${'a'.repeat(0x300)}\r\n300\r\nb`, 10_000);
    expect(JSON.parse(r.body)).toMatchObject(TOO_LARGE);
    expect(gw.bodies).toEqual([]);
  });

  it('with Expect: 100-continue, the size line after the 100: 413', async () => {
    const gw = await gateway();
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write(head('Expect: 100-continue\r\n'));
    for (let i = 0; i < 300 && !text().includes('100 Continue'); i++) await sleep(10);
    socket.write('FFFFFFFFFFFFFFFF\r\nab');
    const t = setTimeout(() => socket.destroy(), 10_000);
    await closed;
    clearTimeout(t);
    expect(statuses(text())).toEqual([100, 413]);
    expect(gw.bodies).toEqual([]);
  });

  it('with Expect: 100-continue and the size line sent with the head: 413 before admission, not after a wait in the queue', async () => {
    const held: ServerResponse[] = [];
    const up = await upstream((_req, res) => held.push(res));
    const gw = await startInProcess(oneRoute(up.url, '5s', { server: { maxBodySize: '1kb', bodyTimeout: '60s' }, routes: [{ path: '/', policy: { concurrency: { limit: 1, queue: 5, queueTimeout: '10s' } } }] }));
    const busy = get(`${gw.url}/busy`);
    for (let i = 0; i < 300 && held.length === 0; i++) await sleep(10);
    const r = await rawExchange(gw.url, `${head('Expect: 100-continue\r\n')}FFFFFFFFFFFFFFFF\r\nab`, 5_000);
    expect(JSON.parse(r.body)).toMatchObject(TOO_LARGE);
    expect(gw.status().queued).toBe(0);
    held.splice(0).forEach((res) => res.end('ok'));
    expect((await busy).status).toBe(200);
    expect(held).toEqual([]);
  });

  it('pipelined behind a chunked request within the limit: that one is served, this one 413', async () => {
    const gw = await gateway();
    const { text, open } = await rawConversation(gw.url, `${head()}5\r\nhello\r\n0\r\n\r\n${head()}FFFFFFFFFFFFFFFF\r\nab`, 10_000);
    expect(open).toBe(false);
    expect(statuses(text)).toEqual([200, 413]);
    expect(gw.bodies).toEqual(['hello']);
  });
});

describe('chunks too small to be worth their cost', () => {
  // hostile-5: a body in 1-byte chunks cost the gateway 1.5 s of CPU per megabyte.
  it('over 1024 chunks averaging under 16 bytes: 400 body_chunks_too_small, nothing forwarded; 1024 such chunks pass', async () => {
    const gw = await gateway('20kb');
    const tiny = await rawExchange(gw.url, `${head()}${'1\r\na\r\n'.repeat(1025)}`, 10_000);
    expect(JSON.parse(tiny.body)).toMatchObject({ status: 400, reason: 'body_chunks_too_small' });
    expect(tiny.head).toMatch(/\r\nconnection: close/i);
    expect(gw.bodies).toEqual([]);
    expect(gw.status().counters.bodyChunksTooSmall).toBe(1);
    // 1024 chunks of 1 byte: the count is checked past 1024.
    const atLimit = await rawExchange(gw.url, `${head('Connection: close\r\n')}${'1\r\na\r\n'.repeat(1024)}0\r\n\r\n`, 10_000);
    expect(atLimit.status).toBe(200);
    expect(gw.bodies.map((b) => b.length)).toEqual([1024]);
  });

  it('1100 chunks of 16 bytes pass', async () => {
    const gw = await gateway('20kb');
    const r = await rawExchange(gw.url, `${head('Connection: close\r\n')}${`10\r\n${'a'.repeat(16)}\r\n`.repeat(1100)}0\r\n\r\n`, 10_000);
    expect(r.status).toBe(200);
    expect(gw.bodies.map((b) => b.length)).toEqual([17_600]);
  });
});

describe('a head split across reads where it ends', () => {
  // hostile-12: a read that began inside the head's last CRLF CRLF was not followed, so a client
  // that split its head there passed every check of its chunk sizes (FFFFFFFF waited for bodyTimeout).
  const whole = `${head('Connection: close\r\n')}`;
  const cuts: [string, string][] = [1, 2, 3, 4].map((n) => [whole.slice(0, -n), whole.slice(-n)]);
  // Before the last header line's CRLF, then another header (one whose name begins with hex digits).
  cuts.push([whole.slice(0, -4), '\r\nAb: c\r\n\r\n']);

  /** `first`, then (a later read) `rest` + `body`: the statuses, and whether the connection closed within the bound. */
  async function split(url: string, first: string, rest: string): Promise<number[]> {
    const { socket, text, closed } = rawSocket(url);
    socket.write(first);
    await sleep(50);
    socket.write(rest);
    const t = setTimeout(() => socket.destroy(), 10_000);
    await closed;
    clearTimeout(t);
    return statuses(text());
  }

  it('FFFFFFFF is 413 at once and 1-byte chunks 400, wherever the cut; a body within the limit passes', async () => {
    const gw = await gateway('20kb');
    for (const [first, end] of cuts) {
      const cut = JSON.stringify(end);
      expect(await split(gw.url, first, `${end}FFFFFFFF\r\nab`), cut).toEqual([413]);
      expect(await split(gw.url, first, `${end}${'1\r\na\r\n'.repeat(1025)}`), cut).toEqual([400]);
      expect(await split(gw.url, first, `${end}5\r\nhello\r\n0\r\n\r\n`), cut).toEqual([200]);
    }
    expect(gw.bodies).toEqual(cuts.map(() => 'hello'));
    expect(gw.status().counters.bodyTooLarge).toBe(cuts.length);
    expect(gw.status().counters.bodyChunksTooSmall).toBe(cuts.length);
  });
});

describe('chunk framing that carries nothing: extensions, zeros before sizes', () => {
  // hostile-12: node:http bounds extensions per chunk (16 kB) and zeros not at all; maxBodySize
  // counted neither: 16-byte chunks behind them were read for all of bodyTimeout, never refused.
  it('more of it than body bytes, past 16 kB: 413 chunk_framing_too_large, nothing forwarded', async () => {
    const gw = await gateway('200kb');
    const bodies = [`10;x=${'e'.repeat(4_000)}\r\n${'a'.repeat(16)}\r\n`.repeat(6), `${'0'.repeat(4_000)}10\r\n${'a'.repeat(16)}\r\n`.repeat(6)];
    for (const body of bodies) {
      const r = await rawExchange(gw.url, `${head()}${body}0\r\n\r\n`, 10_000);
      expect(r.timedOut).toBe(false);
      expect(JSON.parse(r.body)).toMatchObject({ status: 413, reason: 'chunk_framing_too_large' });
      expect(r.head).toMatch(/\r\nconnection: close/i);
    }
    // One size line of zeros that does not end: refused as it arrives.
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write(`${head()}`);
    for (let i = 0; i < 40 && statuses(text()).length === 0; i++) {
      socket.write('0'.repeat(1_024));
      await sleep(5);
    }
    const t = setTimeout(() => socket.destroy(), 10_000);
    await closed;
    clearTimeout(t);
    expect(statuses(text())).toEqual([413]);
    expect(gw.bodies).toEqual([]);
    expect(gw.status().counters.bodyTooLarge).toBe(3);
  });

  it('a signature per 1 kB chunk (aws-chunked style), or sizes padded to 8 digits, pass; the body forwarded without them', async () => {
    const gw = await gateway('200kb');
    const sig = `;chunk-signature=${'f'.repeat(64)}`;
    const signed = await rawExchange(gw.url, `${head('Connection: close\r\n')}${`400${sig}\r\n${'a'.repeat(1_024)}\r\n`.repeat(100)}0${sig}\r\n\r\n`, 10_000);
    expect(signed.status).toBe(200);
    const padded = await rawExchange(gw.url, `${head('Connection: close\r\n')}${`00000010\r\n${'b'.repeat(16)}\r\n`.repeat(1_000)}00000000\r\n\r\n`, 10_000);
    expect(padded.status).toBe(200);
    expect(gw.bodies).toEqual(['a'.repeat(102_400), 'b'.repeat(16_000)]);
  });
});

describe('chunked bodies within maxBodySize', () => {
  const body = `5;ext=1\r\nhello\r\n1A\r\n${'b'.repeat(26)}\r\n0\r\nX-Trailer: t\r\n\r\n`;
  const want = `hello${'b'.repeat(26)}`;

  it('pass whole, written at once, byte by byte, and kept alive: the connection serves the next request after them', async () => {
    const gw = await gateway();
    expect((await rawExchange(gw.url, `${head('Connection: close\r\n')}${body}`)).status).toBe(200);
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write(head());
    for (const c of body) {
      socket.write(c);
      await sleep(1);
    }
    for (let i = 0; i < 300 && statuses(text()).length < 1; i++) await sleep(10);
    socket.write(`${head('Connection: close\r\n')}${body}`);
    const t = setTimeout(() => socket.destroy(), 10_000);
    await closed;
    clearTimeout(t);
    expect(statuses(text())).toEqual([200, 200]);
    expect(gw.bodies).toEqual([want, want, want]);
  });

  it('a request line the parser takes with two spaces, pipelined behind a body that reads as a chunk size: its own sizes are followed', async () => {
    const gw = await gateway();
    const first = 'POST /y HTTP/1.1\r\nHost: gw\r\nContent-Length: 10\r\n\r\nFFFFFFFF\r\n';
    const { text } = await rawConversation(gw.url, `${first}POST  /x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 10_000);
    expect(statuses(text)).toEqual([200, 200]);
    expect(gw.bodies).toEqual(['FFFFFFFF\r\n', 'hello']);
  });

  it('a body of exactly the limit passes', async () => {
    const gw = await gateway();
    const r = await rawExchange(gw.url, `${head('Connection: close\r\n')}200\r\n${'a'.repeat(512)}\r\n200\r\n${'b'.repeat(512)}\r\n0\r\n\r\n`);
    expect(r.status).toBe(200);
    expect(gw.bodies.map((b) => b.length)).toEqual([1024]);
  });
});
