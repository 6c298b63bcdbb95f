/**
 * A prom-client Counter's increments, added up per series here and handed over with one `inc`
 * per series when the registry is read (the counter's `collect()`, which every read calls
 * first): a scrape shows the same totals.
 *
 * Why: prom-client's `inc(labels, n)` builds a string of the labels and looks it up as a key of
 * a dictionary object, every call — under a retry storm, counting one early refusal cost the
 * gateway more than deciding it (bench:refusal, `--prof`). Here a series is found through Maps
 * keyed by the label values themselves: a gate's name, its kind and a reason are the same
 * strings at every event, their hashes computed once (label-tree.ts).
 */
import type { Counter } from 'prom-client';
import type { Labels } from '../metrics/index.js';
import { LabelTree } from './label-tree.js';

interface Series {
  readonly labels: Labels;
  n: number;
}

export class CounterBatch {
  readonly #counter: Counter;
  readonly #tree: LabelTree<Series>;
  /** Every series added to so far, in the order first seen (the exposition's order, as prom-client's). */
  readonly #series: Series[] = [];

  /** `labelNames`: the counter's, in the order given to it. */
  constructor(counter: Counter, labelNames: readonly string[]) {
    this.#counter = counter;
    this.#tree = new LabelTree(labelNames);
  }

  /** Add `n` to the series of `labels` (handed to the counter at the next flush). */
  add(labels: Labels, n: number): void {
    // What the counter would refuse (a negative or non-finite count) is refused by it, now.
    if (!(n >= 0 && n !== Infinity)) return this.#counter.inc(labels, n);
    this.#tree.series(labels, this.#create).n += n;
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
  readonly #create = (labels: Labels): Series => {
    const copy: Labels = { ...labels };
    this.#counter.inc(copy, 0);
    const series: Series = { labels: copy, n: 0 };
    this.#series.push(series);
    return series;
  };
}
