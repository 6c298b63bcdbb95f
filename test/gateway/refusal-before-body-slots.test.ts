// early429: a policy with a concurrency limit or a breaker decides a body still arriving (or held
// back for 100 Continue) too, without holding a slot for it. Asked early, the concurrency gate only
// says whether it would refuse now what no wait could spare (its queue full, no queue, a wait past
// the budget); the breaker refuses when open. Until early429 such a policy read the whole body first
// (50 MB at the client's pace for a 503), and an Expect: 100-continue request asked for its slot at
// the head — a full gate cut a slow reader for a slot the upload gave back at once. An admitted
// upload asks for its slot once its body is in. Measured in bytes sent and cuts counted, never time.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway, GatewayConfig } from '../../src/gateway/index.js';
import { nonReaders, writeBig } from './big-response.js';
import { ExpectClient, finalResponse, head } from './expect-client.js';
import { cleanup, get, oneRoute, sleep, startInProcess, upstream, within } from './helpers.js';
import type { Reply } from './helpers.js';
import { rawSocket } from './raw-client.js';
import { CHUNK, firstResponse, postHead, recordingUpstream, statuses, upload } from './upload-client.js';

afterEach(cleanup);

const big = { maxBodySize: '100mb', bodyMemory: '256mb' } as const;

/** An upstream that holds `/hold` until `release()`, and answers anything else once its body is in. */
async function holdingUpstream(): Promise<{ seen: string[]; url: string; release: () => void }> {
  const held: ServerResponse[] = [];
  const up = await recordingUpstream((res) => (res.req.url === '/hold' ? held.push(res) : res.end('ok')));
  return { ...up, release: () => held.splice(0).forEach((r) => r.end('held')) };
}

/** Refused as it uploads: the status line came with under 1 MB of the 50 MB sent, whole, closing the connection. */
async function refusedEarly(url: string, status: number, reason: string): Promise<void> {
  const r = await upload(url, postHead('/up'));
  // Before early429: no status within 40 chunks (4 MB) — the policy was asked after the whole body.
  expect(r.sentAtStatus, reason).toBeDefined();
  expect(r.sentAtStatus!, reason).toBeLessThan(10 * CHUNK);
  expect(statuses(r.text)).toEqual([status]);
  const answer = firstResponse(r.text);
  expect(answer.head).toMatch(/\r\nretry-after: \d+\r\n/i);
  expect(answer.head).toMatch(/\r\nconnection: close$/im);
  expect(JSON.parse(answer.body)).toMatchObject({ reason });
}

function route(policy: NonNullable<GatewayConfig['routes'][number]['policy']>): Partial<GatewayConfig> {
  return { server: { ...big }, routes: [{ path: '/', policy }] } as Partial<GatewayConfig>;
}

/** One slot held by `/hold`, and the one place in the queue by `/wait`. */
async function queueFull(): Promise<{ up: Awaited<ReturnType<typeof holdingUpstream>>; gw: Gateway; holder: Promise<Reply>; waiter: Promise<Reply> }> {
  const up = await holdingUpstream();
  const gw = await startInProcess(oneRoute(up.url, '10s', route({ concurrency: { limit: 1, queue: 1, queueTimeout: '20s' } })));
  const holder = get(`${gw.url}/hold`);
  expect(await within(5_000, () => up.seen.length === 1)).toBe(true);
  const waiter = get(`${gw.url}/wait`);
  expect(await within(5_000, () => gw.status().policies[0]!.gates[0]!.queued === 1)).toBe(true);
  return { up, gw, holder, waiter };
}

