// A second SIGTERM (or SIGINT: Ctrl-C pressed again) while a drain runs "cuts the drain short"
// (docs/gateway.md, Graceful shutdown), and `close()` is a drain "with no grace: in-flight
// requests are cut". Until hostile-29 neither did: the running drain's promise was returned with
// its own deadline (drain.timeout, 30 s by default), so the gateway logged "second signal:
// cutting the drain short" and went on waiting for every in-flight request — an upstream that
// never answers kept it up for the whole drain.timeout, one process or --workers alike.
// Here the upstream never answers and drain.timeout is 10m: the process (or close()) must end
// on the second call, long before that.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneRoute, sluice, startInProcess, tempDir, upstream, WORKERS_START_MS, WORKERS_TEST_MS, ONE_START_MS } from './helpers.js';
import { rawSocket } from './raw-client.js';
import { alive } from '../cli-command.js';

afterEach(cleanup);

/** Whether `p` settles within `ms` (a hang guard far below the drain's 10m deadline). */
const settles = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);

/** An upstream that takes every request and never answers; `arrived(n)` resolves once n came. */
async function silentUpstream(): Promise<{ url: string; arrived: (n: number) => Promise<void> }> {
  let count = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const up = await upstream(() => {
    count += 1;
    for (const w of waiters) if (count >= w.n) w.resolve();
  });
  return { url: up.url, arrived: (n) => (count >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))) };
}

async function cliSecondSignal(workers: boolean): Promise<void> {
  const up = await silentUpstream();
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, `listen: { host: 127.0.0.1, port: 0 }\nadmin: { enabled: false }\nserver: { workers: ${workers ? 2 : 1} }\ndrain: { timeout: 10m }\nupstreams: { app: { url: "${up.url}", timeout: 1h } }\nroutes: [{ path: / }]\n`);
  const gw = sluice(['gateway', '--config', file]);
  const listening = await gw.waitFor('listening', workers ? WORKERS_START_MS : ONE_START_MS, 0, (l) => l['worker'] === undefined);
  const held = [rawSocket(String(listening['url'])), rawSocket(String(listening['url']))];
  for (const h of held) h.socket.write('GET /held HTTP/1.1\r\nHost: gw\r\n\r\n');
  await up.arrived(2);
  gw.child.kill('SIGTERM');
  await gw.waitFor('draining', 30_000, 0, (l) => l['worker'] === undefined);
  gw.child.kill('SIGTERM');
  await gw.waitFor('second signal: cutting the drain short', 30_000);
  const ended = await settles(gw.exited, 60_000);
  expect(ended, `still running 60 s after the second SIGTERM (drain.timeout 10m); stdout:\n${gw.lines.join('\n')}`).toBe(true);
  // The cut requests' connections end with the process (nothing was answered: the upstream may be working on them).
  for (const h of held) expect(await settles(h.closed, 10_000)).toBe(true);
  // Workers that exit after their drain did not die: no 'worker died while draining' line.
  expect(gw.lines.filter((l) => l.includes('worker died while draining'))).toEqual([]);
  // The cut is logged with the deadline in force (the second signal's 0, not drain.timeout's 10m) and what it cut:
  // the two held requests, across the processes that held them (until drainedge: `deadlineMs: 600000`, no count).
  const cuts = logLines(gw.lines, 'drain deadline passed: cutting connections');
  expect(cuts.length).toBeGreaterThan(0);
  for (const c of cuts) expect(c).toMatchObject({ deadlineMs: 0, cutShort: true, askedMs: 600_000 });
  expect(cuts.reduce((sum, c) => sum + Number(c['cut']), 0)).toBe(2);
}

/** The JSON log lines of `lines` whose `msg` is `msg`. */
function logLines(lines: readonly string[], msg: string): Record<string, unknown>[] {
  return lines.flatMap((l) => {
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      return o['msg'] === msg ? [o] : [];
    } catch {
      return [];
    }
  });
}

