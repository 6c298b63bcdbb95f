// A concurrency refusal's retryAfterMs, on a virtual clock: the wait a caller can expect, not the
// mean service time of everything the gate serves (fast work diluted it: Retry-After said 1 s
// while every slot was held 2.5 s, hostile pass).
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { permit, serve } from './served.js';
import { deltaSeconds } from '../../src/http/ratelimit-headers.js';


describe('ConcurrencyGate retryAfterMs', () => {
  it('a policy over a 10 ms path and a 2.5 s one: a queue timeout while slow work holds the slots says seconds, not the 10 ms mean', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ clock, limit: 1, maxQueue: 10, maxWaitMs: 1000 });
    // Nine fast requests to one slow one, five rounds: the mean service time is ~250 ms.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 9; i++) serve(gate, clock, 10);
      serve(gate, clock, 2500);
    }
    expect(gate.serviceMs).toBeLessThan(600);
    // The slot taken by a slow request; a caller queues and times out after 1 s.
    const held = [permit(gate.admit())];
    const waiting = gate.admit();
    clock.advance(1000);
    const refused = await waiting;
    if (refused.ok) throw new Error('expected a refusal');
    expect(refused.reason).toBe('queue_timeout');
    // Before: ceil(serviceMs) ms, a Retry-After of 1 s with the slot held 1.5 s more. A busy
    // slot's mean residual, E[S²] / 2·E[S], is the slow work's: ~1.2 s, a Retry-After of 2 s.
    expect(refused.retryAfterMs).toBeGreaterThan(1000);
    expect(refused.retryAfterMs).toBeLessThan(2500);
    expect(deltaSeconds(refused.retryAfterMs)).toBe(2);
    for (const p of held) p.release();
  });

  it('uniform work keeps the service-time estimate (service × (queued + 1) / limit)', () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ clock, limit: 2, maxQueue: 1 });
    for (let i = 0; i < 5; i++) serve(gate, clock, 400);
    const held = [permit(gate.admit()), permit(gate.admit())];
    void gate.admit();
    const r = gate.admit();
    if (r instanceof Promise || r.ok) throw new Error('expected a refusal');
    expect(r).toMatchObject({ reason: 'queue_full', retryAfterMs: 400 });
    for (const p of held) p.release();
  });

  it('observed waits in its own queue count while fresh (within maxWaitMs)', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ clock, limit: 1, maxQueue: 10, maxWaitMs: 5000 });
    serve(gate, clock, 10);
    // A slot held 3 s without a service sample ('ignored'): the waiter at position 1 waited 3 s.
    const slow = permit(gate.admit());
    const waited = gate.admit();
    clock.advance(3000);
    slow.release('ignored');
    const w = await waited;
    if (!w.ok) throw new Error('expected a permit');
    const r = gate.tryAdmit();
    if (r.ok) throw new Error('expected a refusal');
    expect(r.retryAfterMs).toBe(3000);
    clock.advance(6000);
    const stale = gate.tryAdmit();
    if (stale.ok) throw new Error('expected a refusal');
    expect(stale.retryAfterMs).toBe(10);
    w.release();
  });
});
