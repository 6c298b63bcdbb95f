// Issue 9: in-flight to an upstream never exceeds its concurrency limit, counted AT THE UPSTREAM —
// slow readers included. Until upin21 a response that outgrew its buffer ahead of a slow client
// ended its permit while the upstream still waited to finish writing it: with `concurrency 4` and
// 4 clients that do not read, the upstream held 4 responses and the gateway sent it more (by hand:
// 58 in flight at the upstream with `--concurrency 50`). Now such a response keeps its slot until
// the upstream's response is complete, and a request that wants a slot while slow readers hold
// them all takes the slot of the one that has waited longest for its client (it is cut off).
//
// The upstream counts a request from its arrival until it learns the request is over: its
// response's 'close', or its connection's reset or end (the first of them; a reset is seen
// before node:http's 'close', which comes a loop phase later). Nothing here is a figure.
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig, PolicyConfig } from '../../src/gateway/index.js';
import { GATEWAY_DEFAULTS } from '../../src/gateway/defaults.js';
import { nonReaders, writeBig } from './big-response.js';
import { cleanup, get, sleep, startInProcess, upstream, within } from './helpers.js';

afterEach(cleanup);

const LIMIT = 4;

interface Counted {
  readonly url: string;
  now(): number;
  peak(): number;
  arrivals(path: string): number;
}

/** `/big`: 16 MB written as fast as the gateway reads it; anything else 'small'. Counts its own in flight. */
async function countingUpstream(): Promise<Counted> {
  let now = 0;
  let peak = 0;
  const arrivals = new Map<string, number>();
  const up = await upstream((req, res) => {
    const path = req.url ?? '/';
    arrivals.set(path, (arrivals.get(path) ?? 0) + 1);
    now++;
    peak = Math.max(peak, now);
    let over = false;
    const end = (): void => {
      if (over) return;
      over = true;
      now--;
    };
    res.once('close', end);
    req.socket.once('error', end);
    req.socket.once('end', end);
    req.resume();
    if (path !== '/big') res.end('small');
    else writeBig(res, 256);
  });
  up.server.keepAliveTimeout = 60_000;
  return { url: up.url, now: () => now, peak: () => peak, arrivals: (p) => arrivals.get(p) ?? 0 };
}

function config(up: string, concurrency: PolicyConfig): GatewayConfig {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { port: 0 },
    // writeTimeout far off: the non-readers are cut for the slots they hold, not for not reading.
    server: { responseBuffer: '64kb', writeTimeout: '5m' },
    upstreams: { app: { url: up, timeout: '20s' } },
    routes: [{ path: '/', policy: concurrency }],
  };
}

// Each test's limit is above the sum of its waits (20 s for the non-readers' responses, the
// queue's 20 s, 10 s for the cut requests to end): on a busy host a slow step fails at its own
// guard, not at a limit that says nothing of where ('with a queue' timed out once).
describe('in flight at the upstream, slow readers included', () => {
  it('with a queue: the upstream never holds more than the limit, and queued requests take the slow readers\' slots', { timeout: 120_000 }, async () => {
    const up = await countingUpstream();
    const gw = await startInProcess(config(up.url, { concurrency: { limit: LIMIT, queue: 50, queueTimeout: '20s' } }));
    nonReaders(gw.url, LIMIT);
    // Every reader's response is under way, and has outgrown its buffer: the upstream waits for the clients.
    expect(await within(20_000, () => up.arrivals('/big') === LIMIT && gw.status().counters.slowReadersHeld === LIMIT, 20)).toBe(true);
    expect(up.now()).toBe(LIMIT);
    const answers = await Promise.all(Array.from({ length: 2 * LIMIT }, () => get(`${gw.url}/small`)));
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 2 * LIMIT }, () => 200));
    expect(up.peak()).toBeLessThanOrEqual(LIMIT);
    const counters = gw.status().counters;
    expect(counters.slowReadersCut).toBeGreaterThanOrEqual(1);
    expect(counters.slowReadersCut).toBeLessThanOrEqual(LIMIT);
    // The upstream requests of those cut were aborted: the upstream has only the others' in flight.
    expect(await within(10_000, () => up.now() === LIMIT - counters.slowReadersCut, 20)).toBe(true);
  });

  it('without a queue: a request that finds every slot held by a slow reader takes one, not a 503', { timeout: 120_000 }, async () => {
    const up = await countingUpstream();
    const gw = await startInProcess(config(up.url, { concurrency: LIMIT }));
    nonReaders(gw.url, LIMIT);
    expect(await within(20_000, () => up.arrivals('/big') === LIMIT && gw.status().counters.slowReadersHeld === LIMIT, 20)).toBe(true);
    // A client that has taken nothing of what is pending for GATEWAY_DEFAULTS.server.slowReaderCutAfterMs is slow; one whose buffer filled a moment
    // ago is not cut (503 then: every slot taken, no queue). The kernel's buffers take a non-reader's bytes for a
    // while (its buffer fills again and again): asked until one is slow enough, the first answer is a 200.
    await sleep(GATEWAY_DEFAULTS.server.slowReaderCutAfterMs);
    const refusals: string[] = [];
    let first = await get(`${gw.url}/small`);
    for (let i = 0; i < 100 && first.status === 503; i++) {
      refusals.push(first.body);
      await sleep(100);
      first = await get(`${gw.url}/small`);
    }
    expect(`${first.status} ${first.body}`).toBe('200 small');
    for (const body of refusals) expect(body).toContain('concurrency');
    for (let i = 0; i < 2; i++) {
      const a = await get(`${gw.url}/small`);
      expect(`${a.status} ${a.body}`).toBe('200 small');
    }
    expect(up.peak()).toBeLessThanOrEqual(LIMIT);
    expect(gw.status().counters.slowReadersCut).toBe(1); // the first took a slot; the others found it free again
    expect(gw.status().counters.rejected).toBe(refusals.length);
  });
});
