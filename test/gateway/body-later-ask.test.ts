// bodyask: a request decided before its body (body-in-flight.ts, or Expect: 100-continue) asks for
// its concurrency slot once the body is in (expect-continue.ts withBody). That ask waits like any
// request's: counted among the gateway's waiting requests (/status queued), refused 503 queue_full
// with Retry-After once server.maxQueued wait already. Until bodyask it went around the cap: a
// third upload waited in its gate's queue with two waiting already, and /status said 0 waited.
// Bodies are sent a while after their heads, so that they are not whole with them; every wait is
// on a state seen (bounded), never on time.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, oneRoute, sleep, startInProcess, within } from './helpers.js';
import { rawSocket } from './raw-client.js';
import { firstResponse, recordingUpstream, statuses } from './upload-client.js';

afterEach(cleanup);

/** Two policies of one slot and a queue of 2 each (a queue may not be longer than the cap), the gateway's cap 2. */
const config = (up: string): GatewayConfig => {
  const one = { concurrency: { limit: 1, queue: 2, queueTimeout: '20s' } };
  return oneRoute(up, '10s', { server: { maxQueued: 2 }, policies: { a: one, b: one }, routes: [{ path: '/a', policy: 'a' }, { path: '/b', policy: 'b' }] } as Partial<GatewayConfig>);
};

/** A raw POST of a 5-byte body whose head goes first and whose body follows once `sendBody` is called. */
function slowUpload(url: string, target: string, extra = ''): { sendBody: () => void; text: () => string; closed: Promise<void> } {
  const c = rawSocket(url);
  c.socket.write(`POST ${target} HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n${extra}\r\n`);
  return { sendBody: () => c.socket.write('hello'), text: c.text, closed: c.closed };
}

describe('the slot asked for once an upload is in', () => {
  it('is counted among the waiting requests, and refused queue_full past server.maxQueued', async () => {
    const held: ServerResponse[] = [];
    const up = await recordingUpstream((res) => (res.req.url?.startsWith('/a/hold') === true || res.req.url?.startsWith('/b/hold') === true ? held.push(res) : res.end('ok')));
    const gw = await startInProcess(config(up.url));
    const holders = [get(`${gw.url}/a/hold`), get(`${gw.url}/b/hold`)];
    expect(await within(5_000, () => up.seen.length === 2)).toBe(true);
    // Two uploads to /a: decided at their heads (room in a's queue), their slots asked once their bodies are in.
    const uploads = [slowUpload(gw.url, '/a/1'), slowUpload(gw.url, '/a/2')];
    expect(await within(5_000, () => gw.status().counters.requests === 4)).toBe(true);
    await sleep(50);
    for (const u of uploads) u.sendBody();
    expect(await within(5_000, () => gw.status().policies[0]!.gates[0]!.queued === 2)).toBe(true);
    // Before bodyask: 'expected false to be true' — the two waited in a's queue and the gateway counted none.
    expect(await within(2_000, () => gw.status().queued === 2)).toBe(true);
    // A third, to /b, whose gate has room in its queue: the gateway has 2 waiting, its cap.
    const third = slowUpload(gw.url, '/b/3');
    expect(await within(5_000, () => gw.status().counters.requests === 5)).toBe(true);
    await sleep(50);
    third.sendBody();
    // Before bodyask: no answer — it waited in b's queue, a third request waiting under a cap of 2.
    expect(await within(5_000, () => statuses(third.text()).length > 0)).toBe(true);
    const answer = firstResponse(third.text());
    expect(statuses(third.text())).toEqual([503]);
    expect(answer.head).toMatch(/\r\nretry-after: \d+\r\n/i);
    expect(JSON.parse(answer.body)).toMatchObject({ reason: 'queue_full' });
    // Its body was read: the connection is kept alive, as for the first ask refused at the cap with
    // its body read (until expectlater it closed: test/gateway/later-ask-refusals.test.ts), and no request of it reached the upstream.
    expect(answer.head).toMatch(/\r\nconnection: keep-alive$/im);
    expect(gw.status().policies[1]!.gates[0]!.queued).toBe(0);
    for (const r of held.splice(0)) r.end('held');
    expect((await Promise.all(holders)).map((r) => r.status)).toEqual([200, 200]);
    // The two waiting uploads are served in turn (a's slot freed by its holder), and the count falls back.
    expect(await within(10_000, () => statuses(uploads[0]!.text()).length + statuses(uploads[1]!.text()).length === 2)).toBe(true);
    expect([...statuses(uploads[0]!.text()), ...statuses(uploads[1]!.text())]).toEqual([200, 200]);
    expect(gw.status().queued).toBe(0);
    expect(up.seen.filter((s) => s.startsWith('POST')).sort()).toEqual(['POST /a/1 5', 'POST /a/2 5']);
  }, 40_000);
});
