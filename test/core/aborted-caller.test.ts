/**
 * A caller whose signal is already aborted has given up: every gate refuses it with
 * AbortedError, even when it could admit at once (README: "a caller whose signal is already
 * aborted is refused with AbortedError even when a slot is free"). The concurrency and rate
 * gates, Channel.put and PressureMonitor did; the gates that never wait (breaker, throttle,
 * shedder) and the pacer's immediate path admitted it, and breaker.execute ran the work.
 */
import { describe, expect, it } from 'vitest';
import { AbortedError, VirtualClock } from '../../src/core/index.js';
import type { Admission } from '../../src/core/index.js';
import { CircuitBreaker, consecutiveFailures } from '../../src/breaker/index.js';
import { AdaptiveThrottle } from '../../src/retry/index.js';
import { LoadShedder } from '../../src/pressure/index.js';
import { Pacer } from '../../src/http-client/pacer.js';
import { compose, run } from '../../src/compose/index.js';

const aborted = (): AbortSignal => AbortSignal.abort(new Error('caller gone'));

interface AdmitOnly {
  admit(ctx?: { signal?: AbortSignal }): Admission | Promise<Admission>;
  acquire(ctx?: { signal?: AbortSignal }): Promise<unknown>;
  stats(): { admitted: number; inFlight: number };
}

function gates(): [string, AdmitOnly][] {
  const clock = new VirtualClock();
  return [
    ['CircuitBreaker', new CircuitBreaker({ clock, rule: consecutiveFailures({ threshold: 3 }) })],
    ['AdaptiveThrottle', new AdaptiveThrottle({ clock })],
    ['LoadShedder', new LoadShedder({ clock, pressure: { level: 'ok', pressure: 0, retryAfterMs: () => 100 } })],
    ['Pacer', new Pacer({ clock })],
  ];
}

describe('a caller whose signal is already aborted', () => {
  it.each(gates())('%s refuses it with AbortedError though it would admit at once, and counts no admission', async (_name, gate) => {
    const answer = (() => {
      try {
        return gate.admit({ signal: aborted() });
      } catch (err) {
        return err;
      }
    })();
    const err = answer instanceof Promise ? await answer.catch((e: unknown) => e) : answer;
    expect(err).toBeInstanceOf(AbortedError);
    await expect(gate.acquire({ signal: aborted() })).rejects.toBeInstanceOf(AbortedError);
    expect(gate.stats()).toMatchObject({ admitted: 0, inFlight: 0 });
    // A live signal is admitted as before.
    await expect(gate.acquire({ signal: new AbortController().signal })).resolves.toMatchObject({ ok: true });
  });

  it('breaker.execute does not run the work, and rejects with AbortedError', async () => {
    const breaker = new CircuitBreaker({ clock: new VirtualClock(), rule: consecutiveFailures({ threshold: 3 }) });
    let calls = 0;
    await expect(breaker.execute(() => ++calls, { signal: aborted() })).rejects.toBeInstanceOf(AbortedError);
    expect(calls).toBe(0);
    expect(breaker.stats()).toMatchObject({ admitted: 0, inFlight: 0, released: 0 });
  });

  it('run() through a composed breaker and throttle does not run the work', async () => {
    const clock = new VirtualClock();
    const gate = compose(new CircuitBreaker({ clock, rule: consecutiveFailures({ threshold: 3 }) }), new AdaptiveThrottle({ clock }));
    let calls = 0;
    await expect(run(gate, () => ++calls, { signal: aborted() })).rejects.toBeInstanceOf(AbortedError);
    expect(calls).toBe(0);
    expect(gate.stats()).toMatchObject({ inFlight: 0 });
  });
});
