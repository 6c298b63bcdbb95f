// A storm of SIGHUPs (hostile-ops): each signal queued a reload of its own, run one after
// another — with 2 workers, 200 signals a millisecond apart ran ~160 reloads of the same file,
// each a round trip to every worker, most of them after the last signal. Now at most one waits
// behind the running one, the signals meanwhile join it, and it reads the newest file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gateway, get, oneLimitYaml, sleep, tempDir, upstream } from './helpers.js';

afterEach(cleanup);

const config = (up: string, limit: number): string => oneLimitYaml(up, limit, 'workers: 2');

describe('a storm of SIGHUPs', () => {
  it('200 signals: the reloads queued behind them are at most two, and the newest file applies', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, config(up.url, 3));
    const gw = await gateway(['gateway', '--config', file]);
    // The primary's 'reloaded' lines (a worker's has no workers count) from `from` on.
    const reloads = (from: number): number => gw.lines.slice(from).filter((l) => l.includes('"msg":"reloaded"') && l.includes('"workers":')).length;
    for (let i = 0; i < 200; i++) {
      if (i === 100) writeFileSync(file, config(up.url, 7));
      process.kill(gw.child.pid!, 'SIGHUP');
      // A turn of this loop between signals, so that the gateway takes each one in (signals
      // sent at once merge in the kernel into one).
      await sleep(1);
    }
    const afterLast = gw.lines.length;
    // Wait until no reload has come for a second (at most 30 s): before, they went on for seconds.
    let seen = -1;
    for (let i = 0; i < 30 && reloads(afterLast) !== seen; i++) {
      seen = reloads(afterLast);
      await sleep(1000);
    }
    // The running one and the one waiting (a line or two of those before may still be in the pipe).
    expect(reloads(afterLast)).toBeLessThanOrEqual(4);
    const st = JSON.parse((await get(`${gw.adminUrl}/status`)).body) as Record<string, unknown>;
    expect(JSON.stringify(st)).toContain('"limit":7');
    expect((await get(`${gw.url}/`)).status).toBe(200);
  }, 60_000);
});
