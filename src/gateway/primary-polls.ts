/**
 * What the primary knows of its workers (primary.ts): it polls each for its status once a
 * second, kills one silent for `server.workerTimeout`, and builds `/status` (the workers'
 * merged, each worker's, the leases) and `/metrics` (their pages as one) from what they said.
 */
import type { LeaseLedger } from '../shared/lease-ledger.js';
import type { Logger } from './logger.js';
import type { Slot } from './primary-slot.js';
import { emptyStatus } from './primary-slot.js';
import { METRICS_TIMEOUT_MS } from './primary-admin.js';
import { PrometheusMerge } from './prometheus-merge.js';
import type { ReloadRecord } from './reload-record.js';
import type { GatewayStatus } from './status.js';
import { gatewayLimits, mergeStatuses } from './status-merge.js';
import { addTotals, statusTotals, withTotals } from './status-totals.js';
import type { StatusTotals } from './status-totals.js';
import type { CallBody } from './worker-calls.js';
import type { WorkerSnapshot } from './worker-messages.js';
import type { RestartFailure, WorkerRestarts } from './worker-restarts.js';

/** The primary's own status: the workers' merged, each worker's, and the leases. */
export interface PrimaryStatus extends GatewayStatus {
  /**
   * `answering: false`: its last status call went unanswered (a stopped or hung worker); `status` is then its last answer.
   * `exited`: its process is gone (its replacement not listening yet): its last status is shown here, and left out of the merge.
   * `generation`: the config generation it runs (`reload.generation` is the one in force; worker-rollout.ts); `replacing`: it did not take a reload, and is drained to be forked again with it.
   */
  readonly workers: readonly { readonly index: number; readonly pid: number; readonly restarts: number; readonly answering: boolean; readonly exited: boolean; readonly generation: number | undefined; readonly replacing: boolean; readonly status: GatewayStatus | undefined }[];
  readonly leases: ReturnType<LeaseLedger['slots']>;
  /** The primary's token tables (one per rate limiter a worker uses) and the tenants' buckets in them. */
  readonly tokenTables: ReturnType<LeaseLedger['tokenTables']>;
  /** Present while fewer workers serve than `server.workers`: how many do, and those failing to start (forked again with a backoff: worker-restarts.ts). */
  readonly degraded?: { readonly workers: number; readonly of: number; readonly failing: readonly RestartFailure[] };
}

/** How often the primary's cached status is refreshed from the workers. */
export const STATUS_REFRESH_MS = 1_000;

export interface WorkerPollsDeps {
  /** The worker places, by index (the primary replaces a dead one's slot). */
  readonly slots: readonly Slot[];
  /** `server.workers`. */
  readonly workers: number;
  readonly ledger: LeaseLedger;
  readonly logger: Logger;
  readonly reloads: ReloadRecord;
  readonly failedStarts: WorkerRestarts;
  /** Whether the admin listener serves (then each poll brings the workers' running totals for /metrics too). */
  readonly admin: boolean;
  readonly call: (s: Slot, m: CallBody, timeoutMs: number) => Promise<unknown>;
  readonly draining: () => boolean;
  /** `server.workerTimeout`, ms (reloadable): 0 never kills. */
  readonly workerTimeoutMs: () => number;
  /** After each refresh: what the workers said they run (worker-rollout.ts). */
  readonly refreshed: () => void;
  /** The /dashboard pages the primary served: counted here, the workers' read 0. */
  readonly dashboardPages: () => { readonly dropped: number; readonly refused: number };
}

export class WorkerPolls {
  /** The running totals of the workers that died, as of their last status (status-totals.ts): /status's counts never go back. */
  readonly #deadTotals: StatusTotals = new Map();
  // The workers' pages as one, their counters carried over a worker's death (prometheus-merge.ts).
  readonly #merged = new PrometheusMerge();
  #refreshing: Promise<void> | undefined;

  constructor(private readonly deps: WorkerPollsDeps) {}

