// A reload that lowers a concurrency limit, with `server.workers: 2` (the primary leases the
// limit's slots to its workers): each worker's old requests count against its new gate, and
// what waits is answered, not stranded. Counted by the upstream (its own in flight).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, sluice, tempDir, within } from './helpers.js';
import { heldUpstream } from './held-upstream.js';

afterEach(cleanup);

/** Three processes start under tsx (the primary and two workers): a busy machine needs time for that. */
const START_MS = 120_000;

describe('reload with a lowered limit, --workers 2', () => {
  it('4 -> 2 with 4 in flight, 3 more sent: every request answered; once the old ones end, 2 at a time', async () => {
    const up = await heldUpstream();
    const file = join(tempDir(), 'sluice.yaml');
    const yaml = (limit: number): string => `
listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
log: { level: info }
server: { workers: 2 }
upstreams: { app: { url: "${up.url}", timeout: 60s } }
policies: { p: { concurrency: { limit: ${limit}, queue: 10, queueTimeout: 60s } } }
routes: [ { path: /, upstream: app, policy: p } ]
`;
    writeFileSync(file, yaml(4));
    const gw = sluice(['gateway', '--config', file]);
    const listening = await gw.waitFor('listening', START_MS);
    const url = String(listening['url']);
    const queued = async (): Promise<number> => (JSON.parse((await get(`${String(listening['adminUrl'])}/status`)).body) as { queued: number }).queued;
    const old = ['a', 'b', 'c', 'd'].map((x) => get(`${url}/${x}`));
    expect(await within(60_000, () => up.now() === 4)).toBe(true);
    const from = gw.lines.length;
    writeFileSync(file, yaml(2));
    gw.child.kill('SIGHUP');
    // The primary's line, once every worker has reloaded.
    const reloaded = await within(START_MS, () => gw.lines.slice(from).some((l) => l.includes('"msg":"reloaded"') && l.includes('"workers":2')));
    expect(reloaded, gw.lines.slice(from).join('\n')).toBe(true);
    const later = ['e', 'f', 'g'].map((x) => get(`${url}/${x}`));
    // Each worker counts its own old requests against its new gate; the new limit's shared pool
    // does not count the other worker's (docs/gateway.md, Reload): a worker that had none of
    // them may admit up to its share of the new limit (1) at once.
    expect(await within(60_000, async () => (await queued()) + up.now() === 7)).toBe(true);
    expect(up.now()).toBeLessThanOrEqual(5);
    up.letGo(4);
    expect((await Promise.all(old)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    // From here only the new limit: two at a time at most, the queue served to the end.
    up.resetPeak();
    expect(up.now()).toBeLessThanOrEqual(2);
    const two = await within(20_000, async () => up.now() === 2 && (await queued()) === 1);
    expect(two, `${up.now()} ${(await get(`${String(listening['adminUrl'])}/status`)).body}`).toBe(true);
    up.letGo(1);
    expect(await within(60_000, async () => up.now() === 2 && (await queued()) === 0)).toBe(true);
    up.letGo();
    expect((await Promise.all(later)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(up.peak()).toBe(2);
  }, 300_000);
});
