/**
 * What the reloads came to, for `/status` `reload`: how many were applied, partial and
 * rejected, the config generation in force, the last one's outcome and time, and the last
 * rejection's and partial reload's error. A rejected reload leaves the previous config serving,
 * and until reload22 said so only in a log line: a dashboard reading /status could not tell a
 * config that never took from one that did. With workers a reload may take on some and not on
 * others (partial): until reload-workers that was recorded `rejected` while the others ran it.
 */

/** `/status` `reload`. Times are ISO 8601; absent until the first reload (or rejection). */
export interface ReloadStatus {
  /** Reloads in force on every worker since the start (a partial one once its workers converged). */
  readonly applied: number;
  /** Reloads that some workers did not take at first (retried, then replaced, converging on it). */
  readonly partial: number;
  /** Reloads rejected since the start (the file unreadable or invalid, no worker taking it: each refused it or did not answer): the previous config kept serving. */
  readonly rejected: number;
  /** The config generation in force, every worker's or the one they converge on: 1 at the start, a new one for each reload asked (a rejected one's is never in force). */
  readonly generation: number;
  /**
   * The last reload: applied (every worker runs it); partial (some do, the others are being
   * asked again or replaced: `applied` once they all do); or rejected (the config in force is
   * the one before it).
   */
  readonly last?: { readonly outcome: 'applied' | 'partial' | 'rejected'; readonly at: string; readonly generation: number };
  /** The last rejection, whenever it was (a later applied reload does not clear it): its time and error. */
  readonly lastRejected?: { readonly at: string; readonly error: string };
  /** The last partial reload, whenever it was: its time and what the workers that did not take it said. */
  readonly lastPartial?: { readonly at: string; readonly error: string };
}

/** Longest error kept (a config error lists every issue; a huge value could make a huge one). */
const MAX_ERROR_CHARS = 2_000;

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}...` : text;
}

export class ReloadRecord {
  #applied = 0;
  #partial = 0;
  #rejected = 0;
  /** The generation in force, and the last one handed out (a rejected one is skipped for good). */
  #generation = 1;
  #issued = 1;
  #last: ReloadStatus['last'];
  #lastRejected: ReloadStatus['lastRejected'];
  #lastPartial: ReloadStatus['lastPartial'];

  get generation(): number {
    return this.#generation;
  }

  /** A generation for a reload about to be tried (in force once it is applied or partial). */
  issue(): number {
    return ++this.#issued;
  }

  applied(generation = this.issue(), now = Date.now()): void {
    this.#applied++;
    this.#generation = generation;
    this.#last = { outcome: 'applied', at: new Date(now).toISOString(), generation };
  }

  /** Some workers run `generation`, the others are converging on it. */
  partial(generation: number, error: unknown, now = Date.now()): void {
    this.#partial++;
    this.#generation = generation;
    const at = new Date(now).toISOString();
    this.#last = { outcome: 'partial', at, generation };
    this.#lastPartial = { at, error: errorText(error) };
  }

  /** Every worker now runs `generation`: a partial reload of it is applied (a later reload's partial is not). */
  converged(generation: number, now = Date.now()): boolean {
    if (this.#last?.outcome !== 'partial' || this.#last.generation !== generation) return false;
    this.#applied++;
    this.#last = { outcome: 'applied', at: new Date(now).toISOString(), generation };
    return true;
  }

  /** The reload of `generation` (by default one never tried on a worker) was rejected: the one in force stays. */
  rejected(error: unknown, now = Date.now(), generation = this.issue()): void {
    this.#rejected++;
    const at = new Date(now).toISOString();
    this.#last = { outcome: 'rejected', at, generation };
    this.#lastRejected = { at, error: errorText(error) };
  }

  /** Run `apply` (a reload in one process) and record what it came to; its result or error passes through. */
  async track(apply: () => Promise<void>): Promise<void> {
    const generation = this.issue();
    try {
      await apply();
    } catch (err) {
      this.rejected(err, Date.now(), generation);
      throw err;
    }
    this.applied(generation);
  }

  snapshot(): ReloadStatus {
    return {
      applied: this.#applied,
      partial: this.#partial,
      rejected: this.#rejected,
      generation: this.#generation,
      ...(this.#last === undefined ? {} : { last: this.#last }),
      ...(this.#lastRejected === undefined ? {} : { lastRejected: this.#lastRejected }),
      ...(this.#lastPartial === undefined ? {} : { lastPartial: this.#lastPartial }),
    };
  }
}