describe('a policy with a concurrency limit or a breaker, asked while the body arrives', () => {
  it('every slot taken and no queue: 503 concurrency before the body', async () => {
    const up = await holdingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '10s', route({ concurrency: 1 })));
    const holder = get(`${gw.url}/hold`);
    expect(await within(5_000, () => up.seen.length === 1)).toBe(true);
    await refusedEarly(gw.url, 503, 'concurrency');
    up.release();
    expect((await holder).status).toBe(200);
    expect(up.seen).toEqual(['GET /hold 0']);
  }, 30_000);

  it('the queue full: 503 queue_full before the body, no one cut or queued for it', async () => {
    const { up, gw, holder, waiter } = await queueFull();
    await refusedEarly(gw.url, 503, 'queue_full');
    up.release();
    expect([(await holder).status, (await waiter).status]).toEqual([200, 200]);
    expect(up.seen).toEqual(['GET /hold 0', 'GET /wait 0']);
  }, 30_000);

  it('the breaker open: 503 circuit_open before the body', async () => {
    const failing = await upstream((req, res) => {
      req.resume();
      res.statusCode = 500;
      res.end('no');
    });
    const gw = await startInProcess(oneRoute(failing.url, '10s', route({ breaker: { failures: 2, openFor: '1m' } })));
    for (let i = 0; i < 2; i++) expect((await get(`${gw.url}/x`)).status).toBe(500);
    await refusedEarly(gw.url, 503, 'circuit_open');
  }, 30_000);

  it('Expect: 100-continue with the queue full: 503 queue_full, never a 100 Continue', async () => {
    const { up, gw, holder, waiter } = await queueFull();
    const c = new ExpectClient(gw.url);
    c.write(head('Content-Length: 5\r\n'));
    const answer = await c.until(finalResponse);
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer).not.toContain('100 Continue');
    expect(answer).toMatch(/\r\nRetry-After: \d+\r\n/i);
    expect(answer).toContain('"reason":"queue_full"');
    c.close();
    up.release();
    expect([(await holder).status, (await waiter).status]).toEqual([200, 200]);
  }, 30_000);

  it('admitted: no slot held while the body comes (another request takes it), the slot asked for once the body is in', async () => {
    const up = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '10s', route({ concurrency: { limit: 1, queue: 5, queueTimeout: '20s' } })));
    const { socket, text, closed } = rawSocket(gw.url);
    socket.write(postHead('/up', `Content-Length: ${4 * CHUNK}`));
    socket.write(Buffer.alloc(CHUNK, 97));
    await sleep(50);
    socket.write(Buffer.alloc(CHUNK, 97));
    const gate = (): { admitted: number; inFlight?: number } => gw.status().policies[0]!.gates[0]!;
    // Mid-upload: the one slot is another request's, and the upload is nobody's admission yet.
    expect((await get(`${gw.url}/other`)).status).toBe(200);
    expect([gate().admitted, gate().inFlight, gw.status().counters.admitted]).toEqual([1, 0, 1]);
    socket.write(Buffer.alloc(2 * CHUNK, 97));
    expect(await within(10_000, () => statuses(text()).length === 1)).toBe(true);
    expect(statuses(text())).toEqual([200]);
    socket.destroy();
    await closed;
    expect(up.seen).toEqual(['GET /other 0', `POST /up ${4 * CHUNK}`]);
    expect(await within(5_000, () => gate().inFlight === 0)).toBe(true);
    expect([gate().admitted, gw.status().counters.admitted, gw.status().counters.rejected]).toEqual([2, 2, 0]);
  }, 30_000);
});

/** One slot held by a client that does not read its 16 MB response; `cutAfter` 0s: a request that needs the slot may cut it at once. */
async function heldByNonReader(): Promise<{ gw: Gateway; seen: string[] }> {
  const seen: string[] = [];
  const up = await upstream((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${n}`);
      if (req.url === '/big') writeBig(res, 256);
      else res.end('ok');
    });
  });
  const gw = await startInProcess(
    oneRoute(up.url, '20s', {
      server: { responseBuffer: '64kb', writeTimeout: '5m', slowReaderCutAfter: '0s' },
      routes: [{ path: '/', policy: { concurrency: { limit: 1, queue: 5, queueTimeout: '20s' } } }],
    }),
  );
  nonReaders(gw.url, 1);
  expect(await within(20_000, () => gw.status().counters.slowReadersHeld === 1, 20)).toBe(true);
  return { gw, seen };
}

describe('a slow reader is not cut for a request whose body is not in', () => {
  it('Expect: 100-continue: told to continue without a cut; the slow reader is cut once its body is in', async () => {
    const { gw, seen } = await heldByNonReader();
    const c = new ExpectClient(gw.url);
    c.write(head('Content-Length: 5\r\n'));
    expect(await c.until((t) => t.includes('100 Continue'))).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    // Before early429: the head's ask took the slot (the slow reader cut for it) and gave it back at once.
    expect(gw.status().counters.slowReadersCut).toBe(0);
    expect(gw.status().policies[0]!.gates[0]!.inFlight).toBe(1);
    c.write('hello');
    expect(await c.until(finalResponse)).toMatch(/HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    c.close();
    expect(gw.status().counters.slowReadersCut).toBe(1);
    expect(seen).toEqual(['GET /big 0', 'POST /x 5']);
  }, 60_000);

  it('a body still arriving: decided, nobody cut, until the body is in', async () => {
    const { gw, seen } = await heldByNonReader();
    const { socket, text } = rawSocket(gw.url);
    socket.write(postHead('/up', `Content-Length: ${2 * CHUNK}`));
    socket.write(Buffer.alloc(CHUNK, 97));
    await sleep(300);
    // Decided (admitted), its slot not asked for yet: the slow reader keeps it.
    expect(gw.status().counters.slowReadersCut).toBe(0);
    expect(gw.status().policies[0]!.gates[0]!.inFlight).toBe(1);
    socket.write(Buffer.alloc(CHUNK, 97));
    expect(await within(10_000, () => statuses(text()).length === 1)).toBe(true);
    expect(statuses(text())).toEqual([200]);
    socket.destroy();
    expect(gw.status().counters.slowReadersCut).toBe(1);
    expect(seen).toEqual(['GET /big 0', `POST /up ${2 * CHUNK}`]);
  }, 60_000);
});
