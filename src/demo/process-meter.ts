/**
 * The resource use of this process over a window: RSS sampled every `everyMs` (its peak
 * and a series), and CPU time from `process.cpuUsage()` (user + system, all threads).
 */
export interface ProcessWindow {
  /** RSS when the window opened, MB. */
  readonly rssStartMb: number;
  /** Largest RSS sampled in the window, MB. */
  readonly rssPeakMb: number;
  /** RSS when the window closed, MB. */
  readonly rssEndMb: number;
  /** RSS samples, MB, one per `everyMs`. */
  readonly rssSeriesMb: readonly number[];
  /** CPU time used in the window, ms. */
  readonly cpuMs: number;
  /** Wall time of the window, ms. */
  readonly wallMs: number;
}

const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

export class ProcessMeter {
  readonly #everyMs: number;
  #timer: NodeJS.Timeout | undefined;
  #cpu = process.cpuUsage();
  #wall = performance.now();
  #rssStart = 0;
  #rssPeak = 0;
  #series: number[] = [];

  constructor(everyMs = 1000) {
    this.#everyMs = everyMs;
  }

  start(): void {
    this.stop();
    this.#cpu = process.cpuUsage();
    this.#wall = performance.now();
    this.#rssStart = process.memoryUsage.rss();
    this.#rssPeak = this.#rssStart;
    this.#series = [mb(this.#rssStart)];
    this.#timer = setInterval(() => this.#sample(), this.#everyMs);
    this.#timer.unref();
  }

  #sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.#rssPeak) this.#rssPeak = rss;
    this.#series.push(mb(rss));
    return rss;
  }

  /** Close the window and return it. */
  read(): ProcessWindow {
    const rssEnd = this.#sample();
    this.stop();
    const cpu = process.cpuUsage(this.#cpu);
    return {
      rssStartMb: mb(this.#rssStart),
      rssPeakMb: mb(this.#rssPeak),
      rssEndMb: mb(rssEnd),
      rssSeriesMb: this.#series,
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs: performance.now() - this.#wall,
    };
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
