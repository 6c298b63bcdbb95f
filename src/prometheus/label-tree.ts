/**
 * A metric's series, found by their label values: a Map per label (in the metric's label
 * order) down to the series. A gate's name, its kind and an outcome are the same strings at
 * every event, so each lookup hashes strings V8 has hashed before — where prom-client builds a
 * string of all the labels and looks it up as a dictionary key at every call. Label values
 * are taken as they are (an absent one is `undefined`, a series of its own), as prom-client
 * keys them.
 */
import { inspect } from 'node:util';
import type { Labels } from '../metrics/index.js';

/** Throws, with prom-client's message, for a label not among `names`. */
export function checkLabels(names: readonly string[], labels: Labels): void {
  for (const label in labels) if (!names.includes(label)) throw new Error(`Added label "${label}" is not included in initial labelset: ${inspect(names)}`);
}

/** A level of the tree: the next label's values, or (under the last label) the series. */
type Level<S> = Map<string | undefined, Level<S> | S>;

export class LabelTree<S extends object> {
  readonly #names: readonly string[];
  #root: Level<S> = new Map();
  /**
   * The keys, in order, of the last label object checked: one with the same keys is not checked
   * again (a fresh literal of one shape at every call is the common case; the check was 40% of a
   * lookup, bench/label-check.ts). Any other keys are checked, so every unknown label throws.
   */
  #shape: readonly string[] = [];

  /** `labelNames`: the metric's, in the order given to it. */
  constructor(labelNames: readonly string[]) {
    this.#names = labelNames;
  }

  /**
   * The series of `labels`, made by `create` the first time they are seen. A label the metric
   * does not take throws, with prom-client's message, whether or not the series exists: the
   * lookup reads only the metric's own labels, and would file it under the series without it.
   */
  series(labels: Labels, create: (labels: Labels) => S): S {
    const names = this.#names;
    this.#check(labels);
    const last = names.length - 1;
    let level = this.#root;
    for (let i = 0; i < last; i++) {
      const value = labels[names[i]!];
      let next = level.get(value) as Level<S> | undefined;
      if (next === undefined) level.set(value, (next = new Map()));
      level = next;
    }
    const key = last < 0 ? undefined : labels[names[last]!];
    let series = level.get(key) as S | undefined;
    if (series === undefined) level.set(key, (series = create(labels)));
    return series;
  }

  /** checkLabels, skipped for labels with the keys (in their order) of the last ones that passed it. */
  #check(labels: Labels): void {
    const shape = this.#shape;
    let i = 0;
    for (const label in labels) if (label !== shape[i++]) return this.#checkShape(labels);
    if (i !== shape.length) this.#checkShape(labels);
  }

  #checkShape(labels: Labels): void {
    checkLabels(this.#names, labels);
    const shape: string[] = [];
    for (const label in labels) shape.push(label);
    this.#shape = shape;
  }

  /** Every series forgotten. */
  clear(): void {
    this.#root = new Map();
  }
}
