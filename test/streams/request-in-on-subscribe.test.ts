// §3.9 from inside onSubscribe: before, subscribe() itself threw "TypeError: Cannot read
// properties of undefined (reading 'start')" into the caller — the bad request() had already
// dropped the source, and begin() went on to start it — and onError never came.
import { describe, expect, it } from 'vitest';
import { StreamRuleError } from '../../src/core/index.js';
import { fromArray, map, pipe, publisher } from '../../src/streams/index.js';
import type { Publisher, Subscription } from '../../src/streams/index.js';

function record(p: Publisher<number>, n: number): { errors: unknown[]; items: number[]; completed: boolean } {
  const out = { errors: [] as unknown[], items: [] as number[], completed: false };
  p.subscribe({ onSubscribe: (s: Subscription) => s.request(n), onNext: (x) => void out.items.push(x), onError: (e) => void out.errors.push(e), onComplete: () => void (out.completed = true) });
  return out;
}

describe('request(n) with a bad n from inside onSubscribe', () => {
  for (const n of [0, -1, Number.NaN, 1.5]) {
    it(`request(${n}): onError once with §3.9; the source is cancelled, never started or pulled`, () => {
      const calls: string[] = [];
      const src = publisher<number>(() => ({ start: () => void calls.push('start'), pull: () => void calls.push('pull'), cancel: () => void calls.push('cancel') }));
      let out: ReturnType<typeof record> | undefined;
      expect(() => (out = record(src, n))).not.toThrow();
      expect(out!.errors).toHaveLength(1);
      expect(out!.errors[0]).toBeInstanceOf(StreamRuleError);
      expect((out!.errors[0] as StreamRuleError).rule).toBe('3.9');
      expect(out!.items).toEqual([]);
      expect(out!.completed).toBe(false);
      expect(calls).toEqual(['cancel']);
    });
  }

  it('through a stage: the stage fails downstream, and the source upstream is never subscribed', () => {
    const out = record(pipe(fromArray([1, 2, 3]), map((x: number) => x * 2)), 0);
    expect(out.errors).toHaveLength(1);
    expect((out.errors[0] as StreamRuleError).rule).toBe('3.9');
    expect(out.items).toEqual([]);
  });
});
