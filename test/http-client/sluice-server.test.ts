// The client against sluice's own server adapter (sluice/http, node:http) on loopback: the
// headers one side writes are the headers the other side reads.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { withAdmission } from '../../src/http/index.js';
import type { HttpAdmissionOptions } from '../../src/http/index.js';
import { createClient } from '../../src/http-client/index.js';
import type { HttpClient, HttpClientOptions } from '../../src/http-client/index.js';

interface Served {
  readonly url: string;
  /** Requests that reached the server, admitted or not. */
  readonly arrivals: () => number;
  /** Status codes the server answered. */
  readonly statuses: number[];
}

const open: Server[] = [];
const clients: HttpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(open.splice(0).map((s) => new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve())))));
});

async function serve(policy: HttpAdmissionOptions<IncomingMessage>, workMs = 0): Promise<Served> {
  let arrivals = 0;
  const statuses: number[] = [];
  const handler = withAdmission(policy, (_req, res) => {
    const done = (): void => void res.end('ok');
    if (workMs > 0) setTimeout(done, workMs);
    else done();
  });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    arrivals++;
    res.on('finish', () => statuses.push(res.statusCode));
    handler(req, res);
  });
  open.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals: () => arrivals, statuses };
}

function client(options: HttpClientOptions): HttpClient {
  const c = createClient({ throttle: false, breaker: false, ...options });
  clients.push(c);
  return c;
}

describe('HttpClient against sluice/http', () => {
  it("paces itself from the server's RateLimit fields: a burst meets no 429", async () => {
    const s = await serve({ rateLimits: [{ algorithm: 'sliding-window', limit: 5, windowMs: 1_000, name: 'default' }] });
    const c = client({ retry: false });
    expect((await c.fetch(s.url)).status).toBe(200); // learn the policy
    const statuses = await Promise.all(Array.from({ length: 8 }, () => c.fetch(s.url).then((r) => r.status)));
    expect(statuses).toEqual(Array(8).fill(200));
    expect(s.statuses.filter((x) => x === 429)).toEqual([]);
    expect(c.stats(s.url)!.pacer).toMatchObject({ policy: 'default', limit: 5 });
  });

  it('a fleet against an over-capacity server (503 + Retry-After): no retry storm, and the deadline is kept', async () => {
    // Two requests at a time, 30 ms each; everything beyond is refused at once with 503.
    const s = await serve({ concurrency: { limit: 2 } }, 30);
    // The process's first fetches (Node's fetch loaded, connections opened) took 200–500 ms on a
    // busy host — every call's 500 ms deadline passed before one reached the server: warmed
    // first, and counted apart.
    await client({ retry: false }).fetch(s.url);
    const [warmArrivals, warmStatuses] = [s.arrivals(), s.statuses.length];
    const fleet = Array.from({ length: 8 }, () => client({ deadlineMs: 500, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, budget: { ratio: 0.2, minRetries: 1 } }));
    const t0 = performance.now();
    const results = await Promise.all(fleet.flatMap((c) => Array.from({ length: 5 }, () => c.fetch(s.url).then((r) => r.status, (e: Error) => e.name))));
    const elapsed = performance.now() - t0;
    const logical = results.length;
    // What the server answered is a 200 or a refusal (how many of each is the host's timing: on a
    // busy host a call's 500 ms deadline may pass before its request arrives or its 200 is read —
    // a TimeoutError, the deadline kept).
    const statuses = s.statuses.slice(warmStatuses);
    expect(statuses.filter((x) => x !== 200 && x !== 503)).toEqual([]);
    expect(results.filter((r) => r !== 200 && r !== 503 && r !== 'RejectedError' && r !== 'TimeoutError')).toEqual([]);
    // Retry-After (>= 1 s) outlasts the 500 ms deadline: refused calls give up at once, and
    // every client then holds its origin: at most one attempt per logical request leaves.
    expect(s.arrivals() - warmArrivals).toBeGreaterThan(0);
    expect(s.arrivals() - warmArrivals).toBeLessThanOrEqual(logical);
    // Nobody sat out a Retry-After (>= 1 s) and then retried: arrivals above prove it; this only guards against a hang.
    expect(elapsed).toBeLessThan(10_000);
  });
});
