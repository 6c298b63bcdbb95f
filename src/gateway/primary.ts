/**
 * The gateway with `server.workers` > 1: this process is the primary. It forks the workers
 * (node:cluster; each serves the shared listener on its own event loop), holds the host's
 * shared limits in a {@link LeaseLedger} and answers the workers' lease calls, serves the
 * admin listener for all of them (/status and /metrics aggregated, per worker where it
 * helps), and passes reloads and the drain on to every worker.
 *
 * A worker that dies gives back what it held (its slots are dropped from the ledger; the
 * tokens it held are lost, never minted twice) and is forked again; the requests it had in
 * flight end with it: answered 502 when it crashed on an exception (worker.ts), their
 * connections closed by the kernel when it was killed. The other workers are untouched. A
 * replacement that fails to start is forked again with a capped backoff (worker-restarts.ts),
 * and /status and /readyz say how many workers serve meanwhile (`degraded`).
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { Dashboard } from '../dashboard/dashboard.js';
import type { DashboardSample } from '../dashboard/dashboard.js';
import { mergeGroupSamples } from '../dashboard/merge-samples.js';
import { LeaseLedger } from '../shared/lease-ledger.js';
import { ADMIN_DASHBOARD_PAGES } from './admin-connections.js';
import { startPrimaryAdmin } from './primary-admin.js';
import type { GatewayConfig } from './config-types.js';
import { answerLease } from './ipc-limit-store.js';
import type { LeaseCall } from './ipc-limit-store.js';
import { JsonLogger } from './logger.js';
import type { Logger } from './logger.js';
import type { ResolvedConfig } from './resolved-config.js';
import { watchHandoffs } from './handles-in-transit.js';
import { ClosedCopies, SharedListener, choosePort } from './shared-listener.js';
import { gatewayGroupLimits } from './status-merge.js';
import { withPinnedPort, withRunningRestartSettings } from './restart-settings.js';
import { resolveConfig } from './validate-config.js';
import { ReloadRecord } from './reload-record.js';
import { WorkerRollout } from './worker-rollout.js';
import { CALL_TIMEOUT_MS, WorkerCalls } from './worker-calls.js';
import type { CallBody } from './worker-calls.js';
import { Waiters, WorkerRestarts } from './worker-restarts.js';
import type { WorkerMessage } from './worker-messages.js';
import { STATUS_REFRESH_MS, WorkerPolls } from './primary-polls.js';
import type { PrimaryStatus } from './primary-polls.js';
import { StartDeadline } from './start-deadline.js';
import { DrainDeadline } from './gateway-drain.js';
import type { Slot } from './primary-slot.js';

export type { PrimaryStatus } from './primary-polls.js';

/** The same shape as gateway.ts's Gateway (kept apart: gateway.ts imports this file). */
export interface PrimaryGateway {
  readonly url: string;
  readonly adminUrl: string;
  status(): PrimaryStatus;
  /** `timeoutMs`: how long a worker's series are waited for (a worker that does not answer is left out; none answering before any ever did rejects with MetricsUnansweredError). */
  metrics(timeoutMs?: number): Promise<string | undefined>;
  dashboard(): DashboardSample;
  reload(config: GatewayConfig): Promise<void>;
  reloadRejected(error: unknown): void;
  drain(deadlineMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A worker that dies again within this long of its start is forked again only after it. */
const CRASH_LOOP_MS = 1_000;

function workerFile(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? './worker-main.ts' : './worker-main.js', here));
}