  /** Worker `s` exited: its running totals, as last seen, are carried. */
  exited(s: Slot): void {
    if (s.status !== undefined) addTotals(this.#deadTotals, statusTotals(s.status));
  }

  /**
   * One refresh at a time: concurrent /status scrapes share it (each was a round trip per worker).
   * A worker that does not answer within the refresh interval (stopped: SIGSTOP, a debugger, a
   * loop that never yields) keeps its last status, marked not answering: before (hostile-9),
   * every /status waited CALL_TIMEOUT_MS (5 s) for it, and then dropped its counts from the sum.
   */
  refresh(): Promise<void> {
    const { slots, admin, call } = this.deps;
    return (this.#refreshing ??= Promise.all(
      slots.map(async (s) => {
        // One round trip per worker: its status and its dashboard's sample together.
        // With the admin listener, its Prometheus page too: a worker dying between two scrapes takes at most a second's counts with it.
        const snap = (await call(s, { t: 'call', op: 'status', metrics: admin }, STATUS_REFRESH_MS).catch(() => undefined)) as WorkerSnapshot | undefined;
        s.answering = snap !== undefined;
        if (snap === undefined) return this.#killIfSilent(s);
        s.status = snap.status;
        if (snap.metrics !== undefined) this.#merged.observe(s.index, { process: s.worker.id, text: snap.metrics });
        s.dashboard = admin ? snap.dashboard : undefined;
        // What it says it runs: a reload it answered too late for its call is seen here.
        s.generation = snap.generation;
      }),
    ).then(() => {
      this.#refreshing = undefined;
      this.deps.refreshed();
    }));
  }

  /**
   * A worker silent for `server.workerTimeout` is killed: its 'exit' gives back what it leased
   * and forks a new one. Left alone, a stopped worker kept its slots and its clients for ever.
   */
  #killIfSilent(s: Slot): void {
    const silentMs = performance.now() - s.answeredAt;
    const workerTimeoutMs = this.deps.workerTimeoutMs();
    if (this.deps.draining() || s.dead || s.killed || workerTimeoutMs <= 0 || silentMs < workerTimeoutMs) return;
    s.killed = true;
    this.deps.logger.warn('worker did not answer for server.workerTimeout: killing it', { worker: s.index, pid: s.worker.process.pid, silentMs: Math.round(silentMs), workerTimeoutMs });
    s.worker.process.kill('SIGKILL');
  }

  /** Fewer workers serve than asked (dead, their replacement not listening yet or failing to start): how many do. */
  serving(): PrimaryStatus['degraded'] {
    const workers = this.deps.slots.filter((s) => !s.dead).length;
    const n = this.deps.workers;
    return workers === n ? undefined : { workers, of: n, failing: this.deps.failedStarts.snapshot() };
  }

  status(): PrimaryStatus {
    const { slots, ledger } = this.deps;
    const each = slots.map((s) => ({ index: s.index, pid: s.worker.process.pid ?? 0, restarts: s.restarts, answering: s.answering, exited: s.dead, generation: s.generation, replacing: s.replacing, status: s.status }));
    // A dead worker's last status is not summed: its connections, in-flight requests and leases are gone with it (hostile pass, session 17); its totals are carried.
    const statuses = each.flatMap((w) => (w.status === undefined || w.exited ? [] : [w.status]));
    const leases = ledger.slots();
    const summed = mergeStatuses(statuses);
    const merged = withTotals(summed === undefined ? emptyStatus() : gatewayLimits(summed, statuses[0]!, leases), this.#deadTotals);
    const degraded = this.serving();
    // The reloads are the primary's: one it rejected never reached a worker.
    return { ...merged, state: this.deps.draining() ? 'draining' : merged.state, reload: this.deps.reloads.snapshot(), workers: each, leases, tokenTables: ledger.tokenTables(), ...(degraded === undefined ? {} : { degraded }) };
  }

  /**
   * `timeoutMs`: how long a worker's series are waited for (a worker that does not answer is left out; none answering
   * before any ever did rejects with MetricsUnansweredError). `sluice_worker_scrape_answered{worker}` says which answered
   * (1) and which did not (0: stopped, a loop that never yields, dead, starting — its counters as last seen): until
   * drainedge the page only lacked its gauges, and nothing on it named the worker.
   */
  metrics(timeoutMs = METRICS_TIMEOUT_MS): Promise<string | undefined> {
    const answered = this.deps.slots.map(() => 0);
    // A scrape of every series of every worker: allow it more than a status call. The process asked, not the one in its place when it answers.
    const asks = this.deps.slots.map((s, i) => ({ process: s.worker.id, ask: () => this.deps.call(s, { t: 'call', op: 'metrics' }, timeoutMs).then((page) => ((answered[i] = 1), page)) }));
    return this.#merged.scrape(asks, timeoutMs, () => {
      const { dropped, refused } = this.deps.dashboardPages();
      return new Map([
        ['sluice_dashboard_pages_total', [`sluice_dashboard_pages_total{outcome="dropped"} ${dropped}`, `sluice_dashboard_pages_total{outcome="refused"} ${refused}`]],
        ['sluice_worker_scrape_answered', ['# HELP sluice_worker_scrape_answered Whether the worker answered this scrape (0: its counters are as last seen, its gauges left out)', '# TYPE sluice_worker_scrape_answered gauge', ...answered.map((a, i) => `sluice_worker_scrape_answered{worker="${i}"} ${a}`)]],
      ]);
    });
  }
}
