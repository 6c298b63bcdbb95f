/**
 * Responses relayed at their client's pace hold an upstream connection each (hostile finding
 * F27). Past its buffer a response's permit ends — it holds no slot — but the upstream waits
 * for the client on one of its `maxSockets` connections. Enough clients that read slowly (and
 * read just enough to beat `server.writeTimeout`) took every connection: every other request
 * to that upstream waited for one, admitted and holding its slot, and the route refused
 * everyone else. So a response whose upstream waits for its client yields: while requests wait
 * for a connection to its upstream, the one that has waited longest for its client is cut off
 * (its client disconnected, the upstream request aborted, the connection freed), every 50 ms
 * as many as requests wait.
 *
 * Only while the pool has all its `maxSockets` connections open: below that, a waiting request
 * waits for a new connection to be made, not for one a slow reader holds, and cutting a reader
 * frees nothing it needs. (undici counts such a request `pending` while its connection is
 * being opened; taking that for a full pool cut a slow reader whenever a request opened a new
 * upstream connection across a sweep — often on a busy machine, where a connect can take
 * longer than 50 ms.)
 */
import type { Pool } from 'undici';

/** How often upstreams with waiting requests are looked at, ms. */
const SWEEP_MS = 50;

export class SlowReaders {
  /** Per upstream pool, the cut of each response waiting for its client, oldest first. */
  readonly #byPool = new Map<Pool, Set<() => void>>();
  /** Per upstream pool, its connection limit (`maxSockets`). */
  readonly #limits = new Map<Pool, number>();
  #timer: NodeJS.Timeout | undefined;
  readonly #onYield: () => void;

  /** `onYield`: a response was cut to free a connection (for the counters). */
  constructor(onYield: () => void = () => undefined) {
    this.#onYield = onYield;
  }

  /**
   * A response on `pool` (at most `connections` connections) waits for its client; `cut` ends
   * it. Returns the call that says it stopped waiting.
   */
  waiting(pool: Pool, connections: number, cut: () => void): () => void {
    let set = this.#byPool.get(pool);
    if (set === undefined) this.#byPool.set(pool, (set = new Set()));
    this.#limits.set(pool, connections);
    set.add(cut);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), SWEEP_MS);
      this.#timer.unref();
    }
    const s = set;
    return () => {
      s.delete(cut);
      if (s.size === 0 && this.#byPool.get(pool) === s) {
        this.#byPool.delete(pool);
        this.#limits.delete(pool);
      }
      if (this.#byPool.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    for (const [pool, set] of [...this.#byPool]) {
      const stats = pool.stats;
      // Not every connection open yet: the requests that wait get new ones.
      if (stats.connected < (this.#limits.get(pool) ?? Infinity)) continue;
      let wanted = stats.pending;
      for (const cut of [...set]) {
        if (wanted <= 0) break;
        wanted--;
        this.#onYield();
        cut();
      }
    }
  }
}
