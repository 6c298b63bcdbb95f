/** Test helpers: a signal whose reading the test sets, on a virtual clock. */
import { customSignal } from '../../src/pressure/index.js';
import type { CustomSignalOptions, Signal } from '../../src/pressure/index.js';

export interface Gauge {
  value: number;
  readonly signal: Signal;
}

/** A custom signal reading `gauge.value`; watermarks 0.7 / 0.9 unless given. */
export function gauge(name: string, options: Partial<Omit<CustomSignalOptions, 'name' | 'read'>> = {}): Gauge {
  const g = { value: 0 } as { value: number; signal: Signal };
  g.signal = customSignal({ name, slowAt: 0.7, rejectAt: 0.9, ...options, read: () => g.value });
  return g;
}
