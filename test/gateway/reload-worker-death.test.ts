// A reload that comes while a worker has just been killed (badday): the primary sent the dead
// worker its reload call and waited out the call's timeout (5 s), then logged 'reload rejected:
// the previous config keeps serving' — while the live worker had taken the new config, and the
// dead one's replacement, started meanwhile with the old one, kept it: a false log line and
// workers serving different limits. A worker that died fails nothing now; its replacement
// gets the reload's config. Outcomes only.
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneLimitYaml, twoWorkersFromFile, within } from './helpers.js';

afterEach(cleanup);

/** Three processes start under tsx (the primary and two workers): a busy machine needs time for that. */
const START_MS = 120_000;

interface Status {
  readonly workers: readonly { readonly pid: number; readonly exited: boolean; readonly status?: { readonly policies: readonly { readonly gates: readonly { readonly limit?: number }[] }[] } }[];
  readonly leases: Readonly<Record<string, { readonly limit: number }>>;
}

describe('sluice gateway --workers 2: a reload while a worker is dead', () => {
  it('is applied, not reported rejected, and the replacement serves the new limit', { timeout: 300_000 }, async () => {
    const { up, file, gw, url, adminUrl } = await twoWorkersFromFile(8, START_MS);
    const status = async (): Promise<Status> => JSON.parse((await get(`${adminUrl}/status`)).body) as Status;
    const [first] = (await status()).workers;
    const from = gw.lines.length;
    process.kill(first!.pid, 'SIGKILL');
    writeFileSync(file, oneLimitYaml(up, 4, 'workers: 2'));
    gw.child.kill('SIGHUP');
    // Settled: two live workers, a new one among them, both with their share of the new limit (2 each).
    const limits = (s: Status): (number | undefined)[] => s.workers.map((w) => (w.exited ? undefined : w.status?.policies[0]?.gates[0]?.limit));
    let last: Status | undefined;
    const settled = await within(START_MS, async () => {
      last = await status();
      return !last.workers.some((w) => w.pid === first!.pid) && limits(last).every((x) => x === 2) && gw.lines.slice(from).some((x) => x.includes('"msg":"reloaded","routes":1,"workers":2'));
    }, 200);
    expect(settled, JSON.stringify(last?.workers.map((w) => [w.pid, w.exited, limits({ ...last!, workers: [w] })]))).toBe(true);
    expect(Object.values(last!.leases).map((x) => x.limit)).toEqual([4]);
    expect(gw.lines.slice(from).filter((x) => x.includes('reload rejected'))).toEqual([]);
    expect((await get(url)).status).toBe(200);
  });
});
