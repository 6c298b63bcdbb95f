/**
 * What the reloads came to, for `/status` `reload`: how many were applied and how many were
 * rejected, the last one's outcome and time, and the last rejection's error. A rejected reload
 * leaves the previous config serving, and until reload22 said so only in a log line: a
 * dashboard reading /status could not tell a config that never took from one that did.
 */

/** `/status` `reload`. Times are ISO 8601; absent until the first reload (or rejection). */
export interface ReloadStatus {
  /** Reloads applied since the start. */
  readonly applied: number;
  /** Reloads rejected since the start (the file unreadable or invalid, a worker refusing it): the previous config kept serving. */
  readonly rejected: number;
  /** The last reload: applied, or rejected (then the config in force is the one before it). */
  readonly last?: { readonly outcome: 'applied' | 'rejected'; readonly at: string };
  /** The last rejection, whenever it was (a later applied reload does not clear it): its time and error. */
  readonly lastRejected?: { readonly at: string; readonly error: string };
}

/** Longest error kept (a config error lists every issue; a huge value could make a huge one). */
const MAX_ERROR_CHARS = 2_000;

export class ReloadRecord {
  #applied = 0;
  #rejected = 0;
  #last: ReloadStatus['last'];
  #lastRejected: ReloadStatus['lastRejected'];

  applied(now = Date.now()): void {
    this.#applied++;
    this.#last = { outcome: 'applied', at: new Date(now).toISOString() };
  }

  rejected(error: unknown, now = Date.now()): void {
    this.#rejected++;
    const at = new Date(now).toISOString();
    const text = error instanceof Error ? error.message : String(error);
    this.#last = { outcome: 'rejected', at };
    this.#lastRejected = { at, error: text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}...` : text };
  }

  /** Run `apply` (a reload) and record what it came to; its result or error passes through. */
  async track(apply: () => Promise<void>): Promise<void> {
    try {
      await apply();
    } catch (err) {
      this.rejected(err);
      throw err;
    }
    this.applied();
  }

  snapshot(): ReloadStatus {
    return {
      applied: this.#applied,
      rejected: this.#rejected,
      ...(this.#last === undefined ? {} : { last: this.#last }),
      ...(this.#lastRejected === undefined ? {} : { lastRejected: this.#lastRejected }),
    };
  }
}
