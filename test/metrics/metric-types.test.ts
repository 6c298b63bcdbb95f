// Every family sluice/prometheus serves has the type its behaviour calls for: a running total
// is a counter named *_total (rate() and increase() read it, a restart's drop is a reset), a
// level is a gauge. Judged on a real scrape: gates, a retry budget, a broker consumer and its
// lag, scraped at rest, put to work, and scraped at rest again — a level is back, a total is
// higher. And `promtool check metrics` on the same text, when promtool is installed.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, LagMonitor } from '../../src/brokers/index.js';
import type { BrokerSource, Delivery } from '../../src/brokers/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { VirtualClock } from '../../src/core/index.js';
import { registerPrometheusMetrics } from '../../src/prometheus/index.js';
import { RetryBudget } from '../../src/retry/index.js';
import { promtoolCheck, promtoolPath, typeMisfits } from './exposition.js';

/** A queue in memory: `put` adds deliveries, a pull waits for one; `connection` moves when told. */
function memoryQueue(name: string): BrokerSource & { put(body: string): void; readonly settled: string[]; connection: { state: 'up'; reconnects: number } } {
  const waiting: Delivery[] = [];
  let wake: (() => void) | undefined;
  const settled: string[] = [];
  let id = 0;
  const delivery = (body: string, attempt: number): Delivery => {
    const settle = (how: string) => async (): Promise<void> => void settled.push(`${body}:${how}`);
    return {
      broker: 'rabbitmq',
      source: name,
      id: String(++id),
      body: new TextEncoder().encode(body),
      headers: {},
      attempt,
      settled: undefined,
      ack: settle('ack'),
      retry: async () => {
        settled.push(`${body}:retry`);
        waiting.push(delivery(body, attempt + 1));
        wake?.();
      },
      deadLetter: settle('dead'),
      extend: async () => undefined,
      release: settle('release'),
    } as unknown as Delivery;
  };
  return {
    name,
    settled,
    connection: { state: 'up', reconnects: 0 },
    put(body) {
      waiting.push(delivery(body, 1));
      wake?.();
    },
    async pull(max, emit, signal) {
      while (waiting.length === 0 && !signal.aborted) await new Promise<void>((r) => (wake = r));
      for (const d of waiting.splice(0, max)) emit(d);
    },
    lag: async () => waiting.length,
    close: async () => wake?.(),
  };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('sluice/prometheus: each family typed by what it does', () => {
  it('what only rises is a counter named *_total: gate decisions, retries refused, broker deliveries, failures, dead letters, reconnects', async () => {
    const clock = new VirtualClock(0);
    const gate = new ConcurrencyGate({ name: 'orders', limit: 1, maxQueue: 1 });
    const budget = Object.assign(new RetryBudget({ ratio: 0, minRetries: 1, windowMs: 1000, clock }), { name: 'calls' });
    const queue = memoryQueue('memory queue "jobs"');
    const consumer = new BrokerConsumer(
      queue,
      (d) => {
        if (new TextDecoder().decode(d.body) === 'bad') throw new Error('bad message');
      },
      { onFailure: { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 } },
    );
    const monitor = new LagMonitor(queue, { intervalMs: 60_000 });
    const registry = new Registry();
    const metrics = registerPrometheusMetrics({ registry, events: 'gates', gates: [gate], budgets: [budget], brokers: [monitor], consumers: [consumer] });
    try {
      await monitor.read();
      const before = await registry.metrics();

      // Work: a gate full with one waiting and one refused; a retry granted, two refused; three
      // messages, one of them failing twice (retried, then dead-lettered); a reconnect.
      const held = await gate.acquire();
      const waiter = gate.acquire();
      await expect(gate.acquire()).rejects.toMatchObject({ reason: 'queue_full' });
      held.release();
      (await waiter).release();
      budget.recordRequest();
      expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, false, false]);
      for (const body of ['a', 'bad', 'b']) queue.put(body);
      queue.connection.reconnects++;
      await until(() => queue.settled.length === 4);
      expect(queue.settled.sort()).toEqual(['a:ack', 'b:ack', 'bad:dead', 'bad:retry']);

      // At rest: nothing in flight or held, the budget's window past, the lag read again.
      clock.advance(2000);
      await monitor.read();
      await until(() => consumer.stats().held === 0);
      const after = await registry.metrics();

      expect(typeMisfits(before, after, (name) => name.startsWith('sluice_'))).toEqual([]);
      // The scenario did what it says: the totals rose (the check above had something to judge).
      expect(after).toMatch(/^sluice_rejections_total\{gate="orders",kind="concurrency",reason="queue_full"\} 1$/m);
      expect(after).toMatch(/^sluice_retry_refused_total\{budget="calls"\} 2$/m);
      expect(after).toMatch(/^sluice_broker_received_total\{source="memory queue \\"jobs\\""\} 4$/m);
      expect(after).toMatch(/^sluice_broker_dead_lettered_total\{source="memory queue \\"jobs\\""\} 1$/m);
      expect(after).toMatch(/^sluice_broker_reconnects_total\{source="memory queue \\"jobs\\""\} 1$/m);
      // The gauges the docs named before, kept a while: marked deprecated, the same figure.
      expect(after).toMatch(/^# HELP sluice_broker_received Deprecated: use sluice_broker_received_total, a counter/m);
      expect(after).toMatch(/^sluice_broker_received\{source="memory queue \\"jobs\\""\} 4$/m);
      expect(after).toMatch(/^# HELP sluice_retry_refused Deprecated: use sluice_retry_refused_total/m);
      // Levels are gauges, back at rest.
      expect(after).toMatch(/^# TYPE sluice_broker_held gauge$/m);
      expect(after).toMatch(/^sluice_broker_held\{source="memory queue \\"jobs\\""\} 0$/m);
      expect(after).toMatch(/^sluice_retry_window_retries\{budget="calls"\} 0$/m);

      const promtool = promtoolPath();
      if (promtool === null) {
        console.warn('[metric-types] SKIPPED promtool check metrics: promtool is not installed (Debian: apt-get install prometheus)');
      } else {
        const { status, output } = promtoolCheck(after);
        expect(output).toBe('');
        expect(status).toBe(0);
      }
    } finally {
      metrics.close();
      monitor.stop();
      await consumer.stop();
    }
  });
});
