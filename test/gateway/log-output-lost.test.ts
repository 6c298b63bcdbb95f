// The gateway's log output gone (badday): stdout a pipe whose reader died (a log shipper
// restarted, `sluice gateway | tee` ended) or a file on a full disk. Each log line is then a
// failed write, and node:stream turns a failed write into an 'error' event: with no listener,
// the process died of it — the primary at its next line ('reloaded', 'worker died'), each
// worker at its own — and with the primary gone every worker drained and exited. A gateway
// whose logs cannot be written must go on serving. Outcomes only.
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneLimitYaml, sleep, twoWorkersFromFile } from './helpers.js';
import { alive } from '../cli-command.js';

afterEach(cleanup);

/** Three processes start under tsx (the primary and two workers): a busy machine needs time for that. */
const START_MS = 120_000;

describe('sluice gateway --workers 2: its stdout gone', () => {
  it('a reload after the log pipe closed is applied, and the gateway serves and drains', { timeout: 300_000 }, async () => {
    const { up, file, gw, url, adminUrl } = await twoWorkersFromFile(4, START_MS);
    const pids = (JSON.parse((await get(`${adminUrl}/status`)).body) as { workers: { pid: number }[] }).workers.map((w) => w.pid);
    // The reader of the log pipe goes away: every write from now on fails with EPIPE.
    gw.child.stdout?.destroy();
    writeFileSync(file, oneLimitYaml(up, 3, 'workers: 2'));
    process.kill(gw.child.pid!, 'SIGHUP');
    // The new limit reaches /status once the reload (and its log lines, lost) is done.
    let limit: unknown;
    for (let i = 0; i < 400 && limit !== 3; i++) {
      await sleep(50);
      const s = await get(`${adminUrl}/status`).catch(() => undefined);
      if (s === undefined) break;
      limit = (JSON.parse(s.body) as { policies: { gates: { limit?: number }[] }[] }).policies[0]?.gates[0]?.limit;
    }
    expect(limit).toBe(3);
    expect(gw.child.exitCode).toBeNull();
    expect(pids.filter(alive)).toEqual(pids);
    expect((await get(url)).status).toBe(200);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  });
});
