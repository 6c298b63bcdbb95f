// A worker that stops answering (SIGSTOP, a debugger, a loop that never yields) while the
// others serve (hostile-9). The primary's /status asked it with the 5 s call timeout at every
// scrape — each /status took 5 s — and then dropped its counts from the sum (its entry: no
// status; the merged counters went backwards). Now a status call waits one refresh interval:
// the worker keeps its last status, marked `answering: false`, and the sum keeps its counts.
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_TEST_MS, cleanup, gateway, get, upstream, within } from './helpers.js';

afterEach(cleanup);

interface Status {
  counters: { requests: number };
  workers: { index: number; pid: number; answering: boolean; status: { counters: { requests: number } } | undefined }[];
}

describe('sluice gateway --workers 2: a stopped worker', () => {
  it('/status keeps its last status, says it is not answering, and the sum does not go backwards; it answers again once continued', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--workers', '2', '--concurrency', '4']);
    const status = async (): Promise<Status> => JSON.parse((await get(`${gw.adminUrl}/status`)).body) as Status;
    // Both workers have served (the kernel picks which accepts): their status counts requests.
    await within(60_000, async () => {
      await get(`${gw.url}/x`);
      return (await status()).workers.every((w) => (w.status?.counters.requests ?? 0) > 0);
    });
    const before = await status();
    const stopped = before.workers[0]!;
    process.kill(stopped.pid, 'SIGSTOP');
    try {
      const during = await status();
      const w = during.workers.find((x) => x.pid === stopped.pid)!;
      expect(w.answering).toBe(false);
      expect(w.status?.counters.requests).toBe(stopped.status!.counters.requests);
      expect(during.counters.requests).toBeGreaterThanOrEqual(before.counters.requests);
    } finally {
      process.kill(stopped.pid, 'SIGCONT');
    }
    expect(await within(10_000, async () => (await status()).workers.every((w) => w.answering), 100)).toBe(true);
  }, WORKERS_TEST_MS);

  it('/metrics with Prometheus\'s scrape timeout: the answering worker\'s series come within it, the stopped worker\'s levels are left out (its counts as last seen stay)', async () => {
    // Before: the scrape waited 30 s for the stopped worker, past Prometheus's timeout, and lost every series.
    // Its running totals as last seen (a scrape, or since metricsfold the primary's status poll) are served,
    // as for a dead worker (prometheus-merge.ts): a sum over workers never goes back; its gauges are not.
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--workers', '2', '--concurrency', '4']);
    const st = JSON.parse((await get(`${gw.adminUrl}/status`)).body) as Status;
    const stopped = st.workers[0]!;
    process.kill(stopped.pid, 'SIGSTOP');
    try {
      const r = await Promise.race([
        get(`${gw.adminUrl}/metrics`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '3' } }),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000)),
      ]);
      expect(r?.status).toBe(200);
      expect(r!.body).toContain(`worker="${st.workers[1]!.index}"`);
      const types = new Map([...r!.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
      const typeOf = (sample: string): string | undefined => types.get(sample) ?? types.get(sample.replace(/_(bucket|sum|count)$/, ''));
      const stoppedLevels = r!.body
        .split('\n')
        .filter((line) => !line.startsWith('#') && line.includes(`worker="${stopped.index}"`))
        .filter((line) => typeOf(/^[^{ ]+/.exec(line)![0]) === 'gauge')
        .filter((line) => !line.startsWith('sluice_worker_scrape_answered{')); // the primary's word on it, below
      expect(stoppedLevels).toEqual([]);
      expect(r!.body).toMatch(new RegExp(`^sluice_\\w+\\{[^}]*worker="${st.workers[1]!.index}"`, 'm'));
      // The page names the worker that did not answer (until drainedge it only lacked its gauges).
      expect(r!.body).toContain(`\nsluice_worker_scrape_answered{worker="${stopped.index}"} 0\n`);
      expect(r!.body).toContain(`\nsluice_worker_scrape_answered{worker="${st.workers[1]!.index}"} 1\n`);
    } finally {
      process.kill(stopped.pid, 'SIGCONT');
    }
  }, WORKERS_TEST_MS);
});