export async function startPrimary(config: GatewayConfig, resolved: ResolvedConfig, options: { readonly logger?: Logger } = {}): Promise<PrimaryGateway> {
  const logger = options.logger ?? new JsonLogger(resolved.logLevel);
  const ledger = new LeaseLedger();
  const n = resolved.server.workers;
  let draining = false;
  const calls = new WorkerCalls();
  // listen.port 0: one port for every worker for good, whichever dies (shared-listener.ts).
  const pinned = resolved.listen.port === 0 ? await choosePort(resolved.listen.host) : undefined;
  const running = withPinnedPort(config, pinned);
  const failedStarts = new WorkerRestarts(logger);
  const slots: Slot[] = [];
  /** The primary's copy of the proxy listener: closed first when the drain begins (shared-listener.ts). */
  const listener = new SharedListener();
  // Who closed their copy of it in a drain: told once every copy is (the socket no longer listens).
  const copies = new ClosedCopies(() => logger.info('listener closed in every worker: new connections are refused', { workers: n }));
  // The workers accept on the shared listener themselves (the kernel picks which), unless
  // NODE_CLUSTER_SCHED_POLICY=rr asks for node:cluster's round-robin, where this process
  // accepts every connection and passes it to a worker over IPC: 570-640 µs of this
  // process's CPU per connection and about twice the workers' own (3,000 connections with a
  // request each, load 16 on 2 cores: 3.5-3.8 ms of gateway CPU per connection round-robin,
  // 1.6-2.3 ms accepted by the workers, split 1,494/1,506). Set before the first fork, which
  // freezes it.
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ exec: workerFile(), serialization: 'advanced' });

  // A worker not listening this long after its fork is killed: a failed start (reloadable, as server.workerTimeout).
  let startTimeoutMs = resolved.server.workerStartTimeoutMs;
  const call = (s: Slot, m: CallBody, timeoutMs = CALL_TIMEOUT_MS): Promise<unknown> => calls.call(s.worker, s.index, m, timeoutMs);

  // The gateway's drain's deadline, and CALL_TIMEOUT_MS for a worker's answer: a worker that has not answered its
  // drain by then is cut off (then killed). A second signal brings it nearer: until drainedge the primary waited
  // for a worker that never answered (stopped) until the first deadline (drain.timeout + 5 s) whatever came after.
  const stopBy = new DrainDeadline(Infinity);
  /** Ask `s` to drain within `deadlineMs`, cut its channel, kill it if it is not gone soon after; resolves once it exited. */
  const stopWorker = (s: Slot, deadlineMs: number): Promise<void> =>
    (s.stopping ??= (async () => {
      const exited = new Promise<void>((resolve) => (s.worker.isDead() ? resolve() : s.worker.once('exit', () => resolve())));
      await Promise.race([call(s, { t: 'call', op: 'drain', deadlineMs }, deadlineMs + CALL_TIMEOUT_MS).catch(() => undefined), stopBy.late]);
      if (s.worker.isConnected()) s.worker.disconnect();
      const kill = setTimeout(() => s.worker.process.kill('SIGKILL'), CALL_TIMEOUT_MS);
      await exited;
      clearTimeout(kill);
    })());

  const reloads = new ReloadRecord();
  const relisten = new Waiters();
  // The config generation every worker runs or converges on; a worker forked gets the one in force.
  const rollout: WorkerRollout<Slot> = new WorkerRollout<Slot>(
    {
      workers: () => slots,
      reload: async (s, next, generation) => void (await call(s, { t: 'call', op: 'reload', config: withPinnedPort(next, pinned), generation })),
      // Rolling: the next worker is replaced once this one's replacement listens (or the drain began).
      replace: async (s): Promise<void> => {
        const up = relisten.wait(s.index);
        await stopWorker(s, resolveConfig(rollout.current.config).drain.timeoutMs);
        await up;
      },
      record: reloads,
      logger,
      summary: (c) => ({ routes: c.routes.length, workers: n }),
    },
    config,
  );

  // The workers' status, polled once a second, and /status and /metrics from it (primary-polls.ts).
  let workerTimeoutMs = resolved.server.workerTimeoutMs;
  const polls = new WorkerPolls({
    slots,
    workers: n,
    ledger,
    logger,
    reloads,
    failedStarts,
    admin: resolved.admin.enabled,
    call,
    draining: () => draining,
    workerTimeoutMs: () => workerTimeoutMs,
    refreshed: () => rollout.check(),
    dashboardPages: () => dashboard.pages,
  });

  const onLease = async (s: Slot, m: LeaseCall): Promise<void> => {
    // A call its worker sent just before dying may be read after its 'exit' (the channel is read
    // apart from the exit): granted then, its slots would be held by no one for ever (L1).
    if (s.dead) return;
    let reply: { result?: unknown; error?: string };
    try {
      reply = { result: await answerLease(s.store, m) };
    } catch (err) {
      reply = { error: err instanceof Error ? err.message : String(err) };
    }
    // Dead while its call was answered: what it was just granted goes back with the rest.
    if (s.dead) {
      ledger.drop(s.holder);
      return;
    }
    if (s.worker.isConnected()) s.worker.send({ t: 'lease-reply', id: m.id, ...reply });
  };

  /** Fork worker `index`; resolves once it listens (rejects if it fails to start, or cannot be forked). */
  const fork = (index: number, restarts: number): Promise<Slot> => {
    let worker: Worker;
    try {
      worker = cluster.fork();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    // Connections on their way to it when it dies are closed, not left hanging (F10).
    const closeHandoffs = watchHandoffs(worker);
    listener.watch(worker);
    const holder = `worker-${index}-${worker.id}`;
    const s: Slot = { index, worker, holder, store: ledger.holder(holder), restarts, status: undefined, answering: true, answeredAt: performance.now(), killed: false, dashboard: undefined, url: '', dead: false, generation: undefined, replacing: false, stopping: undefined };
    // Told when another worker waits for slots it holds idle: it gives them back now (hostile-24).
    ledger.onWanted(holder, (name, fairShare) => {
      if (!s.dead && worker.isConnected()) worker.send({ t: 'lease-wanted', name, fairShare });
    });
    // Asked to cut slow readers holding its slots: requests wait on another worker, none is free (slow-readers.ts).
    ledger.onYield(holder, (name, asked) => {
      if (!s.dead && worker.isConnected()) worker.send({ t: 'lease-yield', name, asked });
    });
    const startedAt = performance.now();
    // A send to a worker that just died fails asynchronously, here: its 'exit' handles the rest.
    worker.on('error', (err) => logger.debug('worker channel error', { worker: index, error: String(err) }));
    return new Promise((resolve, reject) => {
      let up = false;
      let startedAs = 0;
      // Hung in its start (a module load, a preload, a connection that never answers): killed, and its exit rejects with why.
      let hung: string | undefined;
      const timeoutMs = startTimeoutMs;
      const deadline = new StartDeadline(timeoutMs, () => {
        hung = `worker ${index} did not listen within server.workerStartTimeout (${timeoutMs} ms)`;
        logger.warn('worker did not listen within server.workerStartTimeout: killing it', { worker: index, pid: worker.process.pid, workerStartTimeoutMs: timeoutMs });
        worker.process.kill('SIGKILL');
      });
      worker.on('message', (raw: unknown) => {
        // Anything it sends shows it alive: a status answer after its call timed out too (a slow loop is not a stopped one).
        s.answeredAt = performance.now();
        const m = raw as WorkerMessage | LeaseCall;
        if (m.t === 'lease') void onLease(s, m);
        else if (m.t === 'call-reply') calls.answer(m);
        else if (m.t === 'ready') {
          // It listens, parses heads and reaches its store as the running workers do: those settings need a restart (hostile-2 R1).
          const { config: next, generation } = rollout.current;
          startedAs = generation;
          worker.send({ t: 'start', config: withRunningRestartSettings(next, running), generation, index, workers: n });
        } else if (m.t === 'listening') {
          up = true;
          deadline.settle();
          s.url = m.url;
          // Forked again during a reload, but started before it: rollout.check() brings it to what its siblings run.
          s.generation = startedAs;
          resolve(s);
        } else if (m.t === 'listener-closed') copies.closed(worker);
        else if (m.t === 'failed') reject(Object.assign(new Error(m.error), { config: m.config }, m.listen));
      });
      worker.once('exit', (code, signal) => {
        s.dead = true;
        polls.exited(s);
        deadline.settle();
        calls.failAll(worker, index);
        ledger.drop(holder);
        copies.check(); // its copy of the listener closed with it
        // A connection on its way to it would otherwise stay open in this process for ever.
        const inTransit = closeHandoffs();
        if (inTransit > 0) logger.info('closed connections in transit to the dead worker', { worker: index, connections: inTransit });
        if (!up) {
          reject(new Error(hung ?? `worker ${index} exited before it listened (code ${code}, signal ${signal})`));
          return;
        }
        // Killed while draining (not the exit after its drain, once disconnected): its requests are cut, and said so.
        if (draining) return void (worker.exitedAfterDisconnect ? undefined : logger.warn('worker died while draining: what it had in flight is cut', { worker: index, pid: worker.process.pid, code, signal }));
        if (s.replacing) logger.info('worker replaced: forking a new one with the config in force', { worker: index, pid: worker.process.pid, generation: rollout.current.generation });
        else logger.warn('worker died: its slots are back; forking a new one', { worker: index, pid: worker.process.pid, code, signal });
        rollout.check(); // the live workers may all run the generation in force now
        // Until it listens: a replacement that fails to start is forked again, backing off (worker-restarts.ts).
        const again = (): void => {
          if (draining) return;
          fork(index, s.restarts + 1).then(
            (next) => {
              slots[index] = next;
              relisten.done(index);
              // Listening only once the drain began: it drains too (the drain stopped the slots it had).
              if (draining) return void stopWorker(next, 0);
              failedStarts.started(index);
              rollout.check();
            },
            (err: unknown) => {
              if (!draining) setTimeout(again, failedStarts.failed(index, err instanceof Error ? err.message : String(err))).unref();
            },
          );
        };
        if (performance.now() - startedAt < CRASH_LOOP_MS) setTimeout(again, CRASH_LOOP_MS).unref();
        else again();
      });
    });
  };

  try {
    for (const s of await Promise.all(Array.from({ length: n }, (_x, i) => fork(i, 0)))) slots[s.index] = s;
  } catch (err) {
    draining = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    throw err;
  }
  const url = slots[0]!.url;

  const refresh = (): Promise<void> => polls.refresh();
  const status = (): PrimaryStatus => polls.status();
  const metrics = (timeoutMs?: number): Promise<string | undefined> => polls.metrics(timeoutMs);
  await refresh();
  const refresher = setInterval(() => void refresh(), STATUS_REFRESH_MS);
  refresher.unref();

  /** The workers whose process runs: a dead one's last sample and store status are stale. */
  const live = (): Slot[] => slots.filter((s) => !s.dead);
  // The workers' dashboards merged: refreshed with their status, once a second.
  const dashboard = new Dashboard({ title: 'sluice gateway', intervalMs: STATUS_REFRESH_MS, maxSubscribers: ADMIN_DASHBOARD_PAGES, samples: () => gatewayGroupLimits(mergeGroupSamples(live().map((s) => s.dashboard?.groups ?? [])), live().find((s) => s.status !== undefined)?.status, ledger.slots()) });
  const admin = resolved.admin.enabled
    ? await startPrimaryAdmin(resolved.admin.host, resolved.admin.port, { status: async () => (await refresh(), status()), metrics, draining: () => draining, stores: () => live().flatMap((s) => (s.status?.store === undefined ? [] : [s.status.store])), degraded: () => polls.serving(), dashboard }).catch((err: unknown) => {
        dashboard.close();
        draining = true;
        for (const s of slots) s.worker.process.kill('SIGKILL');
        throw err;
      })
    : undefined;
  logger.info('listening', { url, adminUrl: admin?.url ?? '', routes: resolved.routes.length, workers: n });

  let drained: Promise<void> | undefined;
  const drain = (deadlineMs = resolveConfig(rollout.current.config).drain.timeoutMs): Promise<void> => {
    // Asked again while draining (a second signal, close()): each worker's drain ends by the sooner deadline.
    if (drained !== undefined) for (const s of live()) void call(s, { t: 'call', op: 'drain', deadlineMs }, deadlineMs + CALL_TIMEOUT_MS).catch(() => undefined);
    stopBy.shorten(deadlineMs + CALL_TIMEOUT_MS);
    drained ??= (async () => {
      draining = true;
      rollout.stop();
      relisten.stop();
      logger.info('draining', { deadlineMs, workers: n });
      clearInterval(refresher);
      // The socket is the workers' from now on: it stops listening with the last one's close.
      listener.close();
      copies.drain();
      await Promise.all(slots.map((s) => stopWorker(s, deadlineMs)));
      stopBy.clear();
      await admin?.close();
      dashboard.close();
      logger.info('stopped', { workers: n });
    })();
    return drained;
  };

  return {
    url,
    adminUrl: admin?.url ?? '',
    status,
    metrics,
    dashboard: () => dashboard.snapshot(),
    reload: async (next) => {
      let c: ResolvedConfig;
      try {
        if (draining) throw new Error('the gateway is draining');
        c = resolveConfig(next); // a bad config is refused here, before any worker sees it
      } catch (err) {
        reloads.rejected(err);
        throw err;
      }
      if (c.server.workers !== n) logger.warn('server.workers changes need a restart; keeping', { workers: n, asked: c.server.workers });
      // Applied, or partial (the workers that did not take it converge on it); a rejection throws, recorded.
      await rollout.reload(next);
      workerTimeoutMs = c.server.workerTimeoutMs;
      startTimeoutMs = c.server.workerStartTimeoutMs;
    },
    reloadRejected: (error) => reloads.rejected(error),
    drain,
    close: () => drain(0),
  };
}
