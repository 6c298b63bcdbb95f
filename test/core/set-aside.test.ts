// A permit set aside (GatePermit.setAside) and asked for again as the same request
// (ADMITTED_AGAIN): the gateway's Expect: 100-continue path, whose slot is free while the client
// uploads. One admission, one release, one sample for an adaptive limit — whatever the gate.
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { VirtualClock } from '../../src/core/index.js';
import type { AdmissionContext, GateEvent, Permit } from '../../src/core/index.js';
import { ADMITTED_AGAIN, GatePermit } from '../../src/core/gate-base.js';
import type { LimitAlgorithm, LimitSample } from '../../src/limit/algorithm.js';

const again = { [ADMITTED_AGAIN]: true } as AdmissionContext;

/** An algorithm that keeps the limit and records its samples. */
function recording(limit: number): LimitAlgorithm & { samples: LimitSample[] } {
  const samples: LimitSample[] = [];
  return { name: 'recording', limit, minLimit: 1, maxLimit: limit, samples, onSample: (s) => (samples.push(s), limit), state: () => ({}), restore: () => undefined };
}

function granted(a: unknown): GatePermit {
  expect(a).toBeInstanceOf(GatePermit);
  return a as GatePermit;
}

describe('a permit set aside and granted again', () => {
  it('a concurrency gate frees the slot meanwhile, and counts, tells and samples the request once', async () => {
    const clock = new VirtualClock();
    const algorithm = recording(1);
    const gate = new ConcurrencyGate({ maxQueue: 1, clock, algorithm });
    const events: string[] = [];
    gate.on((e: GateEvent) => events.push(e.type === 'release' ? `release ${e.outcome}` : e.type));
    const first = granted(gate.admit());
    first.setAside();
    expect(gate.inFlight).toBe(0);
    // Someone else takes the slot meanwhile; the request waits for it as any caller would.
    const other = granted(gate.admit());
    const waiting = gate.admit(again) as Promise<Permit>;
    clock.advance(5);
    other.release('success');
    const second = granted(await waiting);
    clock.advance(7);
    second.release('success');
    expect(events).toEqual(['admit', 'admit', 'release success', 'release success']);
    expect(gate.stats()).toMatchObject({ admitted: 2, released: 2, inFlight: 0 });
    // One sample each: the request's runs from its second grant (the upload is not its service time).
    expect(algorithm.samples.map((s) => s.rttMs)).toEqual([5, 7]);
  });

  it('one not granted again has its release counted when settled, once, as ignored', () => {
    const gate = new ConcurrencyGate({ limit: 1, clock: new VirtualClock() });
    const events: string[] = [];
    gate.on((e: GateEvent) => events.push(e.type === 'release' ? `release ${e.outcome}` : e.type));
    const first = granted(gate.admit());
    first.setAside();
    expect(gate.stats()).toMatchObject({ admitted: 1, released: 0, inFlight: 0 });
    first.settleAside();
    first.settleAside();
    first.release('success');
    expect(events).toEqual(['admit', 'release ignored']);
    expect(gate.stats()).toMatchObject({ admitted: 1, released: 1, inFlight: 0 });
  });

  it('a circuit breaker counts it once, listened to or not', () => {
    for (const listened of [false, true]) {
      const breaker = new CircuitBreaker({ clock: new VirtualClock() });
      const events: string[] = [];
      if (listened) breaker.on((e: GateEvent) => events.push(e.type));
      const first = granted(breaker.admit());
      first.setAside();
      granted(breaker.admit(again)).release('success');
      expect(breaker.stats(), String(listened)).toMatchObject({ admitted: 1, released: 1, inFlight: 0 });
      expect(events).toEqual(listened ? ['admit', 'release'] : []);
    }
  });
});
