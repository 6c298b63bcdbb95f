import { describe, expectTypeOf, it } from 'vitest';
import type {
  Admission,
  AdmissionContext,
  Gate,
  GateEvent,
  GateStats,
  Outcome,
  Permit,
  PolicyFacts,
  Rejection,
  RejectionReason,
} from '../../src/index.js';
import { ConcurrencyGate, compose, run, VirtualClock } from '../../src/index.js';
import type { RejectedError } from '../../src/index.js';

describe('the gate contract types', () => {
  it('admission is a discriminated union on ok', () => {
    const a = {} as Admission;
    if (a.ok) {
      expectTypeOf(a).toEqualTypeOf<Permit>();
      expectTypeOf(a.release).parameter(0).toEqualTypeOf<Outcome | undefined>();
    } else {
      expectTypeOf(a).toEqualTypeOf<Rejection>();
      expectTypeOf(a.reason).toEqualTypeOf<RejectionReason>();
      expectTypeOf(a.retryAfterMs).toEqualTypeOf<number>();
      expectTypeOf(a.facts).toEqualTypeOf<PolicyFacts | undefined>();
    }
  });

  it('outcomes and reasons are string-literal unions', () => {
    expectTypeOf<Outcome>().toEqualTypeOf<'success' | 'failure' | 'dropped' | 'ignored'>();
    expectTypeOf<'rate_limited'>().toMatchTypeOf<RejectionReason>();
    expectTypeOf<'nope'>().not.toMatchTypeOf<RejectionReason>();
  });

  it('admit may answer synchronously or with a promise; acquire always awaits a permit', () => {
    const gate = new ConcurrencyGate({ limit: 1, clock: new VirtualClock() });
    expectTypeOf(gate).toMatchTypeOf<Gate>();
    expectTypeOf(gate.admit).returns.toEqualTypeOf<Admission | Promise<Admission>>();
    expectTypeOf(gate.acquire).returns.toEqualTypeOf<Promise<Permit>>();
    expectTypeOf(gate.stats).returns.toMatchTypeOf<GateStats>();
    expectTypeOf(gate.on).parameter(0).parameter(0).toEqualTypeOf<GateEvent>();
  });

  it('contexts are readonly and every field optional', () => {
    expectTypeOf<Record<never, never>>().toMatchTypeOf<AdmissionContext>();
    expectTypeOf<{ cost: string }>().not.toMatchTypeOf<AdmissionContext>();
    // @ts-expect-error contexts are readonly
    ({} as AdmissionContext).cost = 2;
  });

  it('options reject unknown and mistyped fields at compile time', () => {
    // @ts-expect-error limit is required
    new ConcurrencyGate({});
    // @ts-expect-error discipline is a closed union
    new ConcurrencyGate({ limit: 1, discipline: 'random' });
    new ConcurrencyGate({ limit: 1, maxQueue: 10, discipline: { type: 'codel', targetMs: 5, intervalMs: 100 } });
  });

  it('run infers the result type; compose returns a gate', () => {
    const gate = compose(new ConcurrencyGate({ limit: 1 }));
    expectTypeOf(gate).toMatchTypeOf<Gate>();
    expectTypeOf(run(gate, async () => 42)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(run(gate, () => 'x', { classify: (v) => (v === 'x' ? 'success' : 'failure') })).toEqualTypeOf<Promise<string>>();
  });

  it('errors carry typed fields', () => {
    const e = {} as RejectedError;
    expectTypeOf(e.code).toEqualTypeOf<'SLUICE_ERR_INVALID_OPTION' | 'SLUICE_ERR_INVALID_ARGUMENT' | 'SLUICE_ERR_REJECTED' | 'SLUICE_ERR_ABORTED' | 'SLUICE_ERR_CLOSED' | 'SLUICE_ERR_GATEWAY_CONFIG' | 'SLUICE_ERR_STREAM_RULE' | 'SLUICE_ERR_BROKER_UNAVAILABLE' | 'SLUICE_ERR_BROKER_QUEUE_DELETED' | 'SLUICE_ERR_BROKER_REFUSED' | 'SLUICE_ERR_HANDLER_TIMEOUT' | 'SLUICE_ERR_DEAD_LETTER_TOO_LARGE' | 'SLUICE_ERR_LEASE_LOST' | 'SLUICE_ERR_STORE_UNAVAILABLE' | 'SLUICE_ERR_STORE_WRONGTYPE' | 'SLUICE_ERR_MISSING_DEPENDENCY'>();
    expectTypeOf(e.reason).toEqualTypeOf<RejectionReason>();
  });
});
