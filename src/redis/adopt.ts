/**
 * A batch entry's promise without an executor closure per entry: `promiseOf(entry)` makes a
 * promise whose resolvers the entry takes itself (`new Promise(adopt)` runs `adopt` at once).
 * One function for every decision instead of a closure (and its context) per decision: at tens
 * of thousands of decisions a second, that is garbage the young generation collects in pauses
 * every decision in flight waits out.
 */

/** An entry that settles its own promise. */
export interface Adopter<T> {
  resolve: (v: T) => void;
  reject: (err: Error) => void;
}

/** The entry whose promise is being made. */
let adopting: Adopter<never> | undefined;
function adopt(resolve: (v: never) => void, reject: (err: Error) => void): void {
  const a = adopting!;
  adopting = undefined;
  a.resolve = resolve;
  a.reject = reject;
}

/** A promise that `entry` settles (through its resolve and reject, set here). */
export function promiseOf<T>(entry: Adopter<T>): Promise<T> {
  adopting = entry as Adopter<never>;
  return new Promise<T>(adopt);
}

/** An entry's resolvers before its promise is made. */
const unset = (): void => {
  throw new Error('sluice/redis: an entry was answered before its promise was made (a bug in sluice)');
};

/** A batch entry that settles its own promise: its resolvers are set by {@link promiseOf}, before it is queued. */
export abstract class Adopting<T> implements Adopter<T> {
  resolve: (v: T) => void = unset;
  reject: (err: Error) => void = unset;
}
