/**
 * When a load generator's connections have all been accepted by the proxy under test: the
 * closed loop's probe starts then, so that it measures a newcomer during the retry storm and
 * not a connection queued in the kernel behind the generator's own connection storm.
 *
 * Why: wrk opens all its connections the instant it starts, and the kernel completes every
 * handshake itself; the proxy then accepts them from the listener's accept queue, FIFO, at
 * whatever rate its loop allows. A probe connection opened in those first seconds is
 * connected (its SYN-ACK came from the kernel) but not accepted: its request waits behind
 * the generator's connections. Measured (2,000 connections, sluice 1 worker, busy host):
 * the accept queue held 700–1,500 connections for the first ~3 s; probes opened then were
 * accepted 0.6–2.7 s late, and that was the whole of the probe's p99 (2,695 ms) — probes
 * opened after it had drained: p99 430 ms, of which the refusal itself took 0.1–0.3 ms.
 *
 * Read from `ss` (iproute2, Linux; the kernel filters by port): the listener's Recv-Q is its
 * accept queue, and established sockets on the port count the accepted ones and the queued.
 */
import { execFile } from 'node:child_process';

export interface ListenerState {
  /** Connections the kernel holds for the listener(s) on the port, not yet accepted. */
  readonly acceptQueue: number;
  /** Established connections to the port, accepted or queued. */
  readonly established: number;
}

function ss(args: readonly string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('ss', args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => resolve(err === null ? stdout : undefined));
  });
}

/** The listener's state on `port` (every listener on it, as with SO_REUSEPORT); undefined without `ss`. */
export async function listenerState(port: number): Promise<ListenerState | undefined> {
  const [listening, established] = await Promise.all([ss(['-Htln', `sport = :${port}`]), ss(['-Htn', 'state', 'established', `sport = :${port}`])]);
  if (listening === undefined || established === undefined) return undefined;
  const lines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '');
  // -l rows: State Recv-Q Send-Q Local Peer; for a listener Recv-Q is the accept queue.
  const acceptQueue = lines(listening).reduce((n, l) => n + Number(l.trim().split(/\s+/)[1] ?? NaN), 0);
  return Number.isFinite(acceptQueue) ? { acceptQueue, established: lines(established).length } : undefined;
}

/**
 * Resolves once `connections` are established to `port` and none waits to be accepted, or
 * after `maxMs`: the ms it waited, and whether the condition held (false: timed out, or `ss`
 * could not say).
 */
export async function whenAccepted(port: number, connections: number, maxMs: number, everyMs = 100): Promise<{ waitedMs: number; accepted: boolean }> {
  const t0 = performance.now();
  for (;;) {
    const s = await listenerState(port);
    const waitedMs = performance.now() - t0;
    if (s === undefined) return { waitedMs, accepted: false };
    if (s.established >= connections && s.acceptQueue === 0) return { waitedMs, accepted: true };
    if (waitedMs >= maxMs) return { waitedMs, accepted: false };
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
