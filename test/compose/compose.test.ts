import { describe, expect, it } from 'vitest';
import { ClosedError, InvalidArgumentError, InvalidOptionError, RejectedError, VirtualClock } from '../../src/core/index.js';
import type { Permit } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { compose, run } from '../../src/compose/index.js';

describe('compose', () => {
  it('asks gates in order and releases earlier grants when a later gate rejects', () => {
    const clock = new VirtualClock();
    const outer = new ConcurrencyGate({ name: 'outer', limit: 5, clock });
    const inner = new ConcurrencyGate({ name: 'inner', limit: 1, clock });
    const both = compose(outer, inner);
    const p = both.admit();
    expect(p).toMatchObject({ ok: true });
    expect(both.admit()).toMatchObject({ ok: false, reason: 'concurrency', gate: 'outer+inner' });
    expect(outer.stats().inFlight).toBe(1); // the rejected attempt's outer grant was released
    expect(outer.stats().released).toBe(1);
    (p as Permit).release('failure');
    expect(outer.stats()).toMatchObject({ inFlight: 0, released: 2 });
    expect(inner.stats()).toMatchObject({ inFlight: 0, released: 1 });
    expect(both.stats()).toMatchObject({ inFlight: 0, admitted: 1, released: 1, rejected: { concurrency: 1 }, limit: 1 });
  });

  it('waits in a later gate, and an abort there releases the earlier grant', async () => {
    const clock = new VirtualClock();
    const outer = new ConcurrencyGate({ name: 'outer', limit: 5, clock });
    const inner = new ConcurrencyGate({ name: 'inner', limit: 1, maxQueue: 5, clock });
    const both = compose(outer, inner);
    const first = await both.acquire();
    const ac = new AbortController();
    const waiting = both.acquire({ signal: ac.signal });
    const served = both.acquire();
    expect(outer.stats().inFlight).toBe(3);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'SLUICE_ERR_ABORTED' });
    expect(outer.stats().inFlight).toBe(2);
    first.release();
    (await served).release();
    expect(outer.stats().inFlight).toBe(0);
    expect(inner.stats().inFlight).toBe(0);
  });

  it('one wait budget for the whole chain', async () => {
    const clock = new VirtualClock();
    const a = new ConcurrencyGate({ name: 'a', limit: 1, maxQueue: 5, clock });
    const b = new ConcurrencyGate({ name: 'b', limit: 1, maxQueue: 5, clock });
    const both = compose(a, b);
    const holdA = await a.acquire();
    const holdB = await b.acquire();
    const pending = both.admit({ maxWaitMs: 100 });
    clock.advance(60);
    holdA.release(); // passes a after 60 ms; only 40 ms left for b
    await Promise.resolve();
    clock.advance(40);
    await expect(pending).resolves.toMatchObject({ ok: false, reason: 'queue_timeout' });
    holdB.release();
    expect(a.stats().inFlight).toBe(0);
  });

  it('refuses gates on different clocks, and close closes every member', async () => {
    expect(() => compose(new ConcurrencyGate({ limit: 1, clock: new VirtualClock() }), new ConcurrencyGate({ limit: 1, clock: new VirtualClock() }))).toThrow(InvalidOptionError);
    expect(() => compose()).toThrow('gates: expected at least one gate');
    const clock = new VirtualClock();
    const a = new ConcurrencyGate({ limit: 1, clock });
    const both = compose(a);
    both.close();
    expect(a.stats().closed).toBe(true);
    await expect(both.acquire()).rejects.toBeInstanceOf(ClosedError);
  });
});

describe('run', () => {
  it('releases with success, failure, or a classified outcome', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 1, clock });
    const outcomes: string[] = [];
    gate.on((e) => e.type === 'release' && outcomes.push(e.outcome));
    await expect(run(gate, () => 42)).resolves.toBe(42);
    await expect(run(gate, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(run(gate, () => { throw new Error('sync boom'); })).rejects.toThrow('sync boom');
    await expect(run(gate, async () => 'timeout', { classify: (v) => (v === 'timeout' ? 'dropped' : 'success') })).resolves.toBe('timeout');
    expect(outcomes).toEqual(['success', 'failure', 'failure', 'dropped']);
    expect(gate.stats().inFlight).toBe(0);
  });

  it('rejects with RejectedError and never calls fn when refused', async () => {
    const gate = new ConcurrencyGate({ limit: 1, clock: new VirtualClock() });
    const held = await gate.acquire();
    let called = false;
    await expect(run(gate, () => (called = true))).rejects.toBeInstanceOf(RejectedError);
    expect(called).toBe(false);
    held.release();
  });
});

describe('run with a throwing classifier', () => {
  it('still releases the permit, as a failure', async () => {
    const gate = new ConcurrencyGate({ limit: 1, clock: new VirtualClock() });
    const outcomes: string[] = [];
    gate.on((e) => e.type === 'release' && outcomes.push(e.outcome));
    await expect(run(gate, () => 1, { classify: () => { throw new Error('bad classifier'); } })).resolves.toBe(1);
    await expect(run(gate, () => Promise.reject(new Error('x')), { classifyError: () => { throw new Error('bad'); } })).rejects.toThrow('x');
    expect(outcomes).toEqual(['failure', 'failure']);
    expect(gate.stats().inFlight).toBe(0);
  });
});

describe('run given something that cannot run', () => {
  // Before, run(gate, 5) admitted, threw "fn is not a function" and released the permit as a
  // 'failure' (a breaker counted it, an adaptive limit was cut); run(undefined, fn) threw
  // "Cannot read properties of undefined (reading 'admit')".
  it('refuses it by name before admitting anything', async () => {
    const gate = new ConcurrencyGate({ limit: 1, clock: new VirtualClock() });
    const events: string[] = [];
    gate.on((e) => events.push(e.type));
    await expect(run(gate, 5 as never)).rejects.toThrow('fn: expected a function, received 5');
    await expect(run(undefined as never, () => 1)).rejects.toThrow('gate: expected a gate (an object with admit()), received undefined');
    await expect(run(gate, () => 1, { classify: 'success' as never })).rejects.toThrow('classify: expected a function, received "success"');
    await expect(run(gate, () => 1, { classifyError: {} as never })).rejects.toThrow(InvalidArgumentError);
    expect(events).toEqual([]);
    expect(gate.stats()).toMatchObject({ admitted: 0, released: 0, inFlight: 0 });
  });
});