describe('a second signal while draining', () => {
  it('close() during a drain cuts it: in-flight requests are cut, the drain ends', { timeout: 120_000 }, async () => {
    const up = await silentUpstream();
    const gw = await startInProcess(oneRoute(up.url, '1h', { drain: { timeout: '10m' } }));
    const held = rawSocket(gw.url);
    held.socket.write('GET /held HTTP/1.1\r\nHost: gw\r\n\r\n');
    await up.arrived(1);
    const drained = gw.drain();
    // Well into the drain (past its listener grace): the second call finds it running.
    await new Promise((r) => setTimeout(r, 300));
    const closed = gw.close();
    expect(await settles(closed, 30_000), 'close() still pending 30 s into a drain with a 10m deadline').toBe(true);
    expect(await settles(drained, 1_000)).toBe(true);
    expect(await settles(held.closed, 5_000)).toBe(true);
    expect(held.text()).toBe('');
  });

  it('sluice gateway: a second SIGTERM ends the process without waiting for in-flight requests', { timeout: 180_000 }, async () => {
    await cliSecondSignal(false);
  });

  it('sluice gateway --workers 2: a second SIGTERM to the primary ends every worker and the primary', { timeout: WORKERS_TEST_MS }, async () => {
    await cliSecondSignal(true);
  });
});

describe('a worker that dies during the drain', () => {
  // "Nothing admitted is dropped silently: it completes, or its cut is logged." A worker killed
  // (OOM killer, SIGKILL) while the primary drains takes its in-flight requests with it; until
  // hostile-29 the primary said nothing of it (its 'worker died' line is skipped while draining).
  it('is logged by the primary, with its signal', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await silentUpstream();
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, `listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nserver: { workers: 2 }\ndrain: { timeout: 10m }\nupstreams: { app: { url: "${up.url}", timeout: 1h } }\nroutes: [{ path: / }]\n`);
    const gw = sluice(['gateway', '--config', file]);
    const listening = await gw.waitFor('listening', WORKERS_START_MS, 0, (l) => l['worker'] === undefined);
    const st = JSON.parse((await get(`${String(listening['adminUrl'])}/status`)).body) as { workers: { pid: number }[] };
    gw.child.kill('SIGTERM');
    await gw.waitFor('draining', 30_000, 0, (l) => l['worker'] === undefined);
    process.kill(st.workers[0]!.pid, 'SIGKILL');
    const line = await gw.waitFor('worker died while draining: what it had in flight is cut', 30_000);
    expect(line).toMatchObject({ worker: 0, signal: 'SIGKILL' });
    gw.child.kill('SIGTERM'); // the second signal: the other worker's drain ends now
    expect(await settles(gw.exited, 60_000)).toBe(true);
  });

  // A worker that does not answer the primary at all (stopped: SIGSTOP, a debugger, a loop that never yields) during the
  // drain: the second signal bounds the primary's wait for it too — it is killed CALL_TIMEOUT_MS (5 s) after the cut deadline
  // and its disconnect, not drain.timeout + 5 s after the drain began (until drainedge: the primary waited out the 10m).
  it('does not hold the primary past the second signal when it hangs', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await silentUpstream();
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, `listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nserver: { workers: 2, workerTimeout: 0s }\ndrain: { timeout: 10m }\nupstreams: { app: { url: "${up.url}", timeout: 1h } }\nroutes: [{ path: / }]\n`);
    const gw = sluice(['gateway', '--config', file]);
    const listening = await gw.waitFor('listening', WORKERS_START_MS, 0, (l) => l['worker'] === undefined);
    const st = JSON.parse((await get(`${String(listening['adminUrl'])}/status`)).body) as { workers: { pid: number }[] };
    const hung = st.workers[0]!.pid;
    process.kill(hung, 'SIGSTOP');
    try {
      gw.child.kill('SIGTERM');
      await gw.waitFor('draining', 30_000, 0, (l) => l['worker'] === undefined);
      gw.child.kill('SIGTERM');
      await gw.waitFor('second signal: cutting the drain short', 30_000);
      expect(await settles(gw.exited, 90_000), `primary still running 90 s after the second SIGTERM with a stopped worker (drain.timeout 10m); stdout:\n${gw.lines.join('\n')}`).toBe(true);
      expect(alive(hung), 'the stopped worker outlived its primary').toBe(false);
    } finally {
      if (alive(hung)) process.kill(hung, 'SIGKILL');
    }
  });
});
