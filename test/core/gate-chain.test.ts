import { describe, expect, it } from 'vitest';
import { AbortedError, VirtualClock } from '../../src/core/index.js';
import type { Admission, AdmissionContext, Gate, Outcome } from '../../src/core/index.js';
import { walkChain } from '../../src/core/gate-chain.js';
import type { ChainResult, ChainThen } from '../../src/core/gate-chain.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';

/** A ChainThen that records what it was given. */
function recorder(): ChainThen<string> & { readonly seen: unknown[] } {
  const seen: unknown[] = [];
  return {
    seen,
    done: (r: ChainResult) => (seen.push(r), r.rejection === undefined ? `admitted ${r.permits.length}` : `refused ${r.rejection.reason}`),
    failed: (err: unknown) => (seen.push(err), 'failed'),
  };
}

/** A gate that records the outcome its permits were released with. */
function countingGate(clock: VirtualClock, outcomes: Outcome[]): ConcurrencyGate {
  const g = new ConcurrencyGate({ clock, limit: 5 });
  g.on((e) => {
    if (e.type === 'release') outcomes.push(e.outcome);
  });
  return g;
}

describe('walkChain with a continuation (ChainThen)', () => {
  it('a walk that never waits returns its result as it is, without calling done', () => {
    const clock = new VirtualClock();
    const then = recorder();
    const r = walkChain([new ConcurrencyGate({ clock, limit: 1 })], {}, then);
    expect(r).toMatchObject({ rejection: undefined });
    expect((r as ChainResult).permits).toHaveLength(1);
    expect(then.seen).toEqual([]);
  });

  it('a wait ends through done, with every permit of the chain, and its answer is the promise’s', async () => {
    const clock = new VirtualClock();
    const first = new ConcurrencyGate({ clock, limit: 5 });
    const queue = new ConcurrencyGate({ clock, limit: 1, maxQueue: 5, maxWaitMs: 100 });
    const holder = queue.admit() as Admission;
    const then = recorder();
    const p = walkChain([first, queue], {}, then);
    expect(p).toBeInstanceOf(Promise);
    if (holder.ok) holder.release('success');
    await expect(p).resolves.toBe('admitted 2');
    expect(then.seen).toHaveLength(1);
    expect(first.inFlight).toBe(1);
  });

  it('a wait refused at its deadline ends through done with the refusal; earlier permits go back unused', async () => {
    const clock = new VirtualClock();
    const outcomes: Outcome[] = [];
    const first = countingGate(clock, outcomes);
    const queue = new ConcurrencyGate({ clock, limit: 1, maxQueue: 5, maxWaitMs: 100 });
    void queue.admit();
    const p = walkChain([first, queue], {}, recorder());
    clock.advance(100);
    await expect(p).resolves.toBe('refused queue_timeout');
    expect(first.inFlight).toBe(0);
    expect(outcomes).toEqual(['ignored']);
  });

  it('an abort while waiting ends through failed with the AbortedError; earlier permits go back unused', async () => {
    const clock = new VirtualClock();
    const outcomes: Outcome[] = [];
    const first = countingGate(clock, outcomes);
    const queue = new ConcurrencyGate({ clock, limit: 1, maxQueue: 5, maxWaitMs: 100 });
    void queue.admit();
    const controller = new AbortController();
    const then = recorder();
    const p = walkChain([first, queue], { signal: controller.signal }, then);
    controller.abort('gone');
    await expect(p).resolves.toBe('failed');
    expect(then.seen[0]).toBeInstanceOf(AbortedError);
    expect(outcomes).toEqual(['ignored']);
  });

  it('a gate after the wait that throws ends through failed; the permits before it go back unused', async () => {
    const clock = new VirtualClock();
    const outcomes: Outcome[] = [];
    const first = countingGate(clock, outcomes);
    const queue = new ConcurrencyGate({ clock, limit: 1, maxQueue: 5, maxWaitMs: 100 });
    const holder = queue.admit() as Admission;
    const boom = new Error('broken gate');
    const throwing = {
      name: 'throwing',
      admit: (): Admission => {
        throw boom;
      },
    } as unknown as Gate;
    const then = recorder();
    const p = walkChain([first, queue, throwing], {}, then);
    if (holder.ok) holder.release('success');
    await expect(p).resolves.toBe('failed');
    expect(then.seen).toEqual([boom]);
    expect(first.inFlight).toBe(0);
    expect(queue.inFlight).toBe(0);
    expect(outcomes).toEqual(['ignored']);
  });

  it('a gate answering with a thenable of its own is waited for like a promise', async () => {
    const clock = new VirtualClock();
    const inner = new ConcurrencyGate({ clock, limit: 1 });
    const thenable = {
      name: 'thenable',
      admit: (ctx?: AdmissionContext) => ({ then: (ok: (a: Admission) => unknown, no: (e: unknown) => unknown) => Promise.resolve(inner.admit(ctx)).then(ok, no) }),
    } as unknown as Gate;
    await expect(Promise.resolve(walkChain([thenable], {}, recorder()))).resolves.toBe('admitted 1');
  });

  it('without a continuation, a wait resolves with the ChainResult and a failure rejects, as before', async () => {
    const clock = new VirtualClock();
    const queue = new ConcurrencyGate({ clock, limit: 1, maxQueue: 5, maxWaitMs: 100 });
    const holder = queue.admit() as Admission;
    const p = walkChain([queue], {});
    if (holder.ok) holder.release('success');
    await expect(p).resolves.toMatchObject({ rejection: undefined });
    void queue.admit();
    const controller = new AbortController();
    const q = walkChain([queue], { signal: controller.signal });
    controller.abort('gone');
    await expect(q).rejects.toBeInstanceOf(AbortedError);
  });
});
