// Shared by the ConcurrencyGate tests on a virtual clock: an immediate permit, and one service-time sample.
import type { Admission, Permit, VirtualClock } from '../../src/core/index.js';
import type { ConcurrencyGate } from '../../src/concurrency/index.js';

/** The permit of an admission that must have been granted at once. */
export function permit(a: Admission | Promise<Admission>): Permit {
  if (a instanceof Promise || !a.ok) throw new Error('expected an immediate permit');
  return a;
}

/** One permit held `ms` on the gate's clock: a service-time sample. */
export function serve(gate: ConcurrencyGate, clock: VirtualClock, ms: number): void {
  const p = permit(gate.admit());
  clock.advance(ms);
  p.release();
}
