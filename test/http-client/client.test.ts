// The client against real HTTP servers on loopback. Retry-After values are 0 or 1 s and
// backoffs a few ms, so the whole file runs in a few seconds.
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, InvalidOptionError, RejectedError } from '../../src/core/index.js';
import { consecutiveFailures } from '../../src/breaker/index.js';
import { createClient } from '../../src/http-client/index.js';
import type { HttpClient, HttpClientOptions } from '../../src/http-client/index.js';
import { send, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';

const servers: TestServer[] = [];
const clients: HttpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

/** Fast retries, no throttle or breaker unless asked: each test switches on what it shows. */
function client(options: HttpClientOptions = {}): HttpClient {
  const c = createClient({ retry: { baseDelayMs: 1, maxDelayMs: 5 }, throttle: false, breaker: false, ...options });
  clients.push(c);
  return c;
}

describe('HttpClient: retries', () => {
  it('retries an idempotent GET after a 503 with Retry-After: 0 and returns the success', async () => {
    const s = await server((_req, res, n) => (n === 1 ? send(res, 503, { 'retry-after': '0' }) : send(res, 200, {}, 'ok')));
    const res = await client().fetch(`${s.url}/a`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(s.hits).toHaveLength(2);
  });

  it('does not retry a non-idempotent POST; the caller gets the 503 as fetch would return it', async () => {
    const s = await server((_req, res) => send(res, 503, { 'retry-after': '0' }, 'busy'));
    const c = client();
    const res = await c.fetch(s.url, { method: 'POST', body: 'order=1' });
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('busy');
    expect(s.hits).toHaveLength(1);
    // PATCH neither.
    await c.fetch(s.url, { method: 'PATCH', body: '{}' });
    expect(s.hits).toHaveLength(2);
  });

  it('retries a POST that carries an Idempotency-Key, or that the call or the client declares safe', async () => {
    let hits = 0;
    const s = await server((_req, res) => send(res, ++hits % 2 === 1 ? 503 : 201, { 'retry-after': '0' }));
    expect((await client().fetch(s.url, { method: 'POST', body: 'x', headers: { 'Idempotency-Key': 'k-1' } })).status).toBe(201);
    expect((await client().fetch(s.url, { method: 'POST', body: 'x' }, { idempotent: true })).status).toBe(201);
    expect((await client({ retryNonIdempotent: true }).fetch(s.url, { method: 'POST', body: new URLSearchParams({ a: '1' }) })).status).toBe(201);
    expect(s.hits).toHaveLength(6);
    expect(s.hits.map((h) => h.body)).toEqual(['x', 'x', 'x', 'x', 'a=1', 'a=1']); // the body went out again, unchanged
    // ...and a GET the call marks unsafe is not.
    expect((await client().fetch(s.url, {}, { idempotent: false })).status).toBe(503);
    expect(s.hits).toHaveLength(7);
  });

  it('does not retry a request whose body is a stream (it cannot be replayed)', async () => {
    const s = await server((_req, res) => send(res, 503, { 'retry-after': '0' }));
    const body = Readable.toWeb(Readable.from([Buffer.from('chunk')])) as ReadableStream<Uint8Array>;
    const res = await client().fetch(s.url, { method: 'PUT', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(503);
    expect(s.hits).toHaveLength(1);
    expect(s.hits[0]!.body).toBe('chunk');
  });

  it('waits the Retry-After before retrying', async () => {
    const s = await server((_req, res, n) => (n === 1 ? send(res, 429, { 'retry-after': '1' }) : send(res, 200)));
    const res = await client().fetch(s.url);
    expect(res.status).toBe(200);
    expect(s.hits).toHaveLength(2);
    expect(s.hits[1]!.at - s.hits[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('gives up at once when the Retry-After ends past the deadline; the origin is then held locally', async () => {
    // Retry-After 60 s: not sitting it out shows whatever the host's speed (before: 1 s, judged
    // against 1 s of wall time, which a busy host's round trip can take).
    const s = await server((_req, res) => send(res, 503, { 'retry-after': '60' }));
    const c = client({ deadlineMs: 300 });
    const t0 = performance.now();
    const res = await c.fetch(s.url);
    expect(res.status).toBe(503);
    // It did not sit out the minute of Retry-After.
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(s.hits).toHaveLength(1);
    // The server asked everyone to wait a minute: the next call cannot make it by its deadline and never leaves.
    const refused = await c.fetch(s.url).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RejectedError);
    expect(refused).toMatchObject({ reason: 'rate_limited' });
    expect((refused as RejectedError).retryAfterMs).toBeGreaterThan(30_000);
    expect(s.hits).toHaveLength(1);
  });

  it('aborts the attempt in flight at the deadline', async () => {
    const timers: NodeJS.Timeout[] = [];
    // The server answers after a minute (its timer cleared at the end): the deadline's abort is
    // told apart from the answer whatever the host's speed (before: 2 s, against 2 s of wall time).
    const s = await server((_req, res) => void timers.push(setTimeout(() => send(res, 200), 60_000)));
    const t0 = performance.now();
    const err = await client({ deadlineMs: 5_000 })
      .fetch(s.url, {}, { deadlineMs: 150 })
      .catch((e: unknown) => e);
    for (const t of timers) clearTimeout(t);
    expect(err).toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - t0).toBeLessThan(30_000); // long before the server's answer
    expect(s.hits).toHaveLength(1); // no retry: the deadline has passed
  });

  it("obeys the caller's abort at once", async () => {
    // The abort comes once the 503 has been written (not at a fixed 100 ms, which a busy host
    // could reach before the first attempt did): during the Retry-After wait.
    let answered!: () => void;
    const refused = new Promise<void>((resolve) => (answered = resolve));
    const s = await server((_req, res) => (send(res, 503, { 'retry-after': '1' }), answered()));
    const c = client();
    const ac = new AbortController();
    const call = c.fetch(s.url, { signal: ac.signal });
    await refused;
    setTimeout(() => ac.abort(), 20);
    await expect(call).rejects.toBeInstanceOf(AbortedError);
    expect(s.hits).toHaveLength(1);
  });
});

describe('HttpClient: a fleet against an overloaded server', () => {
  /** 10 clients (10 processes' worth: each its own budget) x 20 requests, 5 at a time, against a server that answers 503 to everything. */
  async function fleet(options: HttpClientOptions): Promise<{ logical: number; attempts: number }> {
    const s = await server((_req, res) => send(res, 503, { 'retry-after': '0' }));
    const fleet = Array.from({ length: 10 }, () => client({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, ...options }));
    await Promise.all(
      fleet.map(async (c) => {
        for (let batch = 0; batch < 4; batch++) {
          await Promise.all(Array.from({ length: 5 }, () => c.fetch(s.url).then((r) => r.status, () => 'refused')));
        }
      }),
    );
    return { logical: 200, attempts: s.hits.length };
  }

  it('without a budget, every request is tried 3 times: a retry storm of 3x', async () => {
    const { logical, attempts } = await fleet({ budget: false });
    expect(attempts / logical).toBe(3);
  });

  it('with the retry budget, amplification stays within 1 + ratio (+ the floor)', async () => {
    const { logical, attempts } = await fleet({ budget: { ratio: 0.2, minRetries: 2 } });
    // retries <= ratio x requests + minRetries per client: 10 x (0.2 x 20 + 2) = 60.
    expect(attempts).toBeLessThanOrEqual(logical + 60);
    expect(attempts / logical).toBeLessThanOrEqual(1.3);
  });

  it('with the breaker and the throttle too, most of the load never leaves the clients', async () => {
    let draws = 0;
    const random = (): number => ((draws = (draws * 9301 + 49297) % 233280), draws / 233280); // seeded
    const { logical, attempts } = await fleet({
      budget: { ratio: 0.2, minRetries: 2 },
      breaker: { rule: consecutiveFailures({ threshold: 5 }), openMs: 60_000 },
      throttle: { random },
    });
    expect(attempts / logical).toBeLessThanOrEqual(0.5);
  });
});

describe('HttpClient: pacing from RateLimit headers', () => {
  /** A fixed window of 5 requests per second, advertised with the draft's fields; 429 beyond it. */
  async function limitedServer(): Promise<TestServer & { rejected: () => number }> {
    let windowStart = -Infinity;
    let used = 0;
    let rejected = 0;
    const s = await server((_req, res) => {
      const now = performance.now();
      if (now - windowStart >= 1_000) {
        windowStart = now;
        used = 0;
      }
      const t = String(Math.ceil((windowStart + 1_000 - now) / 1_000));
      const headers = { 'ratelimit-policy': '"default";q=5;w=1' };
      if (used >= 5) {
        rejected++;
        return send(res, 429, { ...headers, ratelimit: `"default";r=0;t=${t}`, 'retry-after': t });
      }
      used++;
      send(res, 200, { ...headers, ratelimit: `"default";r=${5 - used};t=${t}` });
    });
    return Object.assign(s, { rejected: () => rejected });
  }

  it('holds requests once the remaining quota is spent, so the server never has to refuse', async () => {
    const s = await limitedServer();
    const c = client({ retry: false });
    expect((await c.fetch(s.url)).status).toBe(200); // learn the policy
    const statuses = await Promise.all(Array.from({ length: 8 }, () => c.fetch(s.url).then((r) => r.status)));
    expect(statuses).toEqual(Array(8).fill(200));
    expect(s.rejected()).toBe(0);
    expect(c.stats(s.url)!.pacer).toMatchObject({ policy: 'default', limit: 5 });
  });

  it('without pacing the same burst is refused', async () => {
    const s = await limitedServer();
    const c = client({ retry: false, pacing: false });
    await c.fetch(s.url);
    const statuses = await Promise.all(Array.from({ length: 8 }, () => c.fetch(s.url).then((r) => r.status)));
    expect(statuses.filter((x) => x === 429)).toHaveLength(4);
  });
});

describe('HttpClient: local refusals never reach the network', () => {
  it('the breaker opens and the next calls fail locally', async () => {
    const s = await server((_req, res) => send(res, 500));
    const c = client({ retry: false, breaker: { rule: consecutiveFailures({ threshold: 3 }), openMs: 60_000 } });
    for (let i = 0; i < 3; i++) expect((await c.fetch(s.url)).status).toBe(500);
    for (let i = 0; i < 5; i++) await expect(c.fetch(s.url)).rejects.toMatchObject({ name: 'RejectedError', reason: 'circuit_open' });
    expect(s.hits).toHaveLength(3);
    expect(c.stats(s.url)!.breaker).toMatchObject({ state: 'open' });
  });

  it('a 429 does not open the breaker (it is the quota, not a failure)', async () => {
    const s = await server((_req, res) => send(res, 429));
    const c = client({ retry: false, breaker: { rule: consecutiveFailures({ threshold: 2 }) } });
    for (let i = 0; i < 4; i++) expect((await c.fetch(s.url)).status).toBe(429);
    expect(c.stats(s.url)!.breaker).toMatchObject({ state: 'closed' });
  });

  it('the adaptive throttle sheds locally once the server refuses', async () => {
    const s = await server((_req, res) => send(res, 503));
    const c = client({ retry: false, throttle: { random: () => 0.4 } });
    const outcomes = [];
    for (let i = 0; i < 10; i++) outcomes.push(await c.fetch(s.url).then((r) => r.status, (e: RejectedError) => e.reason));
    // p = (requests − 2·0) / (requests + 1): 0 for the first call, then 1/2 > 0.4 ...
    expect(outcomes[0]).toBe(503);
    expect(outcomes.slice(1)).toEqual(Array(9).fill('overloaded'));
    expect(s.hits).toHaveLength(1);
  });

  it('a full concurrency limit refuses at once with maxQueue 0', async () => {
    const timers: NodeJS.Timeout[] = [];
    const s = await server((_req, res) => void timers.push(setTimeout(() => send(res, 200), 200)));
    const c = client({ concurrency: 1, maxQueue: 0 });
    const first = c.fetch(s.url);
    await expect(c.fetch(s.url)).rejects.toMatchObject({ reason: 'concurrency' });
    expect((await first).status).toBe(200);
    expect(s.hits).toHaveLength(1);
  });
});

describe('HttpClient: origins and options', () => {
  it('keeps gates per origin, forgets the least recently used beyond maxOrigins', async () => {
    const a = await server((_req, res) => send(res, 200));
    const b = await server((_req, res) => send(res, 200));
    const c = client({ maxOrigins: 1, breaker: {} });
    await c.fetch(new URL('/x', a.url));
    expect(c.gates().map((g) => g.name)).toEqual([`http-client:pacer:${a.url}`, `http-client:breaker:${a.url}`, `http-client:concurrency:${a.url}`]);
    await c.fetch(new Request(`${b.url}/y`));
    expect(c.stats().map((o) => o.origin)).toEqual([b.url]);
  });

  it('rejects contradictory or invalid options at construction', () => {
    expect(() => createClient({ retry: false, budget: { ratio: 0.5 } })).toThrow(InvalidOptionError);
    expect(() => createClient({ retry: false, retryNonIdempotent: true })).toThrow(/retryNonIdempotent/);
    expect(() => createClient({ concurrency: 0 })).toThrow(/concurrency: expected an integer >= 1, received 0/);
    expect(() => createClient({ retryOn: [503, 700] })).toThrow(/retryOn\[1\]/);
    expect(() => createClient({ breaker: { clock: undefined, name: 'x' } as never })).toThrow(/breaker.name/);
    expect(() => createClient({ retry: { deadlineMs: 5 } as never })).toThrow(/retry.deadlineMs/);
    expect(() => createClient({ fetch: 'no' as never })).toThrow(/fetch/);
  });

  it('close() refuses later calls', async () => {
    const c = client();
    c.close();
    await expect(c.fetch('http://127.0.0.1:9/')).rejects.toMatchObject({ code: 'SLUICE_ERR_CLOSED' });
  });
});
