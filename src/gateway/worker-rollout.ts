/**
 * A reload rolled out to a gateway's workers, and kept consistent: every worker ends on the
 * same config generation. The primary (primary.ts) validates a config, then asks each worker
 * to run it; a worker may refuse (its reload threw) or not answer (its loop busy past the
 * call's timeout, stopped). Until reload-workers the reload was then called rejected while
 * the workers that took it ran it: one gateway, two limits, and a record that said otherwise.
 *
 * The rule: a reload that no worker took (each refused it or did not answer) is rejected — the
 * previous generation stays in force and a worker found on another (forked meanwhile, or one
 * that answered late) is brought back to it. A reload some worker took rolls forward: the config
 * was validated, and a worker runs it, so it is `partial` while the workers that did not take it
 * are asked once more, then replaced (drained, then forked again with it); once every worker
 * runs it, it is `applied`. Forward rather than back: a rollback asks the same workers again, and
 * a worker that did not answer the reload would not answer the rollback either (it may even
 * apply the reload late); a replacement starts with the config in force whatever its
 * predecessor did. Every step is bounded by the calls' timeouts and the drain's deadline.
 *
 * Until reload-edges a reload no worker answered (every worker stopped or stuck) rolled forward
 * too: `partial`, then every worker drained and forked again at once with a config no worker
 * had ever run — the whole gateway's capacity taken down for a config nothing had proven, while
 * what stalled the workers may have been that very config. Rejected, the config that served
 * goes on serving on every worker that comes back; a worker that stays silent is
 * `server.workerTimeout`'s to replace (with the config in force), and a SIGHUP asks again.
 */
import type { GatewayConfig } from './config-types.js';
import type { Logger } from './logger.js';
import type { ReloadRecord } from './reload-record.js';

/** What the rollout reads and marks of a worker (primary.ts's slot). */
export interface RolloutWorker {
  readonly index: number;
  /** The generation it said it runs (at its start, in a reload's answer, in a status answer); undefined before it listens. */
  generation: number | undefined;
  /** Its process exited: its replacement starts with the config in force. */
  readonly dead: boolean;
  /** Being replaced: draining, then forked again. It admits nothing new. */
  replacing: boolean;
}

export interface RolloutDeps<W extends RolloutWorker> {
  /** Every worker slot, dead ones included. */
  workers(): readonly W[];
  /** Ask `w` to run `config` as `generation`; rejects when it refuses (see {@link workerRefusal}) or does not answer. */
  reload(w: W, config: GatewayConfig, generation: number): Promise<void>;
  /** Drain `w` and fork it again (it starts with {@link WorkerRollout.current}); settles once its replacement listens (or the gateway drains). */
  replace(w: W): Promise<void>;
  readonly record: ReloadRecord;
  readonly logger: Logger;
  /** The log fields of a config (`routes`, `workers`), logged with `reloaded`. */
  summary(config: GatewayConfig): Record<string, unknown>;
}

const REFUSAL = Symbol.for('sluice.gateway.workerRefusal');

/** An error a worker answered (its reload threw), as against one it never answered. */
export function workerRefusal(message: string): Error {
  return Object.assign(new Error(message), { [REFUSAL]: true });
}

export function isWorkerRefusal(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[REFUSAL] === true;
}

