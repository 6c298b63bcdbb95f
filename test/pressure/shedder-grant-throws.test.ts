// A grant whose admit event throws as it reads the caller's context (a key getter) admits
// nothing: the shedder's units go back, as the concurrency gate's do (take-throws.test.ts).
// Before, they stayed taken for good: the shedder a slot smaller, at limit 2 a second such throw left
// caller refused 'concurrency' (critical-plus aside).
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import { LoadShedder } from '../../src/pressure/index.js';
import { throwingKey } from '../core/throwing-context.js';

describe('a LoadShedder grant that throws', () => {
  it("keeps no units when the caller's key getter throws as the admit event reads it", () => {
    const s = new LoadShedder({ pressure: { level: 'ok', pressure: 0, retryAfterMs: () => 100 }, limit: 2, clock: new VirtualClock() });
    s.on(() => undefined);
    const ctx = throwingKey();
    expect(() => s.admit(ctx)).toThrow('key getter failed');
    expect(() => s.admit(ctx)).toThrow('key getter failed');
    expect(s.inFlight).toBe(0);
    const a = s.admit();
    expect(a instanceof Promise ? undefined : a.ok).toBe(true);
  });
});
