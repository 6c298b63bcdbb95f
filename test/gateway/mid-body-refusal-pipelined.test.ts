// A body refused in the middle of its upload — 413 (its chunks went over maxBodySize), 408 (it did
// not come within bodyTimeout), 503 body_memory_full (the bodies held together filled bodyMemory) —
// is answered with Connection: close; the client may still send the rest of it, and a request it
// pipelined behind it must not be served: the connection ends with that answer. Checked for
// early429 (each held on main already: node:http's parser stops with the lingering close), kept
// as guards — under a policy too, whose request is now decided while its body arrives.
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig, PolicyConfig } from '../../src/gateway/index.js';
import { cleanup, oneRoute, sleep, startInProcess, within } from './helpers.js';
import { rawSocket } from './raw-client.js';
import { recordingUpstream, statuses } from './upload-client.js';

afterEach(cleanup);
const chunk = (n: number): string => `${n.toString(16)}\r\n${'a'.repeat(n)}\r\n`;
const NEXT = 'GET /free/next HTTP/1.1\r\nHost: gw\r\n\r\n';

/**
 * Send `head` and `first`, wait for `answered` status lines (`before` may run meanwhile), then
 * the rest of the body with a request pipelined behind it; what came back once the gateway closed.
 */
async function refusedThenPipelined(url: string, head: string, first: string, rest: string): Promise<{ text: string; closed: boolean }> {
  const { socket, text, closed } = rawSocket(url);
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  socket.write(head + first);
  expect(await within(10_000, () => statuses(text()).length > 0)).toBe(true);
  if (!isClosed) socket.write(rest + NEXT);
  await Promise.race([closed, sleep(3_000)]);
  const r = { text: text(), closed: isClosed };
  socket.destroy();
  return r;
}

const routes = (extra: Partial<GatewayConfig['routes'][number]> = {}): GatewayConfig['routes'] => [{ path: '/free', exempt: true }, { path: '/', ...extra }];

describe('a request pipelined behind a body refused in the middle of its upload', () => {
  it('413 (chunks over maxBodySize): not served, the connection closes after the answer', async () => {
    const up = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '5s', { routes: routes({ maxBodySize: '1kb' }) }));
    const head = 'POST /up HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n';
    // 600 bytes, then (once past the limit) 600 more: refused at the second chunk's size line.
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write(head + chunk(600));
    await sleep(100);
    socket.write(`${chunk(600)}0\r\n\r\n${NEXT}`);
    await Promise.race([closed, sleep(3_000)]);
    socket.destroy();
    expect(statuses(text())).toEqual([413]);
    await sleep(200);
    expect(up.seen).toEqual([]);
    expect(gw.status().counters.bodyTooLarge).toBe(1);
  }, 30_000);

  it('408 (body too slow): not served once the rest of the body comes — with no policy, rate limits, a concurrency limit', async () => {
    const up = await recordingUpstream();
    const policies: (PolicyConfig | undefined)[] = [undefined, { rateLimits: [{ rate: '100/s', burst: 10 }] }, { concurrency: { limit: 2, queue: 5, queueTimeout: '5s' } }];
    for (const policy of policies) {
      const gw = await startInProcess(oneRoute(up.url, '5s', { server: { bodyTimeout: '1s' }, routes: routes(policy === undefined ? {} : { policy }) }));
      const r = await refusedThenPipelined(gw.url, 'POST /up HTTP/1.1\r\nHost: gw\r\nContent-Length: 100\r\n\r\n', 'a'.repeat(10), 'a'.repeat(90));
      expect(statuses(r.text), JSON.stringify(policy)).toEqual([408]);
      await sleep(200);
      expect(up.seen).toEqual([]);
      expect(gw.status().counters.bodyTimeouts).toBe(1);
    }
  }, 30_000);

  it('413 behind a pipelined GET, all in one write: the GET served, the 413 in its turn, nothing after it', async () => {
    const up = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '5s', { routes: routes({ maxBodySize: '1kb' }) }));
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write(`GET /free/first HTTP/1.1\r\nHost: gw\r\n\r\nPOST /up HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(600)}${chunk(600)}0\r\n\r\n${NEXT}`);
    await Promise.race([closed, sleep(3_000)]);
    socket.destroy();
    expect(statuses(text())).toEqual([200, 413]);
    await sleep(200);
    expect(up.seen).toEqual(['GET /free/first 0']);
  }, 30_000);

  it('503 body_memory_full: not served once the rest of the body comes', async () => {
    const up = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '5s', { server: { bodyMemory: '64kb', maxBodySize: '60kb', bodyTimeout: '10s' }, routes: routes() }));
    // Another upload holds 40 kB of the 64 kB, still arriving.
    const holder = rawSocket(gw.url);
    holder.socket.write(`POST /up HTTP/1.1\r\nHost: gw\r\nContent-Length: 50000\r\n\r\n${'h'.repeat(40_000)}`);
    expect(await within(5_000, () => gw.status().memory.bodies.used >= 40_000)).toBe(true);
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write('POST /up HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n' + chunk(10_000));
    await sleep(100);
    // 30 kB more: over what is left of the budget in the middle of the body.
    socket.write(chunk(30_000));
    expect(await within(5_000, () => statuses(text()).length > 0)).toBe(true);
    socket.write(`${chunk(10)}0\r\n\r\n${NEXT}`);
    await Promise.race([closed, sleep(3_000)]);
    socket.destroy();
    holder.socket.destroy();
    expect(statuses(text())).toEqual([503]);
    await sleep(200);
    expect(up.seen).toEqual([]);
    expect(gw.status().counters.bodyMemoryFull).toBe(1);
  }, 30_000);
});

