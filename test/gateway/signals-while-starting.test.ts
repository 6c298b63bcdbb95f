// A signal that reaches `sluice gateway --workers 2` while it starts: the primary logs
// 'listening' only once its workers listen, and a signal with no handler ends a process. A
// SIGHUP then (a config-management tool reloading a service it has just started) killed the
// primary; it was what made reload-restart-settings.test.ts fail in full runs on a busy machine
// (SIGHUP sent on the primary's 'listening' line, a few microtasks before its handler existed).
// Now: a SIGHUP while starting is a reload once started; a SIGTERM drains once started.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, sleep, sluice, tempDir, upstream } from './helpers.js';
import type { Spawned } from './helpers.js';

afterEach(cleanup);

/** Three processes start under tsx (the primary and two workers): a busy machine needs time for that. */
const START_MS = 120_000;

const primaryLine = (l: string): boolean => l.startsWith('{') && !l.startsWith('{"worker"');

async function untilLine(gw: Spawned, pred: (l: string) => boolean, ms: number): Promise<string | undefined> {
  for (let waited = 0; waited < ms; waited += 25) {
    const l = gw.lines.find(pred);
    if (l !== undefined) return l;
    if (gw.child.exitCode !== null || gw.child.signalCode !== null) return gw.lines.find(pred);
    await sleep(25);
  }
  return undefined;
}

async function starting(): Promise<{ gw: Spawned; port: number }> {
  const up = await upstream((_req, res) => res.end('ok'));
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, `listen: { host: 127.0.0.1, port: 0 }\nadmin: { enabled: false }\nserver: { workers: 2 }\nupstreams: { app: { url: "${up.url}" } }\nroutes: [{ path: / }]\n`);
  const gw = sluice(['gateway', '--config', file]);
  // The first worker listens before the primary has its second worker: the primary is starting.
  const first = await untilLine(gw, (l) => l.includes('"msg":"worker listening"'), START_MS);
  expect(first, `no worker listened; exit ${gw.child.exitCode ?? gw.child.signalCode}; stderr:\n${gw.stderr()}`).toBeDefined();
  return { gw, port: Number(new URL(String((JSON.parse(first!) as { url: string }).url)).port) };
}

describe('sluice gateway --workers 2: signals while it starts', () => {
  it('a SIGHUP is a reload once started, not the end of the primary', { timeout: 300_000 }, async () => {
    const { gw, port } = await starting();
    gw.child.kill('SIGHUP');
    const listening = await untilLine(gw, (l) => primaryLine(l) && l.includes('"msg":"listening"'), START_MS);
    const why = `exit ${gw.child.exitCode ?? gw.child.signalCode}; stdout:\n${gw.lines.join('\n')}\nstderr:\n${gw.stderr()}`;
    expect(listening, why).toBeDefined();
    const reloaded = await untilLine(gw, (l) => primaryLine(l) && /"msg":"reload(ed| rejected)/.test(l), START_MS);
    expect(reloaded, why).toContain('"msg":"reloaded"');
    expect(gw.child.exitCode).toBeNull();
    expect(gw.child.signalCode).toBeNull();
    expect((await get(`http://127.0.0.1:${port}/x`)).status).toBe(200);
  });

  it('a SIGTERM drains once started and exits 0', { timeout: 300_000 }, async () => {
    const { gw } = await starting();
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    expect(gw.child.signalCode).toBeNull();
    expect(gw.lines.some((l) => primaryLine(l) && l.includes('"msg":"stopped"'))).toBe(true);
  });
});
