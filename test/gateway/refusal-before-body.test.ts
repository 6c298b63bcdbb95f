// A request refused by its policy (429 rate_limited, 503 concurrency / queue_full) while its
// body is still arriving is answered as soon as the decision is made, not after the upload:
// until body429 the gateway read the whole body first (50 MB at the client's pace) and only
// then asked the policy, so a refused client paid its whole upload for a 429. The refusal says
// Connection: close, the gateway reads and drops a bounded amount while the client takes it
// (a close with unread data is a reset that may wipe the answer out), then closes. Measured in
// bytes the client had sent when the status line came, not in time: the host may be busy.
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, oneRoute, sleep, startInProcess, within } from './helpers.js';
import { rawSocket } from './raw-client.js';
import { CHUNK, DECLARED, firstResponse, postHead, recordingUpstream, statuses, upload } from './upload-client.js';

afterEach(cleanup);

const big: Partial<GatewayConfig> = { server: { maxBodySize: '100mb', bodyMemory: '256mb' } };

describe('a request refused while its body is still arriving', () => {
  it('429 arrives with most of a 50 MB body unsent, whole, with Retry-After and Connection: close; the connection closes within the drain bound', async () => {
    const up = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '5s', { ...big, routes: [{ path: '/', policy: { rateLimits: [{ rate: '1/min', burst: 1 }] } }] }));
    expect((await get(gw.url, { path: '/first' })).status).toBe(200);
    for (const framing of [`Content-Length: ${DECLARED}`, 'Transfer-Encoding: chunked']) {
      const r = await upload(gw.url, postHead('/up', framing), { chunked: framing.startsWith('T') });
      // Before body429: no status within 40 chunks (4 MB) — the 429 came after the whole 50 MB.
      expect(r.sentAtStatus, framing).toBeDefined();
      expect(r.sentAtStatus!, framing).toBeLessThan(10 * CHUNK);
      const answer = firstResponse(r.text);
      expect(statuses(r.text), framing).toEqual([429]);
      expect(answer.head, framing).toMatch(/\r\nretry-after: \d+\r\n/i);
      expect(answer.head, framing).toMatch(/\r\nconnection: close$/im);
      // The client kept sending and still has the whole answer (no reset wiped it out).
      expect(answer.body.length, framing).toBe(answer.length);
      expect(JSON.parse(answer.body)).toMatchObject({ reason: 'rate_limited' });
      // Closed by the gateway while the client was still sending: LINGER_MS (1 s) at 1 MB/s, with room for a busy host.
      expect(r.sentAfterStatusToClose, framing).toBeDefined();
    }
    expect(up.seen).toEqual(['GET /first 0']);
    expect(gw.status().counters.rejected).toBe(2);
  }, 30_000);

  it('a request pipelined behind the refused body is not executed', async () => {
    const up = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '5s', { ...big, routes: [{ path: '/free', exempt: true }, { path: '/', policy: { rateLimits: [{ rate: '1/min', burst: 1 }] } }] }));
    expect((await get(gw.url, { path: '/first' })).status).toBe(200);
    // The first 100 kB before the answer, then the rest — 10 bytes, well within what the
    // gateway reads and drops before it closes — with a request behind it.
    const rest = Buffer.concat([Buffer.alloc(10, 98), Buffer.from('GET /free/next HTTP/1.1\r\nHost: gw\r\n\r\n')]);
    const r = await upload(gw.url, postHead('/up', `Content-Length: ${CHUNK + 10}`), { maxChunks: 1, afterStatus: (s) => s.write(rest) });
    expect(statuses(r.text)).toEqual([429]);
    await sleep(300);
    expect(up.seen).toEqual(['GET /first 0']);
    expect(gw.status().counters.requests).toBe(2);
  }, 30_000);

  it('an admitted upload is untouched: decided while it arrives, it reaches the upstream whole, counted admitted once', async () => {
    const up = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '5s', { ...big, routes: [{ path: '/', policy: { rateLimits: [{ rate: '100/s', burst: 10 }] } }] }));
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write(postHead('/up', `Content-Length: ${10 * CHUNK}`));
    for (let i = 0; i < 5; i++) {
      socket.write(Buffer.alloc(CHUNK, 97));
      await sleep(50);
    }
    // Half the body is in: decided (its unit spent), not admitted yet in the counters, nothing forwarded.
    expect(await within(5_000, () => gw.status().policies[0]!.gates[0]!.admitted === 1)).toBe(true);
    expect(gw.status().counters.admitted).toBe(0);
    expect(up.seen).toEqual([]);
    for (let i = 0; i < 5; i++) socket.write(Buffer.alloc(CHUNK, 97));
    expect(await within(5_000, () => statuses(text()).length === 1)).toBe(true);
    expect(statuses(text())).toEqual([200]);
    socket.destroy();
    await closed;
    expect(up.seen).toEqual([`POST /up ${10 * CHUNK}`]);
    const c = gw.status().counters;
    expect([c.admitted, c.rejected]).toEqual([1, 0]);
  }, 30_000);

  it('a slow uploader decided while it arrives is never counted admitted: 408, nothing forwarded', async () => {
    const up = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '5s', { server: { bodyTimeout: '1s' }, routes: [{ path: '/', policy: { rateLimits: [{ rate: '100/s', burst: 10 }] } }] }));
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write(`${postHead('/up', 'Content-Length: 100')}abc`);
    expect(await within(10_000, () => statuses(text()).length === 1)).toBe(true);
    expect(statuses(text())).toEqual([408]);
    await closed;
    const c = gw.status().counters;
    expect([c.admitted, c.rejected, c.bodyTimeouts]).toEqual([0, 0, 1]);
    expect(up.seen).toEqual([]);
    expect(gw.status().memory.bodies.used).toBe(0);
  }, 30_000);
});