export class WorkerRollout<W extends RolloutWorker> {
  readonly #deps: RolloutDeps<W>;
  #current: { readonly config: GatewayConfig; readonly generation: number };
  /** Reload calls under way per worker: one converging is not asked again meanwhile. */
  readonly #sending = new Map<W, number>();
  /** Workers waiting for their turn to be replaced: one at a time, each replacement listening before the next goes. */
  readonly #waiting = new Set<W>();
  #turns: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(deps: RolloutDeps<W>, config: GatewayConfig) {
    this.#deps = deps;
    this.#current = { config, generation: deps.record.generation };
  }

  /** The config in force and its generation: what a worker forked now starts with. */
  get current(): { readonly config: GatewayConfig; readonly generation: number } {
    return this.#current;
  }

  /** The gateway drains: nothing more is asked or replaced. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Roll `config` out to every live worker. Resolves `applied` (every worker runs it) or
   * `partial` (the others converge on it in the background); throws when it is rejected.
   */
  async reload(config: GatewayConfig): Promise<'applied' | 'partial'> {
    const { record, logger } = this.#deps;
    const previous = this.#current;
    const generation = record.issue();
    this.#current = { config, generation };
    const targets = this.#deps.workers().filter((w) => !w.dead && !w.replacing);
    const results = await Promise.allSettled(targets.map((w) => this.#send(w, config, generation)));
    // A worker that died meanwhile failed nothing: its replacement starts with this config.
    const failed = targets.flatMap((w, i) => (results[i]!.status === 'rejected' && !w.dead ? [{ w, error: (results[i] as PromiseRejectedResult).reason as unknown }] : []));
    if (failed.length === 0 && this.#converged()) {
      record.applied(generation);
      logger.info('reloaded', { ...this.#deps.summary(config), generation });
      return 'applied';
    }
    const why = failed.map((f) => `worker ${f.w.index}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ');
    if (failed.length > 0 && !results.some((r) => r.status === 'fulfilled')) {
      // No worker runs it: nothing proves it can serve (it may be what stalls them). The previous one stays.
      this.#current = previous;
      const err = new Error(`reload rejected: no worker took generation ${generation}, generation ${previous.generation} stays (${why})`);
      record.rejected(err, Date.now(), generation);
      this.check();
      throw err;
    }
    record.partial(generation, failed.length === 0 ? 'workers still being replaced' : `${failed.length} of ${targets.length} workers did not take it: ${why}`);
    logger.warn('reload partial: converging', { generation, failed: failed.map((f) => ({ worker: f.w.index, error: f.error instanceof Error ? f.error.message : String(f.error) })), workers: this.generations() });
    this.check();
    return 'partial';
  }

  /** What each worker runs, for the log. */
  generations(): { worker: number; generation: number | undefined; replacing: boolean; exited: boolean }[] {
    return this.#deps.workers().map((w) => ({ worker: w.index, generation: w.generation, replacing: w.replacing, exited: w.dead }));
  }

  /**
   * Call when a worker's generation, life or replacement changed: a worker on another
   * generation is asked to run the current one (replaced if it does not); once all run it, a
   * partial reload is recorded applied.
   */
  check(): void {
    if (this.#stopped) return;
    const { generation, config } = this.#current;
    if (this.#converged()) {
      if (this.#deps.record.converged(generation)) this.#deps.logger.info('reloaded', { ...this.#deps.summary(config), generation, converged: true });
      return;
    }
    for (const w of this.#deps.workers()) {
      if (!w.dead && !w.replacing && w.generation !== undefined && w.generation !== generation && !this.#sending.has(w) && !this.#waiting.has(w)) void this.#converge(w);
    }
  }

  /** Every worker that serves runs the current generation, and none is being replaced. */
  #converged(): boolean {
    return this.#deps.workers().every((w) => w.dead || (!w.replacing && w.generation === this.#current.generation));
  }

  async #send(w: W, config: GatewayConfig, generation: number): Promise<void> {
    this.#sending.set(w, (this.#sending.get(w) ?? 0) + 1);
    try {
      await this.#deps.reload(w, config, generation);
      w.generation = generation;
    } finally {
      const n = this.#sending.get(w)! - 1;
      if (n === 0) this.#sending.delete(w);
      else this.#sending.set(w, n);
    }
  }

  /** Ask `w` once more; replace it when it does not take it either. */
  async #converge(w: W): Promise<void> {
    const { config, generation } = this.#current;
    try {
      await this.#send(w, config, generation);
    } catch (err) {
      // Gone, being replaced, or a newer reload asked it meanwhile (and check() follows that one).
      if (this.#stopped || w.dead || w.replacing || generation !== this.#current.generation) return this.check();
      this.#deps.logger.warn('worker did not take the config: replacing it', { worker: w.index, generation, running: w.generation, error: err instanceof Error ? err.message : String(err) });
      await this.#replaceInTurn(w);
    }
    this.check();
  }

  /**
   * Replace `w` once the replacements before it listen: a rolling replacement. Until
   * drainrace every worker that did not take a reload was drained at once — with 3 of 4
   * stopped, 3 of 4 workers' capacity gone together, and all of it when none answered in time.
   */
  async #replaceInTurn(w: W): Promise<void> {
    this.#waiting.add(w);
    const turn = this.#turns.then(async () => {
      this.#waiting.delete(w);
      // Gone meanwhile (forked again with the config in force), or it took the config late (a status answer said so).
      if (this.#stopped || w.dead || w.generation === this.#current.generation) return;
      w.replacing = true;
      await this.#deps.replace(w).catch((e: unknown) => this.#deps.logger.error('worker replacement failed', { worker: w.index, error: String(e) }));
    });
    this.#turns = turn;
    await turn;
  }
}
