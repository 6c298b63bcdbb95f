// The proofs of issue 13, against the real brokers: no loss across a SIGKILL, memory bounded
// by demand rather than backlog, and a lag-driven producer throttle holding lag under its high
// watermark. Slow (tens of seconds per broker): run by `npm run test:brokers`, not `npm test`.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerConsumer, LagMonitor, ProducerThrottle } from '../../src/brokers/index.js';
import { RejectedError } from '../../src/core/index.js';
import { kafka, nats, rabbitmq, redis, sqs, unique } from '../brokers/services.js';
import type { BrokerName } from './fixtures.js';
import { FIXTURES, fixture } from './fixtures.js';
import { processedIds, startChild, stats, waitFor } from './run-child.js';

const up: Record<BrokerName, boolean> = {
  rabbitmq: (await rabbitmq()).up,
  jetstream: (await nats()).up,
  'redis-streams': (await redis()).up,
  kafka: (await kafka()).up,
  sqs: (await sqs()).up,
};
const brokers = (Object.keys(up) as BrokerName[]).filter((b) => FIXTURES[b] !== undefined);
const dir = mkdtempSync(join(tmpdir(), 'sluice-proofs-'));
const results: Record<string, unknown> = {};
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  const outDir = new URL('../../bench/results/', import.meta.url);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(new URL('brokers-proofs-latest.json', outDir), JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2) + '\n');
});

const SLOW_AT = 100;
const REJECT_AT = 300;

