/** Test helpers: observe a promise's settlement without awaiting it. */
export interface Observed<T> {
  state: 'pending' | 'fulfilled' | 'rejected';
  value: T | undefined;
  error: unknown;
}

export function observe<T>(p: Promise<T>): Observed<T> {
  const o: Observed<T> = { state: 'pending', value: undefined, error: undefined };
  p.then(
    (v) => {
      o.state = 'fulfilled';
      o.value = v;
    },
    (e: unknown) => {
      o.state = 'rejected';
      o.error = e;
    },
  );
  return o;
}

/** Let promise continuations run (no timers, no sleeping beyond one macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
