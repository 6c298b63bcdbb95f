// Connections already in the listener's accept queue when a drain begins (hostile finding D1):
// the drain closed the listener at once, and the kernel reset every connection still queued
// there — clients that had connected (and sent their request) in the first ~30-40 ms of a
// drain got ECONNRESET instead of an answer. Each is now accepted and answered (503 +
// Connection: close, the drain's refusal) before the listener closes. The queue is filled
// while the gateway cannot accept (its event loop blocked, or its workers stopped), so what
// is asserted is an order of events, not a timing.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_TEST_MS, cleanup, gateway, get, oneRoute, sleep, startInProcess, upstream } from './helpers.js';

afterEach(cleanup);

interface Outcome {
  /** The response's status line, or the socket error's code, or 'silent' (closed without an answer). */
  readonly what: string;
  readonly connection: string | undefined;
}

/** Connect, send one GET, read until the connection closes (bounded). */
function attempt(url: string): { connected: Promise<void>; outcome: Promise<Outcome> } {
  const u = new URL(url);
  const s = connect(Number(u.port), u.hostname);
  let data = '';
  let err = '';
  s.setEncoding('latin1');
  s.write('GET /x HTTP/1.1\r\nHost: gw\r\n\r\n');
  const connected = new Promise<void>((resolve) => s.once('connect', () => resolve()));
  const outcome = new Promise<Outcome>((resolve) => {
    s.on('data', (d: string) => (data += d));
    s.on('error', (e: NodeJS.ErrnoException) => (err = e.code ?? 'error'));
    const timer = setTimeout(() => s.destroy(), 15_000);
    s.on('close', () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      resolve({ what: m !== null ? m[1]! : err !== '' ? err : 'silent', connection: /\r\nconnection: (\S+)\r\n/i.exec(data)?.[1]?.toLowerCase() });
    });
  });
  return { connected, outcome };
}

/** Block this thread (the gateway's event loop, in process) for `ms`. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // the kernel completes loopback handshakes meanwhile; nothing here accepts them
  }
}

describe('drain: connections waiting in the accept queue', () => {
  it('one process: connections queued when the drain begins are answered 503 + Connection: close, not reset', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s', { routes: [{ path: '/', policy: { concurrency: 4 } }] }));
    expect((await get(`${gw.url}/x`)).status).toBe(200);
    // Issued, and the handshakes done by the kernel, while this event loop cannot accept them.
    const tries = Array.from({ length: 8 }, () => attempt(gw.url));
    block(100);
    const drained = gw.drain(5_000);
    const outcomes = await Promise.all(tries.map((t) => t.outcome));
    await drained;
    expect(outcomes.map((o) => o.what)).toEqual(Array(8).fill('503'));
    expect(outcomes.every((o) => o.connection === 'close')).toBe(true);
  });

  it('--workers 2: connections queued while the workers get the drain are answered, not reset', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--concurrency', '20', '--workers', '2', '--drain-timeout', '10s']);
    expect((await get(`${gw.url}/x`)).status).toBe(200);
    const status = JSON.parse((await get(`${gw.adminUrl}/status`)).body) as { workers: { pid: number }[] };
    const pids = status.workers.map((w) => w.pid);
    expect(pids).toHaveLength(2);
    // Both workers stopped: the drain's call waits in their channels, then connections wait in
    // the listener's queue behind it; on SIGCONT each worker reads its drain call first.
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    const from = gw.lines.length;
    gw.child.kill('SIGTERM');
    let tries: ReturnType<typeof attempt>[] = [];
    try {
      await gw.waitFor('draining', 10_000, from);
      tries = Array.from({ length: 8 }, () => attempt(gw.url));
      await Promise.all(tries.map((t) => t.connected)); // in the accept queue: no worker runs
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    const outcomes = await Promise.all(tries.map((t) => t.outcome));
    expect(await gw.exited).toBe(0);
    // Each was accepted by a worker and answered, none reset. On SIGCONT a worker's poll phase
    // may read a connection before its drain call (both were ready at once): that one is served
    // (200) as any request before the drain; the rest are refused 503 with Connection: close.
    expect(outcomes.filter((o) => o.what !== '200' && o.what !== '503')).toEqual([]);
    const refused = outcomes.filter((o) => o.what === '503');
    expect(refused.every((o) => o.connection === 'close')).toBe(true);
  });

  it('--workers 2: once every worker has closed its listener, a client is refused, not queued behind the primary and reset', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--concurrency', '20', '--workers', '2', '--drain-timeout', '10s']);
    expect((await get(`${gw.url}/x`)).status).toBe(200);
    const from = gw.lines.length;
    const workerLines = (msg: string): number => gw.lines.slice(from).filter((l) => l.startsWith('{"worker":') && l.includes(`"msg":"${msg}"`)).length;
    const until = async (ok: () => boolean): Promise<void> => {
      for (let i = 0; i < 300 && !ok(); i++) await sleep(100);
      expect(ok()).toBe(true);
    };
    gw.child.kill('SIGTERM');
    // The primary stopped once both workers have its drain call: whatever it does when the drain
    // begins is done, and it reads none of their answers (nor their listeners' 'close') meanwhile.
    await until(() => workerLines('draining') === 2);
    process.kill(gw.child.pid!, 'SIGSTOP');
    let outcome: Promise<Outcome>;
    try {
      await until(() => workerLines('listener closed: new connections are refused') === 2);
      const t = attempt(gw.url);
      outcome = t.outcome;
      // Refused at once, or (the primary's copy still listening) queued: wait for either.
      await Promise.race([t.connected, outcome]);
    } finally {
      process.kill(gw.child.pid!, 'SIGCONT');
    }
    expect((await outcome).what).toBe('ECONNREFUSED');
    expect(await gw.exited).toBe(0);
  });
});
