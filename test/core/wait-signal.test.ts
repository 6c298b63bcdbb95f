import { describe, expect, it, vi } from 'vitest';
import { AbortedError, InvalidArgumentError, readContext, VirtualClock } from '../../src/core/index.js';
import type { Admission, AdmissionContext } from '../../src/core/index.js';
import { WaitSignal } from '../../src/core/wait-signal.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { HttpAdmission } from '../../src/http/index.js';
import { FakeRes, fakeReq } from '../http/helpers.js';

const asSignal = (s: WaitSignal): AbortSignal => s as unknown as AbortSignal;

describe('WaitSignal', () => {
  it('calls each listener once, in the order added, functions and handleEvent objects alike', () => {
    const s = new WaitSignal();
    const calls: string[] = [];
    const f = function (this: unknown, e: { type: string }): void {
      calls.push(`f ${e.type} ${this === s}`);
    };
    const o = { handleEvent: (e: { type: string }) => calls.push(`o ${e.type}`) };
    s.addEventListener('abort', f);
    s.addEventListener('abort', o);
    s.addEventListener('abort', f); // the same listener twice is one listener
    s.addEventListener('other', () => calls.push('other'));
    s.abort('why');
    s.abort('again');
    expect(calls).toEqual(['f abort true', 'o abort']);
    expect(s.aborted).toBe(true);
    expect(s.reason).toBe('why');
  });

  it('forgets a removed listener, wherever it was; one added after the abort is never called', () => {
    const s = new WaitSignal();
    const calls: number[] = [];
    const ls = [0, 1, 2].map((i) => () => calls.push(i));
    for (const l of ls) s.addEventListener('abort', l);
    s.removeEventListener('abort', ls[0]);
    s.removeEventListener('abort', ls[2]);
    s.removeEventListener('abort', () => calls.push(9)); // never added: nothing
    s.addEventListener('abort', ls[0]);
    s.abort(undefined);
    s.addEventListener('abort', ls[2]);
    expect(calls).toEqual([1, 0]);
  });

  it('a listener that throws does not stop the others; its error is thrown later, on its own', async () => {
    const s = new WaitSignal();
    const after = vi.fn();
    s.addEventListener('abort', () => {
      throw new Error('boom');
    });
    s.addEventListener('abort', after);
    const seen: unknown[] = [];
    const listener = (err: unknown): void => void seen.push(err);
    const previous = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', listener);
    try {
      s.abort('x');
      expect(after).toHaveBeenCalledTimes(1);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.removeListener('uncaughtException', listener);
      for (const l of previous) process.on('uncaughtException', l);
    }
    expect(seen.map((e) => (e as Error).message)).toEqual(['boom']);
  });

  it('gates take it as a signal: an abort takes the waiter out of the queue with AbortedError and the reason', async () => {
    expect(() => readContext({ signal: asSignal(new WaitSignal()) })).not.toThrow();
    expect(() => readContext({ signal: {} as AbortSignal })).toThrow(InvalidArgumentError);
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 1, maxQueue: 5, maxWaitMs: 1000 });
    expect((gate.admit() as Admission).ok).toBe(true);
    const signals = [new WaitSignal(), new WaitSignal()];
    const waits = signals.map((s) => gate.admit({ signal: asSignal(s) }) as Promise<Admission>);
    expect(gate.queued).toBe(2);
    const reason = new Error('client gone');
    signals[0]!.abort(reason);
    await expect(waits[0]).rejects.toBeInstanceOf(AbortedError);
    await expect(waits[0]).rejects.toMatchObject({ cause: reason });
    expect(gate.queued).toBe(1);
    // An already aborted one is refused at once, as an aborted AbortSignal is.
    await expect(gate.admit({ signal: asSignal(signals[0]!) })).rejects.toBeInstanceOf(AbortedError);
    gate.close();
    await expect(waits[1]).resolves.toMatchObject({ ok: false, reason: 'closed' });
  });
});

describe('HttpAdmission: the signal of a wait', () => {
  it('is a WaitSignal when every gate is its own, and a waiting request whose client leaves is taken out of the queue', async () => {
    const policy = new HttpAdmission({ clock: new VirtualClock(), concurrency: { limit: 1, maxQueue: 5, maxWaitMs: 10_000 } });
    const seen: unknown[] = [];
    const gate = policy.concurrency!;
    const admit = gate.admit.bind(gate);
    gate.admit = (ctx?: AdmissionContext) => (seen.push(ctx?.signal), admit(ctx));
    expect((policy.handle(fakeReq('192.0.2.1'), new FakeRes()) as { type: string }).type).toBe('admitted');
    const leaving = new FakeRes();
    const waiting = policy.handle(fakeReq('192.0.2.1'), leaving);
    expect(gate.queued).toBe(1);
    leaving.abort();
    await expect(waiting).resolves.toMatchObject({ type: 'abandoned' });
    expect(gate.queued).toBe(0);
    expect(seen.every((s) => s instanceof WaitSignal)).toBe(true);
  });

  it('is a real AbortSignal when a gate was given by the user', async () => {
    const clock = new VirtualClock();
    const seen: unknown[] = [];
    const given = new ConcurrencyGate({ name: 'given', clock, limit: 10 });
    const admit = given.admit.bind(given);
    given.admit = (ctx?: AdmissionContext) => (seen.push(ctx?.signal), admit(ctx));
    const policy = new HttpAdmission({ clock, gates: [given], concurrency: { limit: 1, maxQueue: 5, maxWaitMs: 10_000 } });
    await policy.handle(fakeReq('192.0.2.1'), new FakeRes());
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(AbortSignal);
  });
});
