/**
 * A gateway worker (forked by primary.ts through node:cluster): it serves the shared
 * listener with its own event loop and admits against limits it leases from the primary
 * (ipc-limit-store.ts); it answers the primary's questions (status, metrics) and orders
 * (reload, drain). A worker whose primary is gone drains and exits. A worker that crashes (an
 * uncaught exception) answers the requests it holds 502 and exits (crash-answers.ts).
 */
import cluster from 'node:cluster';
import { listenFailureOf } from './bound-listener.js';
import { GatewayConfigError } from './config-error.js';
import { CrashAnswers } from './crash-answers.js';
import { startGateway } from './gateway.js';
import type { Gateway } from './gateway.js';
import { IpcLimitStore } from './ipc-limit-store.js';
import type { LeaseCall } from './ipc-limit-store.js';
import { JsonLogger, writeStdout } from './logger.js';
import type { CallMessage, ListenersClosedMessage, StartMessage, WorkerMessage, WorkerSnapshot } from './worker-messages.js';

/** Longest a crashed worker waits for its 502s to be written before it exits, ms. */
const CRASH_GRACE_MS = 1_000;

export function runWorker(): void {
  // node:cluster exits a worker the moment its channel closes unexpectedly (its primary was
  // killed): every request in flight was reset, admitted ones at the upstream included (hostile-2
  // W1). Marked as a disconnect it expects, the worker drains instead (the 'disconnect' handler below).
  if (cluster.worker !== undefined) cluster.worker.exitedAfterDisconnect = true;
  // False when the channel is closed: a send then would be an 'error' event on process (uncaught:
  // a crash), and a lease call must fail at once rather than wait for an answer that cannot come.
  const send = (m: WorkerMessage | LeaseCall): boolean => {
    if (process.connected !== true || process.send === undefined) return false;
    process.send(m);
    return true;
  };
  const store = new IpcLimitStore(send);
  const crash = new CrashAnswers();
  let gateway: Gateway | undefined;
  let logger: JsonLogger | undefined;
  /** The config generation it serves (worker-rollout.ts): its start's, then its last reload's that succeeded. */
  let generation = 0;
  /** Renders its running totals for the status poll (set once its gateway loaded its metrics). */
  let totals: (() => Promise<string>) | undefined;
  // Reloads one at a time, in the order asked: one that timed out at the primary may still be
  // running when the next comes, and two at once would each swap from the table they started on.
  let reloading: Promise<unknown> = Promise.resolve();
  let crashed = false;
  // A bug that escapes (an unhandled rejection arrives here too): the process can no longer be
  // trusted to serve, but it can still answer what it holds — 502, not a reset — then exit.
  process.on('uncaughtException', (err, origin) => {
    if (crashed) process.exit(1); // failing again while answering: go now
    crashed = true;
    const fields = { error: err instanceof Error ? (err.stack ?? err.message) : String(err), origin, open: crash.open };
    if (logger === undefined) process.stderr.write(`worker crashed: ${fields.error}\n`);
    else logger.error('worker crashed: its open requests are answered 502, then it exits', fields);
    void crash.answerAll(CRASH_GRACE_MS).finally(() => process.exit(1));
  });
  // Its drain closed its copy of the listener: what it holds waits for the primary's word that every copy is closed (accept-queue-grace.ts).
  let everyCopyClosed: (() => void) | undefined;
  const listenerClosed = (): Promise<void> =>
    new Promise<void>((resolve) => {
      everyCopyClosed = resolve;
      if (!send({ t: 'listener-closed' })) resolve(); // no primary to say so
    });
  let stopping: Promise<void> | undefined;
  const stop = (deadlineMs?: number): Promise<void> => {
    // Asked again (the primary's second signal): the running drain ends by the sooner deadline.
    if (stopping !== undefined) void gateway?.drain(deadlineMs);
    stopping ??= (async () => {
      await gateway?.drain(deadlineMs);
      await store.close();
    })();
    return stopping;
  };

  const start = async (m: StartMessage): Promise<void> => {
    logger = new JsonLogger(m.config.log?.level ?? 'info', (line) => writeStdout(`{"worker":${m.index},${line.slice(1)}`));
    generation = m.generation;
    try {
      gateway = await startGateway(m.config, {
        logger,
        share: { store, workers: m.workers, onError: (what, err) => logger?.warn('shared limit call failed', { what, error: String(err) }) },
        crashAnswers: crash,
        listenerClosed,
        runningTotals: (render) => (totals = render),
      });
      send({ t: 'listening', url: gateway.url });
    } catch (err) {
      // Which listener, address and port: the CLI names them (the message alone said "?:?" for them).
      const listen = listenFailureOf(err);
      send({ t: 'failed', error: err instanceof Error ? err.message : String(err), config: err instanceof GatewayConfigError, ...(listen === undefined ? {} : { listen }) });
      process.exitCode = 2;
      process.disconnect?.();
    }
  };

  const call = async (m: CallMessage): Promise<unknown> => {
    const gw = gateway;
    if (gw === undefined) throw new Error('not started');
    switch (m.op) {
      case 'status': {
        // Its own record counts its own reloads (a replacement made none): the generation it runs is the primary's.
        const status = gw.status();
        // Its counters and histograms alone: the primary keeps their running totals; the whole page, gauges too, cost about 1.4× the CPU (11.0-11.5 ms against 7.9-8.6 ms with 50 policies: running-totals.ts).
        const metrics = m.metrics === true ? await totals?.() : undefined;
        return { status: status.reload === undefined ? status : { ...status, reload: { ...status.reload, generation } }, dashboard: gw.dashboard(), generation, ...(metrics === undefined ? {} : { metrics }) } satisfies WorkerSnapshot;
      }
      case 'metrics':
        return gw.metrics();
      case 'reload': {
        const done = reloading.then(async () => {
          await gw.reload(m.config);
          generation = m.generation;
          if (logger !== undefined) logger.level = m.config.log?.level ?? 'info';
        });
        reloading = done.catch(() => undefined);
        await done;
        return undefined;
      }
      case 'drain':
        await stop(m.deadlineMs);
        return undefined;
    }
  };

  process.on('message', (raw: unknown) => {
    if (store.handle(raw)) return;
    const m = raw as StartMessage | CallMessage | ListenersClosedMessage;
    if (m.t === 'listeners-closed') return everyCopyClosed?.();
    if (m.t === 'start') {
      void start(m);
      return;
    }
    if (m.t !== 'call') return;
    call(m).then(
      (result) => send({ t: 'call-reply', id: m.id, result }),
      (err: unknown) => send({ t: 'call-reply', id: m.id, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  send({ t: 'ready' });
  // The primary is gone (it exited, or cut the channel): finish what is in flight, then exit.
  process.on('disconnect', () => {
    everyCopyClosed?.();
    // Its lease calls out will never be answered: they fail now (the drain's lease stop waits for them, slot-lease.ts).
    void store.close();
    void stop().finally(() => process.exit());
  });
  // Signals are the primary's to handle; a worker drains only when told (or orphaned).
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  process.on('SIGHUP', () => undefined);
}
