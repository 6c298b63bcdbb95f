// A reload of an invalid file while requests come (reload-record.ts): the previous config keeps
// serving every request, the error names the option, and /status `reload` says the reload was
// rejected, when, and why — until reload22 only a log line did. A later valid file applies.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayStatus } from '../../src/gateway/index.js';
import { cleanup, gateway, get, oneLimitYaml, startInProcess, tempDir, twoWorkersFromFile, upstream, within, WORKERS_START_MS, WORKERS_TEST_MS, primaryLine } from './helpers.js';
import type { GatewayConfig } from '../../src/gateway/index.js';

afterEach(cleanup);

const REJECTED = 'reload rejected: the previous config keeps serving';

/** The gateway's /status, read over its admin listener. */
async function status(adminUrl: string): Promise<GatewayStatus> {
  return JSON.parse((await get(`${adminUrl}/status`)).body) as GatewayStatus;
}

/** `n` requests at a time until `stop()`; resolves the statuses seen. */
function load(url: string, n: number): { stop: () => Promise<number[]> } {
  let going = true;
  const seen: number[] = [];
  const loops = Array.from({ length: n }, async () => {
    while (going) seen.push((await get(`${url}/`).catch(() => ({ status: 0 }))).status);
  });
  return {
    stop: async () => {
      going = false;
      await Promise.all(loops);
      return seen;
    },
  };
}

/** The errors of the `reload rejected` log lines from line `from` on. */
function rejections(lines: readonly string[], from: number): string[] {
  return lines.slice(from).flatMap((l) => {
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      return o['msg'] === REJECTED ? [String(o['error'])] : [];
    } catch {
      return [];
    }
  });
}

/** `text` in a sluice.yaml of a temp directory of its own; its path. */
function configFile(text: string): string {
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, text);
  return file;
}

const limitOf = (s: GatewayStatus): number | undefined => s.policies[0]?.gates.find((g) => g.kind === 'concurrency')?.limit;

/**
 * The file replaced whole (a sibling written, then renamed over it), as an editor that saves
 * atomically does: writeFileSync truncates first, and the gateway's directory watch could read the
 * empty file in between — a rejection of its own ("expected a mapping, found null") that took the
 * place of the one this test asserts (the fresh-clone CI beside a CPU hog, 09cf2fa).
 */
function replaceFile(file: string, text: string): void {
  writeFileSync(`${file}.next`, text);
  renameSync(`${file}.next`, file);
}

