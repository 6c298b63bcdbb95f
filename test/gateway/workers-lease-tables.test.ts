// `server.workers: 2`: the primary keeps a token table per rate limiter its workers use, and a
// concurrency pool per policy. Reloads that change the limits leave behind none of the old
// ones: the table count stays at the limits in force, not at the reloads seen (before, every
// changed limit left its table, with every tenant's bucket, for the primary's lifetime).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, sluice, tempDir, upstream, within, primaryLine } from './helpers.js';

afterEach(cleanup);

/** Three processes start under tsx (the primary and two workers): a busy machine needs time for that. */
const START_MS = 120_000;

interface LeaseStatus {
  tokenTables: { count: number; keys: number };
  leases: Record<string, unknown>;
}

describe('reloads with --workers 2: the primary forgets the limits it no longer serves', () => {
  it('8 reloads, each changing the rate (tenants keyed) and the concurrency limit: one token table and one pool at the end, its tenants only', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    const yaml = (n: number): string => `
listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
log: { level: info }
server: { workers: 2 }
upstreams: { app: { url: "${up.url}" } }
policies: { p: { tenant: { header: x-tenant }, concurrency: { limit: ${10 + n}, queue: 50, queueTimeout: 30s }, rateLimits: [ { rate: ${1000 + n}/s } ] } }
routes: [ { path: /, upstream: app, policy: p } ]
`;
    writeFileSync(file, yaml(0));
    const gw = sluice(['gateway', '--config', file]);
    const listening = await gw.waitFor('listening', START_MS);
    const url = String(listening['url']);
    const status = async (): Promise<LeaseStatus> => JSON.parse((await get(`${String(listening['adminUrl'])}/status`)).body) as LeaseStatus;
    // Every tenant through both workers (a connection each: the kernel picks the worker).
    const traffic = async (): Promise<void> => {
      const replies = await Promise.all(Array.from({ length: 24 }, (_x, i) => get(url, { headers: { 'x-tenant': `t${i % 6}` } })));
      expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    };
    await traffic();
    for (let n = 1; n <= 8; n++) {
      const from = gw.lines.length;
      writeFileSync(file, yaml(n));
      gw.child.kill('SIGHUP');
      await gw.waitFor('reloaded', START_MS, from, primaryLine);
      await traffic();
    }
    // The workers' word that they are done with the old limits travels on their lease channel.
    const settled = await within(20_000, async () => {
      const s = await status();
      return s.tokenTables.count === 1 && Object.keys(s.leases).length === 1;
    });
    const s = await status();
    expect(settled, JSON.stringify({ tokenTables: s.tokenTables, leases: s.leases })).toBe(true);
    // The tenants of the limit in force, not of every limit seen (9 × 6 before).
    expect(s.tokenTables.keys).toBeLessThanOrEqual(6);
    expect(Object.values(s.leases)[0]).toMatchObject({ limit: 18 });
  }, 300_000);
});
