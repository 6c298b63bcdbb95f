// A policy a reload removed while a slow reader of it still held a slot on one worker, then a
// later reload brought back under its name (its pool kept in the primary's ledger for that
// slot): the restored policy's lease shared the worker's holding with the removed one's. Its
// reports counted the removed one's slot as idle and the asks made of the removed one (a slow
// reader cut earlier for the other worker) as still on their way, so a request waiting on the
// other worker was never given a slot by a cut: 503 queue_timeout. Now the restored lease takes
// the removed one over (SlotLease.adopt). Which worker a connection lands on is found out from
// the worker process holding its socket (worker-placement.ts). Counts only, no timings.
import { writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bigOrSmall } from './big-response.js';
import { cleanup, sluice, tempDir, within, WORKERS_START_MS, WORKERS_TEST_MS } from './helpers.js';
import { answer, placement } from './worker-placement.js';

afterEach(cleanup);

const LIMIT = 2;

function yaml(up: string, policy: boolean): string {
  return `listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
log: { level: info }
server: { workers: 2, responseBuffer: 64kb, writeTimeout: 5m, slowReaderCutAfter: 1s }
upstreams:
  app: { url: "${up}", timeout: 60s }
${policy ? `policies: { api: { concurrency: { limit: ${LIMIT}, queue: 10, queueTimeout: 15s } } }\nroutes: [ { path: /, policy: api } ]` : 'routes: [ { path: / } ]'}
`;
}

describe('sluice gateway --workers 2: a policy removed by a reload and restored under its name while a slow reader of the removed one holds a slot', () => {
  it('the restored policy starts clean: a request waiting on the other worker gets a slot by a cut, and the upstream never has more than the limit in flight', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await bigOrSmall();
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, yaml(up.url, true));
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', WORKERS_START_MS);
    const { view, place, worker, heldBy } = placement(new URL(String(l['url'])), String(l['adminUrl']));
    const ask = (s: Socket): void => {
      s.write('GET /big HTTP/1.1\r\nHost: gw\r\n\r\n');
      s.pause();
    };
    const reload = async (policy: boolean): Promise<void> => {
      const from = gw.lines.length;
      writeFileSync(file, yaml(up.url, policy));
      gw.child.kill('SIGHUP');
      // The primary's line, once every worker has reloaded.
      expect(await within(WORKERS_START_MS, () => gw.lines.slice(from).some((x) => x.includes('"msg":"reloaded"') && x.includes('"workers":2'))), gw.lines.slice(from).join('\n')).toBe(true);
    };

    // Every slot on worker a's non-readers; a request on b gets one by a cut (the primary asks a: asked 1).
    const first = await place(-1);
    const a = first.worker;
    const b = 1 - a;
    ask(first.s);
    ask((await place(b)).s);
    expect(await within(60_000, async () => heldBy(await view(), a) === LIMIT, 100), `a's slots: ${JSON.stringify((await view()).leases)}`).toBe(true);
    const onB = await place(a);
    const early = await answer(onB.s, '/early', 'small');
    expect(early.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect((await view()).counters.slowReadersCut).toBe(1);
    // Closed now, not by its keep-alive timeout while a connection is placed (a close on one worker as another lands there hides it).
    onB.s.destroy();
    expect(await within(60_000, async () => worker(await view(), b)?.status?.connections.open === 0, 100)).toBe(true);

    // Removed: a's other non-reader still holds its slot; b's slot goes back.
    await reload(false);
    expect(await within(60_000, async () => heldBy(await view(), a) === 1 && heldBy(await view(), b) === 0, 100), `slots after the removal: ${JSON.stringify((await view()).leases)}`).toBe(true);

    // Restored under its name: two new non-readers on a. Each slot of a on one of them, at the
    // upstream (the removed policy's non-reader may be cut for the second: it counts against the restored gate).
    // Both placed before either asks: a cut closing a connection on a while another is placed there would hide it from the count.
    await reload(true);
    const [one, two] = [await place(b), await place(b)];
    ask(one.s);
    ask(two.s);
    const full = async (): Promise<boolean> => {
      const v = await view();
      const w = worker(v, a)?.status;
      return heldBy(v, a) === LIMIT && up.now() === LIMIT && (w?.counters.slowReadersHeld ?? 0) >= 2 + LIMIT && w?.connections.open === LIMIT;
    };
    expect(await within(60_000, full, 100), JSON.stringify((await view()).leases)).toBe(true);
    const cutBefore = (await view()).counters.slowReadersCut;
    // A request on b, which holds no slot: a holds one above its share on a slow reader, and is asked for it.
    const honest = await answer((await place(a)).s, '/honest', 'small');
    // Before: 'HTTP/1.1 503 Service Unavailable' (queue_timeout): no cut asked of a.
    expect(honest.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect((await view()).counters.slowReadersCut).toBe(cutBefore + 1);
    expect(up.peak()).toBeLessThanOrEqual(LIMIT);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  });
});