describe('a reload of an invalid file', () => {
  it('keeps the old config serving under load, names the option, and /status says it was rejected and when; a later valid file applies', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = configFile(oneLimitYaml(up.url, 3));
    const gw = await gateway(['gateway', '--config', file]);
    expect((await status(gw.adminUrl)).reload).toEqual({ applied: 0, partial: 0, rejected: 0, generation: 1 });
    const traffic = load(gw.url, 2);

    // An option out of range (the file's own check names it), then a file that is not YAML.
    const cases: [string, RegExp][] = [
      [oneLimitYaml(up.url, 3).replace('limit: 3', 'limit: -1'), /sluice\.yaml:6: policies\.p\.concurrency\.limit: expected an integer from 1 to 1000000, found -1/],
      ['listen: { host: 127.0.0.1\n  port: [\n', /sluice\.yaml:\d+: \(document\): expected valid YAML/],
    ];
    let rejected = 0;
    for (const [text, error] of cases) {
      const before = Date.now();
      const from = gw.lines.length;
      replaceFile(file, text);
      gw.child.kill('SIGHUP');
      // The file watch asks for the same text too: skipped (one edit and one SIGHUP are one reload).
      expect(await within(10_000, () => rejections(gw.lines, from).some((e) => error.test(e)), 20)).toBe(true);
      const s = await status(gw.adminUrl);
      expect(s.reload!.rejected).toBe(rejected + 1);
      rejected = s.reload!.rejected;
      expect(s.reload).toMatchObject({ applied: 0, last: { outcome: 'rejected' }, lastRejected: { error: expect.stringMatching(error) as unknown } });
      const at = Date.parse(s.reload!.last!.at);
      expect(at).toBeGreaterThanOrEqual(before - 1_000); // an ISO time of this rejection (the clock's ms, rounded down)
      expect(at).toBeLessThanOrEqual(Date.now());
      expect(s.reload!.lastRejected!.at).toBe(s.reload!.last!.at);
      expect(limitOf(s)).toBe(3); // the old config is the one in force
    }

    const from = gw.lines.length;
    replaceFile(file, oneLimitYaml(up.url, 5));
    gw.child.kill('SIGHUP');
    await gw.waitFor('reloaded', 10_000, from, primaryLine);
    const seen = await traffic.stop();
    const s = await status(gw.adminUrl);
    expect(limitOf(s)).toBe(5);
    // The SIGHUP applies it; the file watch's ask for the same text is skipped (one edit, one reload).
    expect(s.reload!.applied).toBe(1);
    expect(s.reload!.rejected).toBe(rejected);
    expect(s.reload).toMatchObject({ last: { outcome: 'applied' }, lastRejected: { error: expect.stringMatching(/expected valid YAML/) as unknown } });
    // Every request while the invalid files were in the way was served by the old config.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((c) => c !== 200)).toEqual([]);
  }, 60_000);

  it('reload() itself rejecting (a config the gateway refuses) is counted too, and the old config serves', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const config = (limit: number): GatewayConfig => ({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { port: 0 },
      upstreams: { app: { url: up.url } },
      policies: { p: { concurrency: { limit } } },
      routes: [{ path: '/', policy: 'p' }],
    });
    const gw = await startInProcess(config(2));
    await expect(gw.reload(config(0))).rejects.toThrow(/policies\.p\.concurrency\.limit: expected an integer from 1 to 1000000, found 0/);
    expect(gw.status().reload).toMatchObject({ applied: 0, rejected: 1, last: { outcome: 'rejected' }, lastRejected: { error: expect.stringContaining('policies.p.concurrency.limit') as unknown } });
    expect((await get(`${gw.url}/`)).status).toBe(200);
    expect(limitOf(gw.status())).toBe(2);
    await gw.reload(config(4));
    expect(gw.status().reload).toMatchObject({ applied: 1, rejected: 1, last: { outcome: 'applied' } });
    expect(limitOf(gw.status())).toBe(4);
  });

  it('with server.workers: the primary\'s /status says so (a rejected file never reaches a worker)', async () => {
    const { up, file, gw, url, adminUrl } = await twoWorkersFromFile(3, WORKERS_START_MS);
    const from = gw.lines.length;
    replaceFile(file, oneLimitYaml(up, 3, 'workers: 2').replace('limit: 3', 'limit: -1'));
    gw.child.kill('SIGHUP');
    expect(await within(10_000, () => rejections(gw.lines, from).some((e) => e.includes('policies.p.concurrency.limit')), 20)).toBe(true);
    const s = await status(adminUrl);
    expect(s.reload).toMatchObject({ applied: 0, last: { outcome: 'rejected' }, lastRejected: { error: expect.stringContaining('policies.p.concurrency.limit: expected an integer from 1 to 1000000, found -1') as unknown } });
    expect((await get(`${url}/`)).status).toBe(200);
    const next = gw.lines.length;
    replaceFile(file, oneLimitYaml(up, 4, 'workers: 2'));
    gw.child.kill('SIGHUP');
    await gw.waitFor('reloaded', 30_000, next, primaryLine);
    expect((await status(adminUrl)).reload).toMatchObject({ last: { outcome: 'applied' }, lastRejected: { error: expect.stringContaining('policies.p.concurrency.limit') as unknown } });
  }, WORKERS_TEST_MS);
});
