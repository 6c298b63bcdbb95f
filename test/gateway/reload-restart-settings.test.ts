// Settings a reload cannot change (listen, admin, store, server.maxHeaderSize, server.workers)
// stay the running ones for a worker forked after the reload (hostile-2 R1): a reload moving
// listen.port, then a worker killed, had the new worker listen on the reloaded port beside the
// old one — the gateway served on both, the old with one worker fewer.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withRunningRestartSettings } from '../../src/gateway/restart-settings.js';
import type { GatewayConfig } from '../../src/gateway/config-types.js';
import { startGateway } from '../../src/gateway/index.js';
import { cleanup, deadPort, get, onCleanup, oneRoute, sleep, sluice, tempDir, upstream } from './helpers.js';
import type { Spawned } from './helpers.js';

afterEach(cleanup);

const base: GatewayConfig = { upstreams: { app: { url: 'http://127.0.0.1:1' } }, routes: [{ path: '/' }] };

describe('withRunningRestartSettings', () => {
  it('keeps the running listeners, store, head size and worker count; takes everything else from the reload', () => {
    const running: GatewayConfig = {
      ...base,
      listen: { port: 8080 },
      admin: { port: 9901 },
      store: { url: 'redis://127.0.0.1:6379' },
      server: { maxHeaderSize: '16kb', workers: 2, headersTimeout: '10s' },
    };
    const next: GatewayConfig = {
      ...base,
      listen: { port: 8081 },
      admin: { enabled: false },
      store: { url: 'redis://10.0.0.5:6379' },
      server: { maxHeaderSize: '64kb', workers: 4, headersTimeout: '2s' },
      routes: [{ path: '/api' }],
    };
    expect(withRunningRestartSettings(next, running)).toEqual({
      ...base,
      listen: { port: 8080 },
      admin: { port: 9901 },
      store: { url: 'redis://127.0.0.1:6379' },
      server: { maxHeaderSize: '16kb', workers: 2, headersTimeout: '2s' },
      routes: [{ path: '/api' }],
    });
  });

  it('a setting left to its default at start stays to its default', () => {
    const next: GatewayConfig = { ...base, listen: { port: 8081 }, store: { url: 'redis://10.0.0.5:6379' }, server: { maxHeaderSize: '64kb', workers: 4 } };
    expect(withRunningRestartSettings(next, base)).toEqual({ ...base, server: {} });
  });
});

describe('a reload that changes restart-only settings', () => {
  it("names each changed listener setting in the 'reloaded' log's needsRestart — admin.tenantKeys, not 'admin' (gateway-edges)", async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const logs: { msg: string; fields: Record<string, unknown> }[] = [];
    const keep = (fields: Record<string, unknown>, msg: string): void => void logs.push({ msg, fields });
    const config = oneRoute(up.url, '2s');
    const gw = await startGateway(config, { logger: { debug: keep, info: keep, warn: keep, error: keep } });
    onCleanup(() => gw.close());
    const needsRestart = async (next: GatewayConfig): Promise<unknown> => {
      await gw.reload(next);
      return logs.filter((l) => l.msg === 'reloaded').at(-1)?.fields['needsRestart'];
    };
    expect(await needsRestart({ ...config, admin: { port: 0, tenantKeys: 'raw' } })).toEqual(['admin.tenantKeys']);
    expect(await needsRestart({ ...config, listen: { ...config.listen, backlog: 7 }, admin: { port: 0, enabled: false }, server: { maxHeaderSize: '32kb' } })).toEqual(['listen.backlog', 'admin.enabled', 'server.maxHeaderSize']);
    // Undone: against the settings the gateway started with, nothing needs a restart.
    expect(await needsRestart(config)).toBeUndefined();
    expect((await get(`${gw.url}/x`)).status).toBe(200);
  });
});

/** Three processes start under tsx (the primary and two workers): a busy machine needs time for that. */
const START_MS = 120_000;

interface WorkerStatus {
  index: number;
  pid: number;
  status: unknown;
}

async function workers(adminUrl: string): Promise<WorkerStatus[]> {
  return (JSON.parse((await get(`${adminUrl}/status`)).body) as { workers: WorkerStatus[] }).workers;
}

/**
 * The primary's answer to the reload after line `from` (the workers' lines carry a worker
 * index): 'reloaded', or why not; 'none' after 120 s (a busy machine: three processes under tsx).
 */
async function primaryReloaded(gw: Spawned, from: number): Promise<string> {
  for (let i = 0; i < 2_400; i++) {
    const line = gw.lines.slice(from).find((l) => !l.startsWith('{"worker"') && /"msg":"reload(ed| rejected)/.test(l));
    if (line !== undefined) return line.includes('"msg":"reloaded"') ? 'reloaded' : line;
    if (gw.child.exitCode !== null || gw.child.signalCode !== null) break;
    await sleep(50);
  }
  return `none (exit ${gw.child.exitCode ?? gw.child.signalCode}); stdout:\n${gw.lines.join('\n')}\nstderr:\n${gw.stderr()}`;
}

describe('sluice gateway --workers 2: a reload that changes listen.port, then a worker dies', () => {
  it('the worker forked again listens on the running port, not on the reloaded one', { timeout: 300_000 }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const running = await deadPort();
    let reloaded = await deadPort();
    while (reloaded === running) reloaded = await deadPort();
    const file = join(tempDir(), 'sluice.yaml');
    const yaml = (port: number): string =>
      `listen: { host: 127.0.0.1, port: ${port} }\nadmin: { host: 127.0.0.1, port: 0 }\nserver: { workers: 2 }\nupstreams: { app: { url: "${up.url}" } }\nroutes: [{ path: / }]\n`;
    writeFileSync(file, yaml(running));
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', START_MS);
    const adminUrl = String(l['adminUrl']);
    const from = gw.lines.length;
    writeFileSync(file, yaml(reloaded));
    gw.child.kill('SIGHUP');
    expect(await primaryReloaded(gw, from)).toBe('reloaded');
    const dead = (await workers(adminUrl))[0]!;
    const at = gw.lines.length;
    process.kill(dead.pid, 'SIGKILL');
    let replaced = false;
    for (let i = 0; i < 1_200 && !replaced; i++) {
      const w = (await workers(adminUrl))[0]!;
      replaced = w.pid !== dead.pid && w.status !== undefined;
      if (!replaced) await sleep(100);
    }
    expect(replaced).toBe(true);
    const again = await gw.waitFor('worker listening', START_MS, at);
    expect(again['url']).toBe(`http://127.0.0.1:${running}`);
    expect((await get(`http://127.0.0.1:${running}/x`)).status).toBe(200);
    await expect(get(`http://127.0.0.1:${reloaded}/x`)).rejects.toThrow(/ECONNREFUSED/);
  });
});
