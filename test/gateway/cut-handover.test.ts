// Issue 9's invariant when a client that does not read is cut: in flight to an upstream never
// exceeds its concurrency limit, counted AT THE UPSTREAM from a request's arrival to its
// response's 'close' — as the hostile probes' upstream counts (scripts/hostile/lib.mjs).
// node:http emits that 'close' in the loop's close phase, after the poll that read the
// gateway's reset: until cutfix a cut aborted the upstream request and gave its slot to the
// next request at once, which (on another, idle, connection) was read in that same poll and
// counted beside the one cut — the hostile yaml scenario (20 connections × 100 pipelined
// 20 MB /big, never read) counted 7 in flight at limit 5.
//
// Idle connections to the upstream are what let the next request in at once: a route without
// a limit to the same upstream leaves some (as the hostile scenario's earlier probes did).
// Counts only, no timings.
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway, GatewayConfig } from '../../src/gateway/index.js';
import { countingUpstream, nonReaders } from './big-response.js';
import { cleanup, get, sluice, startInProcess, tempDir, upstream, within, WORKERS_START_MS, WORKERS_TEST_MS } from './helpers.js';

afterEach(cleanup);

const LIMIT = 4;
const BIG = Buffer.alloc(16 * 1024 * 1024, 97);

interface Counted {
  readonly url: string;
  /** In flight under `/held/`, from arrival to the response's 'close'. */
  now(): number;
  peak(): number;
}

/** `/held/big`: 16 MB in one write (as the hostile upstream); `/free/...`: 'free' after 100 ms; anything else 'small'. */
async function closeCountingUpstream(): Promise<Counted> {
  let now = 0;
  let peak = 0;
  const up = await upstream((req, res) => {
    const held = req.url?.startsWith('/held/') === true;
    if (held) {
      now++;
      peak = Math.max(peak, now);
      res.once('close', () => now--);
    }
    req.resume();
    if (req.url === '/held/big') {
      res.writeHead(200, { 'content-length': String(BIG.length) });
      res.end(BIG);
    } else if (!held) setTimeout(() => res.end('free'), 100);
    else res.end('small');
  });
  up.server.keepAliveTimeout = 60_000;
  return { url: up.url, now: () => now, peak: () => peak };
}

function config(up: string): GatewayConfig {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { port: 0 },
    server: { responseBuffer: '64kb', writeTimeout: '5m', slowReaderCutAfter: '0s' },
    upstreams: { app: { url: up, timeout: '20s' } },
    routes: [
      { path: '/free' },
      { path: '/held', policy: { concurrency: { limit: LIMIT, queue: 1000, queueTimeout: '60s' } } },
    ],
  };
}

describe('non-readers cut for their slots', () => {
  it('the upstream, counting to its responses\' close, never holds more than the limit; every reader is answered', { timeout: 180_000 }, async () => {
    const up = await closeCountingUpstream();
    const gw = await startInProcess(config(up.url));
    // Idle connections to the upstream: 3 × LIMIT at once on the route without a limit.
    const warm = await Promise.all(Array.from({ length: 3 * LIMIT }, () => get(`${gw.url}/free/x`)));
    expect(warm.map((a) => a.status)).toEqual(Array.from({ length: 3 * LIMIT }, () => 200));
    nonReaders(gw.url, 3 * LIMIT, '/held/big');
    expect(await within(30_000, () => gw.status().counters.slowReadersHeld >= LIMIT, 20)).toBe(true);
    // Readers queue with the non-readers still waiting; each cut gives a slot to the next in line.
    const answers = await Promise.all(Array.from({ length: 4 * LIMIT }, () => get(`${gw.url}/held/small`)));
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 4 * LIMIT }, () => 200));
    expect(gw.status().counters.slowReadersCut).toBeGreaterThan(LIMIT);
    expect(up.peak()).toBeLessThanOrEqual(LIMIT);
    // Nothing of a cut request is left at the upstream.
    expect(await within(20_000, () => up.now() <= LIMIT && gw.status().counters.slowReadersCut > 0, 20)).toBe(true);
  });
});