describe.each(brokers)('%s proofs', (broker) => {
  const fx = fixture(broker);

  it.skipIf(!up[broker])('no loss: 10,000 messages, the consumer SIGKILLed mid-batch and restarted; every message processed, duplicates counted', async () => {
    const name = unique(`noloss-${broker}`);
    const out = join(dir, `${name}.ids`);
    await fx.fill(name, 10_000, 64);
    const args = { broker, name, out, concurrency: 32, handlerMs: 1, redeliverMs: 2000 };
    try {
      const first = startChild(args);
      await waitFor('3,000 processed before the kill', () => processedIds(out).length >= 3000, 90_000, first);
      first.proc.kill('SIGKILL');
      await first.exited;
      const beforeKill = processedIds(out).length;
      const second = startChild(args);
      await waitFor('all 10,000 processed after the restart', () => new Set(processedIds(out)).size >= 10_000, 120_000, second);
      second.proc.kill('SIGTERM');
      await second.exited;
      const ids = processedIds(out);
      const distinct = new Set(ids);
      const missing = Array.from({ length: 10_000 }, (_, i) => i).filter((i) => !distinct.has(i));
      results[`${broker}.noloss`] = { messages: 10_000, processedBeforeKill: beforeKill, processed: ids.length, distinct: distinct.size, duplicates: ids.length - distinct.size, missing: missing.length };
      console.log(`[proof] ${broker} no-loss: killed after ${beforeKill} processed; ${distinct.size}/10000 distinct, ${ids.length - distinct.size} duplicates, ${missing.length} missing`);
      expect(missing).toEqual([]);
      expect(distinct.size).toBe(10_000);
    } finally {
      await fx.cleanup(name);
    }
  });

  it.skipIf(!up[broker])('bounded memory: a 100,000-message backlog (1 KiB each, ~100 MB) and a slow handler; RSS bounded by demand, not the backlog', async () => {
    const name = unique(`rss-${broker}`);
    const out = join(dir, `${name}.ids`);
    await fx.fill(name, 100_000, 1024);
    const concurrency = 8;
    const child = startChild({ broker, name, out, concurrency, handlerMs: 20 });
    try {
      await waitFor('first stats line', () => stats(out).length > 0, 30_000, child);
      await waitFor('1,000 processed', () => processedIds(out).length >= 1000, 90_000, child);
      await new Promise((r) => setTimeout(r, 3000));
      child.proc.kill('SIGTERM');
      await child.exited;
      const s = stats(out);
      const base = s[0]!.rss;
      const maxRss = Math.max(...s.map((x) => x.rss));
      const maxHeld = Math.max(...s.map((x) => x.inFlight + x.buffered + (x.received - x.acked - x.inFlight)));
      // The stated bound: the consumer holds at most concurrency + prefetch messages
      // (RabbitMQ's adaptive prefetch ≤ its max of 1000; JetStream and Redis hold only what was demanded),
      // so its RSS grows by far less than the 100 MB backlog: 48 MiB at most over its first reading.
      // Kafka: its per-partition buffers (64 × 3 partitions); SQS receives at most the demand.
      const boundHeld = concurrency + (broker === 'rabbitmq' ? 1000 : broker === 'kafka' ? 64 * 3 : 0);
      const boundRss = 48 * 1024 * 1024;
      results[`${broker}.rss`] = { backlog: 100_000, bodyBytes: 1024, concurrency, handlerMs: 20, processed: processedIds(out).length, rssFirstMB: +(base / 2 ** 20).toFixed(1), rssMaxMB: +(maxRss / 2 ** 20).toFixed(1), growthMB: +((maxRss - base) / 2 ** 20).toFixed(1), maxHeld, boundHeld, boundGrowthMB: 48 };
      console.log(`[proof] ${broker} bounded memory: RSS ${(base / 2 ** 20).toFixed(1)} → max ${(maxRss / 2 ** 20).toFixed(1)} MB, held at most ${maxHeld} messages (bound ${boundHeld})`);
      expect(maxHeld).toBeLessThanOrEqual(boundHeld);
      expect(maxRss - base).toBeLessThanOrEqual(boundRss);
    } finally {
      if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
      await fx.cleanup(name);
    }
  });

  /** Offer 200/s (10 every 50 ms) for `seconds` to a consumer that takes at most 100/s; sample the lag every 100 ms. */
  async function scenario(seconds: number, throttled: boolean): Promise<{ published: number; refused: number; maxLag: number; samples: number; delayed: number }> {
    const name = unique(`throttle-${broker}`);
    await fx.fill(name, 1, 16); // creates the queue/stream
    const source = await fx.open(name);
    const consumer = new BrokerConsumer(source, () => new Promise((r) => setTimeout(r, 10)), { concurrency: 1 });
    const monitor = new LagMonitor(source, { intervalMs: 100 });
    await monitor.start();
    const throttle = new ProducerThrottle({ read: () => monitor.lag, slowAt: SLOW_AT, rejectAt: REJECT_AT, hysteresis: 20, maxDelayMs: 40, maxWaiting: 100, retryAfterMs: 100 });
    const lags: number[] = [];
    const sampler = setInterval(() => void source.lag().then((l) => lags.push(l), () => undefined), 100);
    const producer = await fx.producer(name, throttled ? throttle : undefined);
    let published = 0;
    let refused = 0;
    let seq = 1;
    const end = Date.now() + seconds * 1000;
    try {
      while (Date.now() < end) {
        const tick = Date.now();
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            const i = seq++;
            while (Date.now() < end) {
              try {
                await producer.send(i); // the throttle is asked inside, before the broker
                published++;
                return;
              } catch (err) {
                if (!(err instanceof RejectedError)) throw err;
                refused++;
                await new Promise((r) => setTimeout(r, err.retryAfterMs));
              }
            }
          }),
        );
        const wait = 50 - (Date.now() - tick);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    } finally {
      clearInterval(sampler);
      monitor.stop();
      await producer.close();
      await consumer.stop();
      await fx.cleanup(name);
    }
    return { published, refused, maxLag: Math.max(...lags), samples: lags.length, delayed: throttle.stats().delayed };
  }

  it.skipIf(!up[broker])('throttle: the consumer at half the producer rate; lag stays under the high watermark (and does not without the throttle)', async () => {
    const control = await scenario(6, false);
    const run = await scenario(8, true);
    // Overshoot allowance: what can pass between two lag reads at the slowest slow pace (1 per
    // 40 ms over a 100 ms read interval, plus the read's latency) and the 10 sends of one tick.
    const bound = REJECT_AT + 15;
    results[`${broker}.throttle`] = { offeredPerSec: 200, consumerMaxPerSec: 100, slowAt: SLOW_AT, highWatermark: REJECT_AT, bound, throttled8s: run, unthrottled6s: control };
    console.log(`[proof] ${broker} throttle: throttled 8 s: published ${run.published} (${run.refused} refusals), max lag ${run.maxLag}; unthrottled 6 s: published ${control.published}, max lag ${control.maxLag} (slow at ${SLOW_AT}, high watermark ${REJECT_AT})`);
    expect(control.maxLag).toBeGreaterThan(REJECT_AT); // the scenario does overload the consumer
    expect(run.samples).toBeGreaterThan(20);
    expect(run.delayed).toBeGreaterThan(0); // the throttle held the producer back
    expect(run.maxLag).toBeLessThanOrEqual(bound);
  });
});
