// Every listener or hook a caller gives sluice only listens: one that throws is a
// SLUICE_LISTENER_ERROR warning, `sluice: <which listener> threw: <error>`, and the work it was
// told of goes on — the same words and code from each of the six places that tell one
// (src/core/listener-error.ts). A gate listener, a breaker state listener, a pressure listener,
// a channel's onDrop, a retry hook; the autoscale hook (which may reject too) says "failed".
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import { CircuitBreaker } from '../../src/breaker/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { PressureMonitor } from '../../src/pressure/index.js';
import { Channel } from '../../src/queue/index.js';
import { RetryPolicy } from '../../src/retry/index.js';
import { gauge } from '../pressure/helpers.js';

afterEach(() => vi.restoreAllMocks());

const broke = (): never => {
  throw new Error('broke');
};

function warnings(): [string, unknown][] {
  const seen: [string, unknown][] = [];
  vi.spyOn(process, 'emitWarning').mockImplementation(((message: string, options: unknown) => void seen.push([message, options])) as typeof process.emitWarning);
  return seen;
}

const code = { code: 'SLUICE_LISTENER_ERROR' };

describe('a listener that throws is a SLUICE_LISTENER_ERROR warning, and the work goes on', () => {
  it('a gate listener: the acquire is granted', async () => {
    const seen = warnings();
    const gate = new ConcurrencyGate({ name: 'g', limit: 1 });
    gate.on(broke);
    const permit = await gate.acquire();
    permit.release();
    expect(seen[0]).toEqual(['sluice: a gate listener threw: Error: broke', code]);
  });

  it('a breaker state listener: the breaker opens', () => {
    const seen = warnings();
    const breaker = new CircuitBreaker({ name: 'b', clock: new VirtualClock() });
    breaker.onStateChange(broke);
    breaker.trip();
    expect(breaker.state).toBe('open');
    expect(seen).toEqual([['sluice: a breaker state listener threw: Error: broke', code]]);
  });

  it('a pressure listener: sampling goes on', () => {
    const seen = warnings();
    const clock = new VirtualClock();
    const g = gauge('queue', { hysteresis: 0.1 });
    const m = new PressureMonitor({ signals: [g.signal], clock, intervalMs: 100 }).start();
    m.on('level', broke);
    g.value = 0.8;
    clock.advance(100);
    g.value = 0.95;
    clock.advance(100);
    expect(m.level).toBe('reject');
    expect(seen).toEqual([
      ['sluice: a pressure listener threw: Error: broke', code],
      ['sluice: a pressure listener threw: Error: broke', code],
    ]);
    m.stop();
  });

  it("a channel's onDrop: the item is dropped and counted", async () => {
    const seen = warnings();
    const ch = new Channel<number>({ name: 'c', capacity: 1, overflow: 'drop-newest', onDrop: broke });
    expect(await ch.putMany([1, 2])).toEqual({ accepted: 1, dropped: 1 });
    expect(ch.stats().droppedBy['drop-newest']).toBe(1);
    expect(seen).toEqual([['sluice: onDrop of c threw: Error: broke', code]]);
  });

  it('a retry hook: the next attempt runs', async () => {
    const seen = warnings();
    const policy = new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0, onRetry: broke });
    let calls = 0;
    await expect(policy.execute(() => (++calls === 1 ? Promise.reject(new Error('blip')) : Promise.resolve('ok')))).resolves.toBe('ok');
    expect(seen).toEqual([['sluice: retry onRetry threw: Error: broke', code]]);
  });

  it('the autoscale hook: a throw and a rejection each a warning, "failed"', async () => {
    const seen = warnings();
    const clock = new VirtualClock();
    const g = gauge('queue', { hysteresis: 0.1 });
    let n = 0;
    const m = new PressureMonitor({ signals: [g.signal], clock, intervalMs: 1000, autoscale: { onScale: () => (++n === 1 ? broke() : Promise.reject(new Error('later'))), dwellMs: 1000, repeatMs: 1000 } }).start();
    g.value = 0.8;
    clock.advance(3000);
    await Promise.resolve();
    await Promise.resolve();
    expect(n).toBe(2);
    expect(seen).toEqual([
      ['sluice: the autoscale hook failed: Error: broke', code],
      ['sluice: the autoscale hook failed: Error: later', code],
    ]);
    m.stop();
  });
});
