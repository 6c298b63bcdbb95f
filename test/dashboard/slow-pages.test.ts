// A dashboard page that does not read — a client that opens the stream and never reads, a
// browser tab the user left — must cost this process a bounded amount, whatever the history
// holds: it is fed from the history ring as its socket takes bytes, never handed the whole
// history (nor a backlog of ticks) at once. Measured by the dashboard's own count of the
// bytes its pages' sockets have not taken (queuedBytes), not by the process's RSS.
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { createDashboard } from '../../src/dashboard/index.js';
import type { Dashboard } from '../../src/dashboard/index.js';
import { cleanup, onCleanup, sleep } from '../gateway/helpers.js';
import { runBrowser, serveDashboard, sharedBrowser } from './helpers.js';

afterEach(cleanup);

const serve = serveDashboard;

/** A client that asks for the event stream and never reads a byte of it. */
function neverReads(url: string): Socket {
  const stuck = connect(Number(new URL(url).port), '127.0.0.1');
  onCleanup(async () => void stuck.destroy());
  stuck.pause();
  stuck.write('GET /dashboard/events HTTP/1.1\r\nHost: x\r\n\r\n');
  return stuck;
}

const until = async (cond: () => boolean, ms = 30_000): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (cond()) return true;
  return cond();
};

/** Samples of ~200 KB (a group's info), 100 ms apart: 10 s of history is ~20 MB. */
function bigDashboard(size = 200_000): Dashboard {
  const big = 'x'.repeat(size);
  return createDashboard({ groups: [{ name: 'g', gates: [new ConcurrencyGate({ name: 'g', limit: 1 })], info: () => ({ big }) }], intervalMs: 100, historySeconds: 10, maxSubscribers: 4 });
}

/** Bound on what one page may hold queued: node's buffer (16 KB) and one frame of catch-up (a sample or 64 KB of them). */
const PAGE_BOUND = 16_384 + 64 * 1024 + 210_000;

describe('dashboard pages that do not read', () => {
  it('a raw socket that never reads, opened on a full history: its queued bytes stay under one frame, it is cut after a bound and counted', { timeout: 90_000 }, async () => {
    const d = bigDashboard();
    const url = await serve(d);
    // Let the history fill: 40 samples (~8 MB).
    await sleep(4_000);
    neverReads(url);
    expect(await until(() => d.subscribers === 1)).toBe(true);
    let peak = 0;
    expect(await until(() => ((peak = Math.max(peak, d.queuedBytes)), d.pages.dropped === 1), 60_000)).toBe(true);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(PAGE_BOUND);
    expect(d.pages).toEqual({ open: 0, dropped: 1, refused: 0 });
    expect(d.queuedBytes).toBe(0);
  });

  it('a page that reads slowly is fed as it reads: it gets the history in order, then live samples, never more queued than the bound', { timeout: 90_000 }, async () => {
    const d = bigDashboard();
    const url = await serve(d);
    await sleep(3_000);
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, d.queuedBytes)), 10);
    onCleanup(async () => clearInterval(watch));
    const times: number[] = [];
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      const req = request(`${url}/dashboard/events`, (res) => {
        res.setEncoding('utf8');
        // Reads what has come, then waits: a slow reader.
        const step = (): void => {
          let chunk: string | null;
          while ((chunk = res.read() as string | null) !== null) buffered += chunk;
          const frames = buffered.split('\n\n');
          buffered = frames.pop()!;
          for (const f of frames) {
            const data = f.split('\n').find((l) => l.startsWith('data: '))!.slice(6);
            const parsed = JSON.parse(data) as { t: number } | { t: number }[];
            for (const s of Array.isArray(parsed) ? parsed : [parsed]) times.push(s.t);
          }
          if (times.length >= 60) {
            req.destroy();
            resolve();
          } else setTimeout(step, 30);
        };
        step();
      });
      req.on('error', reject);
      req.end();
    });
    // In order, none twice (a sample that fell out of the history while the page caught up is skipped).
    expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
    expect(peak).toBeLessThanOrEqual(PAGE_BOUND);
    expect(d.pages.dropped).toBe(0);
  });
});

describe.runIf(runBrowser)('dashboard in Chromium beside a page that never reads', () => {
  const browser = sharedBrowser();
  // The bounds are hang guards for what happens eventually: beside a CPU hog, Chromium draws
  // this page's first history 10 s and more after it asked for it (2026-12-05, load 40).
  it('the reading page gets the whole history and then updates live', { timeout: 200_000 }, async () => {
    const d = bigDashboard(20_000);
    const url = await serve(d);
    await sleep(2_000);
    neverReads(url);
    const page = await browser().newPage();
    onCleanup(() => page.close());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${url}/dashboard`, { timeout: 60_000 });
    // The history first (at least the 2 s before the page came), then samples as they come.
    await page.waitForFunction('Number(document.body.dataset.samples || 0) >= 20', undefined, { timeout: 60_000 });
    const seen = Number(await page.evaluate('document.body.dataset.samples'));
    await page.waitForFunction(`Number(document.body.dataset.samples || 0) >= ${seen + 5}`, undefined, { timeout: 60_000 });
    expect(errors).toEqual([]);
    expect(d.queuedBytes).toBeLessThanOrEqual(2 * PAGE_BOUND);
  });
});