/** {@link config} as YAML, with `workers`. */
function yaml(up: string, workers: number): string {
  return `listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
server: { workers: ${workers}, responseBuffer: 64kb, writeTimeout: 5m, slowReaderCutAfter: 0s }
upstreams:
  app: { url: "${up}", timeout: 20s }
routes:
  - { path: /free }
  - { path: /held, policy: { concurrency: { limit: ${LIMIT}, queue: 1000, queueTimeout: 60s } } }
`;
}

describe('non-readers cut for their slots, two workers sharing the limit', () => {
  it('the upstream, counting to its responses\' close, never holds more than the limit; every reader is answered', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await closeCountingUpstream();
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, yaml(up.url, 2));
    const gw = sluice(['gateway', '--config', file]);
    const url = String((await gw.waitFor('listening', WORKERS_START_MS))['url']);
    for (let round = 0; round < 3; round++) {
      const warm = await Promise.all(Array.from({ length: 3 * LIMIT }, () => get(`${url}/free/x`)));
      expect(warm.map((a) => a.status)).toEqual(Array.from({ length: 3 * LIMIT }, () => 200));
      nonReaders(url, 3 * LIMIT, '/held/big');
      const answers = await Promise.all(Array.from({ length: 4 * LIMIT }, () => get(`${url}/held/small`)));
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 4 * LIMIT }, () => 200));
    }
    expect(up.peak()).toBeLessThanOrEqual(LIMIT);
  });
});

describe('a response whose client leaves mid-body', () => {
  /** `/part`: 32 KB, then 8 KB more 300 ms later; `/endless`: 32 KB, then a chunk every 50 ms, never ending; anything else 'small'. Counts connections and in flight (to 'close'). */
  function partUpstream(): ReturnType<typeof countingUpstream> {
    return countingUpstream((req, res) => {
      if (req.url === '/part') {
        res.writeHead(200, { 'content-length': String(40 * 1024) });
        res.write(Buffer.alloc(32 * 1024, 97));
        setTimeout(() => res.end(Buffer.alloc(8 * 1024, 98)), 300);
      } else if (req.url === '/endless') {
        res.write(Buffer.alloc(32 * 1024, 97));
        const t = setInterval(() => res.write('more'), 50);
        res.once('close', () => clearInterval(t));
      } else res.end('small');
    });
  }

  /** Ask `path`, and reset the connection as soon as some of the response came. */
  function leaveMidBody(url: string, path: string): Promise<void> {
    const u = new URL(url);
    return new Promise((resolve) => {
      const s = connect(Number(u.port), u.hostname);
      s.on('error', () => undefined);
      s.write(`GET ${path} HTTP/1.1\r\nHost: gw\r\n\r\n`);
      s.once('data', () => {
        s.resetAndDestroy();
        resolve();
      });
    });
  }

  /** The gateway before `up` with one slot, queue behind it. */
  const oneSlot = (up: string): Promise<Gateway> => startInProcess({ ...config(up), routes: [{ path: '/', policy: { concurrency: { limit: 1, queue: 10, queueTimeout: '30s' } } }] });

  /** A client leaves `path` mid-body, then the next request (which waits for the one slot) is answered in full, and the upstream never held 2. */
  async function leaveThenNext(path: string): Promise<{ up: Awaited<ReturnType<typeof partUpstream>>; gw: Gateway }> {
    const up = await partUpstream();
    const gw = await oneSlot(up.url);
    await leaveMidBody(gw.url, path);
    const next = await get(`${gw.url}/small`);
    expect(`${next.status} ${next.body}`).toBe('200 small');
    expect(up.peak()).toBe(1);
    return { up, gw };
  }

  it('a rest within the bound is read out: the slot comes back when the upstream is done, and its connection is kept', { timeout: 60_000 }, async () => {
    // The next request waits for the slot until /part is complete at the upstream, then takes its connection.
    const { up } = await leaveThenNext('/part');
    // Before: the gone client's upstream request was aborted at once (a second connection, and 2 in flight at limit 1).
    expect(up.opened()).toBe(1);
  });

  it('a rest that does not end: the connection is closed at the bound (500 ms), and the slot comes back', { timeout: 60_000 }, async () => {
    const { up, gw } = await leaveThenNext('/endless');
    expect(await within(10_000, () => up.now() === 0, 20)).toBe(true);
    expect(gw.status().counters.admitted).toBe(2);
  });
});
