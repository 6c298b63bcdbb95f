// `npx sluice gateway --workers N` in a clone: bin/sluice.js runs the TypeScript source through
// tsx's register(), which hooks its own process only. The workers node:cluster forks inherit
// execArgv, not the hooks: until hostile-12 each died at start (ERR_UNKNOWN_FILE_EXTENSION
// ".ts" for src/gateway/worker-main.ts) and the gateway exited 1 without listening. (The
// other tests start the CLI with `--import tsx`, which workers inherit, and never saw it.)
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, root, sluice, upstream } from './helpers.js';

afterEach(cleanup);

describe('bin/sluice.js with workers', () => {
  it('forks workers that run the source: both listen, and a request is proxied', async () => {
    const up = await upstream((_req, res) => res.end('from upstream'));
    const args = ['gateway', '--upstream', up.url, '--host', '127.0.0.1', '--port', '0', '--admin-port', '0', '--workers', '2'];
    const gw = sluice([], [], [join(root, 'bin/sluice.js'), ...args]);
    const outcome = await Promise.race([gw.waitFor('listening', WORKERS_START_MS).then((l) => ({ listening: l }), (e: Error) => ({ error: e.message })), gw.exited.then((code) => ({ exited: code }))]);
    expect(outcome, gw.stderr()).toHaveProperty('listening');
    const l = (outcome as { listening: Record<string, unknown> }).listening;
    expect(l['workers']).toBe(2);
    const r = await get(`${String(l['url'])}/x`);
    expect(r.status).toBe(200);
    expect(r.body).toBe('from upstream');
  }, WORKERS_TEST_MS);
});
