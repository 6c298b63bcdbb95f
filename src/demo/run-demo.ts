/**
 * The demo's runs: for each run (straight at the upstream, then through the gateway) fork a
 * server process, step the open-loop load through the phases, and measure each phase in a
 * window of the server process. Everything started here is stopped here, also when
 * `signal` aborts (Ctrl-C).
 */
import { fileURLToPath } from 'node:url';
import { ConnectionPool } from './connection-pool.js';
import type { DemoGatewaySettings } from './gateway-config.js';
import type { OpenLoopProgress } from './open-loop.js';
import { runOpenLoop } from './open-loop.js';
import type { DemoOptions, DemoRun, ResolvedDemoOptions } from './options.js';
import { resolveDemoOptions } from './options.js';
import type { PhaseResult } from './phase-result.js';
import { phaseResult } from './phase-result.js';
import { ServerChild } from './server-child.js';
import type { ServerSpec } from './server-process.js';

export interface DemoEvents {
  /** A run's server process is listening. */
  readonly onRunStart?: (run: DemoRun, where: { readonly url: string; readonly adminUrl?: string; readonly upstreamUrl?: string; readonly pid?: number }) => void;
  readonly onPhaseStart?: (run: DemoRun, multiple: number, rate: number) => void;
  /** Before a phase: the upstream still works through `backlog` requests left by the previous one. */
  readonly onSettling?: (run: DemoRun, backlog: number) => void;
  readonly onProgress?: (run: DemoRun, multiple: number, p: OpenLoopProgress) => void;
  readonly onPhaseEnd?: (result: PhaseResult) => void;
}

export interface DemoResult {
  readonly options: ResolvedDemoOptions;
  readonly phases: readonly PhaseResult[];
  readonly seconds: number;
}

const serverFile = (): string => {
  const self = fileURLToPath(import.meta.url);
  return self.replace(/run-demo\.(ts|js)$/, 'server-process.$1');
};

export async function runDemo(input: DemoOptions, events: DemoEvents = {}, signal?: AbortSignal): Promise<DemoResult> {
  const o = resolveDemoOptions(input);
  const started = performance.now();
  const phases: PhaseResult[] = [];
  for (const run of o.runs) {
    signal?.throwIfAborted();
    phases.push(...(await oneRun(run, o, events, signal)));
  }
  return { options: o, phases, seconds: (performance.now() - started) / 1000 };
}

async function oneRun(run: DemoRun, o: ResolvedDemoOptions, events: DemoEvents, signal: AbortSignal | undefined): Promise<PhaseResult[]> {
  const gateway: DemoGatewaySettings = {
    mode: o.gatewayMode,
    concurrency: o.gatewayConcurrency,
    queueTimeoutMs: o.queueTimeoutMs,
    // Room for every arrival of a queue timeout at the highest phase: the timeout, not the size, bounds the wait.
    queue: Math.max(64, Math.ceil(o.capacity * Math.max(...o.phases) * (o.queueTimeoutMs / 1000) * 1.5)),
    // The load generator is one pool of keep-alive connections standing for many independent
    // users: refused connections are not paused (docs/gateway.md, "A pool in front of the
    // gateway"), or the users queued behind a paused connection would wait for it.
    pauseRefusedMs: 0,
  };
  // The upstream and the gateway each in their own process, as in production, and neither
  // in the load generator's: three event loops that do not wait on one another.
  const children: ServerChild[] = [];
  const fork = (spec: ServerSpec, name: string): ServerChild => {
    const child = new ServerChild(serverFile(), [JSON.stringify(spec)], { name });
    children.push(child);
    return child;
  };
  const stopAll = (): Promise<unknown> => Promise.allSettled(children.map((c) => c.stop()));
  const onAbort = (): void => void stopAll();
  signal?.addEventListener('abort', onAbort, { once: true });
  let pool: ConnectionPool | undefined;
  try {
    const upstream = fork({ upstream: { concurrency: o.upstreamConcurrency, serviceMs: o.serviceMs } }, 'demo upstream');
    const upstreamReady = await upstream.ready;
    const front = run === 'gateway' ? fork({ gateway, upstreamUrl: upstreamReady.url }, 'gateway') : upstream;
    const ready = await front.ready;
    signal?.throwIfAborted();
    events.onRunStart?.(run, {
      url: ready.url,
      upstreamUrl: upstreamReady.url,
      ...(ready.adminUrl === undefined ? {} : { adminUrl: ready.adminUrl }),
      ...(front.pid === undefined ? {} : { pid: front.pid }),
    });
    pool = new ConnectionPool(ready.url, o.maxSockets);
    const low = o.capacity * Math.min(...o.phases);
    if (o.warmupMs > 0) await runOpenLoop({ pool, rate: low, durationMs: o.warmupMs, timeoutMs: o.timeoutMs });
    const results: PhaseResult[] = [];
    for (const multiple of o.phases) {
      signal?.throwIfAborted();
      await settle(upstream, (backlog) => events.onSettling?.(run, backlog), signal);
      const rate = o.capacity * multiple;
      events.onPhaseStart?.(run, multiple, rate);
      await Promise.all(children.map((c) => c.request('open')));
      const r = await runOpenLoop({ pool, rate, durationMs: o.phaseMs, timeoutMs: o.timeoutMs, onProgress: (p) => events.onProgress?.(run, multiple, p) });
      const [up, fr] = await Promise.all([upstream.request('close'), front === upstream ? undefined : front.request('close')]);
      signal?.throwIfAborted();
      const result = phaseResult(run, multiple, r, (fr ?? up).process, up.upstream);
      events.onPhaseEnd?.(result);
      results.push(result);
    }
    return results;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    pool?.destroy();
    await stopAll();
  }
}

/** Most a phase waits for the previous phase's backlog to drain from the upstream. */
const SETTLE_MAX_MS = 60_000;

/**
 * Wait until the upstream has worked through the previous phase's backlog, so that each
 * phase starts from an empty queue (after a direct overload phase it holds requests whose
 * clients left long ago, and serves them all).
 */
async function settle(child: ServerChild, onBacklog: (backlog: number) => void, signal: AbortSignal | undefined): Promise<void> {
  const until = performance.now() + SETTLE_MAX_MS;
  let last = performance.now();
  while (performance.now() < until && !signal?.aborted) {
    const backlog = (await child.request('backlog')).backlog ?? 0;
    if (backlog === 0) return;
    if (performance.now() - last >= 500) {
      last = performance.now();
      onBacklog(backlog);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
