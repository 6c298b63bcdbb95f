/**
 * A prom-client Counter's increments, added up per series here and handed over with one `inc`
 * per series when the registry is read (the counter's `collect()`, which every read calls
 * first): a scrape shows the same totals.
 *
 * Why: prom-client's `inc(labels, n)` builds a string of the labels and looks it up as a key of
 * a dictionary object, every call — under a retry storm, counting one early refusal cost the
 * gateway more than deciding it (bench:refusal, `--prof`). Here a series is found through Maps
 * keyed by the label values themselves: a gate's name, its kind and a reason are the same
 * strings at every event, their hashes computed once.
 */
import type { Counter } from 'prom-client';
import type { Labels } from '../metrics/index.js';

interface Series {
  readonly labels: Labels;
  n: number;
}

/** A level of the tree: the next label's values, or (under the last label) the series. */
type Level = Map<string | undefined, Level | Series>;

export class CounterBatch {
  readonly #counter: Counter;
  readonly #names: readonly string[];
  readonly #root: Level = new Map();
  /** Every series added to so far, in the order first seen (the exposition's order, as prom-client's). */
  readonly #series: Series[] = [];

  /** `labelNames`: the counter's, in the order given to it. */
  constructor(counter: Counter, labelNames: readonly string[]) {
    this.#counter = counter;
    this.#names = labelNames;
  }

  /** Add `n` to the series of `labels` (handed to the counter at the next flush). */
  add(labels: Labels, n: number): void {
    // What the counter would refuse (a negative or non-finite count) is refused by it, now.
    if (!(n >= 0 && n !== Infinity)) return this.#counter.inc(labels, n);
    const names = this.#names;
    const last = names.length - 1;
    let level = this.#root;
    for (let i = 0; i < last; i++) {
      const value = labels[names[i]!];
      let next = level.get(value) as Level | undefined;
      if (next === undefined) level.set(value, (next = new Map()));
      level = next;
    }
    const key = last < 0 ? undefined : labels[names[last]!];
    const series = (level.get(key) as Series | undefined) ?? this.#create(level, key, labels);
    series.n += n;
  }

  /** Hand every series' count since the last flush to the counter. */
  flush(): void {
    for (const s of this.#series) {
      if (s.n === 0) continue;
      const n = s.n;
      s.n = 0;
      this.#counter.inc(s.labels, n);
    }
  }

  /**
   * A new series: the counter is told of it at once (`inc` by 0), so that labels it does not
   * take throw here, to the caller, as its own `inc` would — not at a scrape.
   */
  #create(level: Level, key: string | undefined, labels: Labels): Series {
    const copy: Labels = { ...labels };
    this.#counter.inc(copy, 0);
    const series: Series = { labels: copy, n: 0 };
    level.set(key, series);
    this.#series.push(series);
    return series;
  }
}
