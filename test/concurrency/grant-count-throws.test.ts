// A grant whose admit event throws as it reads the caller's context (a key getter) admits
// nothing: the gate gives the units back (take-throws.test.ts), and it must not count an
// admission either — else stats say admitted 1, released 0, in flight 0, and admitted less
// released no longer is what is in flight.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { throwingKey } from '../core/throwing-context.js';

describe('a grant that throws counts no admission', () => {
  it("the caller's key getter throws as the admit event reads it", () => {
    const gate = new ConcurrencyGate({ limit: 1, clock: new VirtualClock() });
    gate.on(() => undefined);
    const ctx = throwingKey();
    expect(() => gate.admit(ctx)).toThrow('key getter failed');
    expect(gate.stats()).toMatchObject({ inFlight: 0, admitted: 0 });
    const a = gate.admit();
    expect(a instanceof Promise ? undefined : a.ok).toBe(true);
    expect(gate.stats()).toMatchObject({ inFlight: 1, admitted: 1 });
  });
});
