// A slow reader is cut for a request that waits on ANOTHER worker (the hostile flags2 probe
// "30 non-readers of 20 MB", on a small scale). With --workers 2 the slots are leased to the
// workers by the primary: non-readers on worker A hold every slot, worker B holds none, and a
// request arriving on B waited out its queue and got 503 while A's readers, stalled past
// slowReaderCutAfter, were cut for nobody (A cut only for its own waiters). One worker cuts one
// for it and serves it. Which worker a connection lands on is the kernel's choice: the test
// finds out from the worker process holding its socket (worker-placement.ts), closes a
// connection that landed on the wrong one and opens another: the non-readers on one worker,
// the honest client on the other. Counts only, no timings.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bigOrSmall } from './big-response.js';
import { cleanup, sluice, tempDir, within, WORKERS_START_MS, WORKERS_TEST_MS } from './helpers.js';
import { answer, placement } from './worker-placement.js';

afterEach(cleanup);

const LIMIT = 2;
function yaml(up: string): string {
  // A queue long enough that the cross-worker hand-over (a few IPC round trips) is never what decides, however busy the host.
  return `listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
server: { workers: 2, responseBuffer: 64kb, writeTimeout: 5m, slowReaderCutAfter: 1s }
upstreams:
  app: { url: "${up}", timeout: 60s }
routes:
  - { path: /, policy: { concurrency: { limit: ${LIMIT}, queue: 10, queueTimeout: 20s } } }
`;
}

describe('sluice gateway --workers 2: a request waiting on one worker, slow readers holding every slot on the other', () => {
  it('cuts one of them for it: the request is answered 200, and the upstream never has more than the limit in flight', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await bigOrSmall();
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, yaml(up.url));
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', WORKERS_START_MS);
    const url = new URL(String(l['url']));
    const adminUrl = String(l['adminUrl']);
    const { view, place, worker, heldBy } = placement(url, adminUrl);

    // Non-readers, all on the worker the first one landed on.
    const first = await place(-1);
    const a = first.worker;
    for (let i = 0; i < LIMIT; i++) {
      const s = i === 0 ? first.s : (await place(1 - a)).s;
      s.write('GET /big HTTP/1.1\r\nHost: gw\r\n\r\n');
      s.pause();
    }
    // Every slot leased to that worker and held by its non-readers; none cut so far (each was admitted on a slot of its own).
    expect(
      await within(60_000, async () => {
        const v = await view();
        return heldBy(v, a) === LIMIT && (worker(v, a)?.status?.counters.slowReadersHeld ?? 0) >= LIMIT;
      }, 100),
    ).toBe(true);
    expect((await view()).counters.slowReadersCut).toBe(0);

    // The honest client, on the other worker (which holds no slot).
    const honest = await place(a);
    const text = await answer(honest.s, '/honest', 'small');
    // Before: 'HTTP/1.1 503 Service Unavailable' (queue_timeout), slowReadersCut 0.
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(text.endsWith('small')).toBe(true);
    const after = await view();
    // One cut for the one request that waited, on the worker that held the slots.
    expect(worker(after, a)?.status?.counters.slowReadersCut).toBe(1);
    expect(after.counters.slowReadersCut).toBe(1);
    expect(up.peak()).toBeLessThanOrEqual(LIMIT);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  });
});
