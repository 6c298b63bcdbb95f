// worker-placement.ts's place() tells which worker took a connection while other connections
// open and close on the same workers at the same moment (as a slow reader cut, or a connection
// placed on the wrong worker and closed, does in the tests that use it). Told apart by a rise of
// a worker's open connections in /status, a close on that worker at the same time cancelled the
// rise (place() waited its 30 s), and places made together each took the first rise they saw.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bigOrSmall } from './big-response.js';
import { cleanup, sluice, tempDir, within, WORKERS_START_MS, WORKERS_TEST_MS } from './helpers.js';
import { placement } from './worker-placement.js';

afterEach(cleanup);

describe.skipIf(process.platform !== 'linux')('worker-placement: place() beside connections opening and closing on the same workers', () => {
  it('names the worker of each connection, also placed together and while another closes', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await bigOrSmall();
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, `listen: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
server: { workers: 2 }
upstreams:
  app: { url: "${up.url}" }
routes:
  - { path: /, upstream: app }
`);
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', WORKERS_START_MS);
    const { view, place, worker } = placement(new URL(String(l['url'])), String(l['adminUrl']));
    const open = async (index: number): Promise<number> => worker(await view(), index)?.status?.connections.open ?? -1;

    // Placed together, each named by its own worker: as many on each as the worker counts open.
    const placed = await Promise.all([place(-1), place(-1), place(-1), place(-1), place(-1), place(-1)]);
    const on = (i: number): number => placed.filter((p) => p.worker === i).length;
    expect(await within(30_000, async () => (await open(0)) === on(0) && (await open(1)) === on(1), 50), `placed ${on(0)}/${on(1)}, open ${await open(0)}/${await open(1)}`).toBe(true);

    // Each placed on a while one of a's closes at the same moment: its count does not rise.
    const a = placed[0].worker;
    const ours = placed.filter((p) => p.worker === a);
    for (const gone of ours) {
      const next = place(1 - a);
      gone.s.destroy();
      expect((await next).worker).toBe(a);
    }
    expect(await within(30_000, async () => (await open(a)) === ours.length, 50)).toBe(true);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  });
});
