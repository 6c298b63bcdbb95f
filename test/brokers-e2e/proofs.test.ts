// The proofs of issue 13, against the real brokers: no loss across a SIGKILL, memory bounded
// by demand rather than backlog, and a lag-driven producer throttle holding lag under its high
// watermark. Slow (tens of seconds per broker): run by `npm run test:brokers`, not `npm test`.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerConsumer, LagMonitor, PREFETCH_DEFAULTS, ProducerThrottle } from '../../src/brokers/index.js';
import { KAFKA_SOURCE_DEFAULTS } from '../../src/kafka/index.js';
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
  if (Object.keys(results).length === 0) return;
  // Merged into the saved file: a run of one proof (-t) updates its own entries only.
  const outDir = new URL('../../bench/results/', import.meta.url);
  const file = new URL('brokers-proofs-latest.json', outDir);
  mkdirSync(outDir, { recursive: true });
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { results?: Record<string, unknown> }).results ?? {} : {};
  const stamped = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { at: new Date().toISOString(), ...(v as object) }]));
  writeFileSync(file, JSON.stringify({ node: process.version, results: { ...saved, ...stamped } }, null, 2) + '\n');
});

/**
 * The bounded-memory proof's plan per broker. `heldBound` is what demand and the broker's own
 * flow control let the consumer hold (taken from the broker and unsettled), with 8 handlers
 * (`MEMORY_CONCURRENCY`) asking one message per message finished. `control` is a backlog
 * larger than the most the consumer can get through in the run (8 handlers × 20 ms: 400/s, so 500
 * + 10 s × 400 = 4,500), so that the control works as long whatever the broker's speed.
 */
interface MemoryPlan {
  readonly backlog: number;
  readonly control: number;
  readonly bodyBytes: number;
  readonly heldBound: number;
  readonly why: string;
  /** Memory the broker's protocol needs beyond the held messages, MiB, and why. */
  readonly extra?: { readonly mb: number; readonly why: string };
}
const MEMORY_CONCURRENCY = 8;
const MEMORY: Record<BrokerName, MemoryPlan> = {
  rabbitmq: { backlog: 100_000, control: 8_000, bodyBytes: 1024, heldBound: PREFETCH_DEFAULTS.max, why: 'unacknowledged ≤ the adaptive basic.qos prefetch, at most its max (1000)' },
  kafka: {
    backlog: 100_000,
    control: 8_000,
    bodyBytes: 1024,
    heldBound: KAFKA_SOURCE_DEFAULTS.partitionBuffer * 3 + MEMORY_CONCURRENCY,
    why: 'partitionBuffer (64) × 3 partitions + 8 in the handlers',
    // KIP-74: a fetch returns at least one whole record batch per partition, whatever its budget.
    extra: { mb: 4.4, why: 'a fetch carries one whole producer batch per partition (KIP-74): 3 × ~333 records × ~1.1 KB ≈ 1.1 MB, at 4× (the response, its decoded records, the next one)' },
  },
  jetstream: { backlog: 100_000, control: 8_000, bodyBytes: 1024, heldBound: MEMORY_CONCURRENCY, why: 'each fetch asks for the demand: at most the 8 handlers' },
  'redis-streams': { backlog: 100_000, control: 8_000, bodyBytes: 1024, heldBound: MEMORY_CONCURRENCY, why: 'XREADGROUP COUNT is the demand: at most the 8 handlers' },
  // ElasticMQ takes ~260 messages/s from one client on this machine (100,000 would take ~6.5 min to
  // load) and keeps bodies in its 256 MiB heap as UTF-16 strings: 20,000 of 2 KiB (40 MB) instead.
  // The control must outlast the run whatever ElasticMQ's speed: 8 handlers × 20 ms take at most
  // 400/s, so 500 + 10 s × 400 = 4,500 at the most (3,000 ran dry once, on a fast ElasticMQ).
  sqs: { backlog: 20_000, control: 6_000, bodyBytes: 2048, heldBound: MEMORY_CONCURRENCY, why: 'ReceiveMessage asks for min(demand, 10): at most the 8 handlers' },
};
/**
 * RSS is sampled once a second right after a full collection (the child runs with
 * --expose-gc), so it is what the consumer retains: between collections V8 lets garbage pile
 * up to a size set by the allocation rate (with the AWS SDK, +45 MiB in 12 s and still rising,
 * while the heap after a full collection stays at ~17 MiB); that peak is reported, not bounded.
 * The bound: the growth of the same consumer over the same time against the small control
 * backlog — what the runtime and the client grow by on their own, whatever the backlog (JIT
 * code, heap pages V8 keeps, socket buffers) — plus what the held messages can cost, each at
 * 16× its body (the Buffer, the client's message and delivery objects, the frame it came in),
 * the protocol's `extra`, and 8 MiB for the difference between two runs.
 */
const RUN_TO_RUN_MB = 8;
const rssAllowanceMB = (p: MemoryPlan): number => (p.heldBound * p.bodyBytes * 16) / 2 ** 20 + (p.extra?.mb ?? 0) + RUN_TO_RUN_MB;

/**
 * The throttle scenario per broker: the seeds' 10k/s → 5k/s, scaled to this machine. ElasticMQ
 * here takes ~110 single SendMessage calls/s while it also serves the consumer (offered 200/s,
 * the unthrottled consumer got 1 message/s through), so SQS is offered 100/s against a 20 ms
 * handler.
 */
const THROTTLE: Record<BrokerName, { readonly offerPerSec: number; readonly handlerMs: number }> = {
  rabbitmq: { offerPerSec: 200, handlerMs: 10 },
  jetstream: { offerPerSec: 200, handlerMs: 10 },
  'redis-streams': { offerPerSec: 200, handlerMs: 10 },
  kafka: { offerPerSec: 200, handlerMs: 10 },
  sqs: { offerPerSec: 100, handlerMs: 20 },
};
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

  /** Fill `backlog` messages, run the child consumer until 500 are processed and 10 s more; its stats lines. */
  async function memoryRun(plan: MemoryPlan, backlog: number): Promise<{ base: number; maxRss: number; peakRss: number; maxHeld: number; processed: number; rssEverySecondMB: number[] }> {
    const name = unique(`rss-${broker}`);
    const out = join(dir, `${name}.ids`);
    await fx.fill(name, backlog, plan.bodyBytes);
    const child = startChild({ broker, name, out, concurrency: MEMORY_CONCURRENCY, handlerMs: 20 });
    try {
      await waitFor('first stats line', () => stats(out).length > 0, 30_000, child);
      await waitFor('500 processed', () => processedIds(out).length >= 500, 90_000, child);
      await new Promise((r) => setTimeout(r, 10_000)); // the consumer in its steady state: RSS rises for ~8 s, then holds
      child.proc.kill('SIGTERM');
      await child.exited;
      const s = stats(out);
      // RSS right after a full collection (once a second): what the consumer retains.
      const collected = s.filter((x) => x.gc);
      return {
        base: collected[0]!.rss,
        maxRss: Math.max(...collected.map((x) => x.rss)),
        peakRss: Math.max(...s.map((x) => x.rss)),
        maxHeld: Math.max(...s.map((x) => x.peakHeld)),
        processed: processedIds(out).length,
        rssEverySecondMB: collected.map((x) => Math.round(x.rss / 2 ** 20)),
      };
    } finally {
      if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
      await fx.cleanup(name);
    }
  }

  it.skipIf(!up[broker])(`bounded memory: a ${MEMORY[broker].backlog.toLocaleString('en-US')}-message backlog and a slow handler; what the consumer holds, and its RSS, bounded by demand/prefetch, not by the backlog`, async () => {
    const plan = MEMORY[broker];
    const mb = (bytes: number): number => +(bytes / 2 ** 20).toFixed(1);
    const control = await memoryRun(plan, plan.control);
    const run = await memoryRun(plan, plan.backlog);
    const backlogMB = (plan.backlog * plan.bodyBytes) / 2 ** 20;
    const controlGrowthMB = (control.maxRss - control.base) / 2 ** 20;
    const growthMB = (run.maxRss - run.base) / 2 ** 20;
    const boundMB = controlGrowthMB + rssAllowanceMB(plan);
    results[`${broker}.rss`] = {
      backlog: plan.backlog,
      bodyBytes: plan.bodyBytes,
      backlogMB: +backlogMB.toFixed(1),
      concurrency: MEMORY_CONCURRENCY,
      handlerMs: 20,
      processed: run.processed,
      rssFirstMB: mb(run.base),
      rssMaxMB: mb(run.maxRss),
      growthMB: +growthMB.toFixed(1),
      rssPeakBetweenCollectionsMB: mb(run.peakRss),
      rssEverySecondMB: run.rssEverySecondMB,
      maxHeld: run.maxHeld,
      boundHeld: plan.heldBound,
      heldBecause: plan.why,
      control: { backlog: plan.control, processed: control.processed, growthMB: +controlGrowthMB.toFixed(1), rssPeakBetweenCollectionsMB: mb(control.peakRss), maxHeld: control.maxHeld, rssEverySecondMB: control.rssEverySecondMB },
      ...(plan.extra !== undefined ? { extraMB: plan.extra.mb, extraBecause: plan.extra.why } : {}),
      boundGrowthMB: +boundMB.toFixed(1),
    };
    console.log(`[proof] ${broker} bounded memory: backlog ${plan.backlog} × ${plan.bodyBytes} B (${backlogMB.toFixed(0)} MB): RSS +${growthMB.toFixed(1)} MB, held ≤ ${run.maxHeld}; control backlog ${plan.control}: RSS +${controlGrowthMB.toFixed(1)} MB, held ≤ ${control.maxHeld}; bound +${boundMB.toFixed(1)} MB, held ≤ ${plan.heldBound} (${plan.why})`);
    expect(control.processed).toBeLessThan(plan.control); // the control never ran dry: both runs worked all the time
    expect(run.maxHeld).toBeGreaterThan(0);
    expect(run.maxHeld).toBeLessThanOrEqual(plan.heldBound);
    expect(growthMB).toBeLessThanOrEqual(boundMB);
    expect(boundMB).toBeLessThan(backlogMB); // a consumer that took the backlog in could not pass
  });

  /**
   * Offer `offerPerSec` for `seconds` — a twentieth of it every 50 ms, open loop: a tick never
   * waits for the last one's sends, so a slow broker or the throttle cannot slow the offer
   * itself, only what gets published — to a consumer of one handler of `handlerMs` (at most
   * half the offer, less where the broker's round trips add to it). A refused send is offered
   * again after its retryAfterMs. The lag is sampled from the broker every 100 ms.
   */
  async function scenario(seconds: number, throttled: boolean): Promise<{ publishedPerSec: number; consumedPerSec: number; published: number; refused: number; maxLag: number; samples: number; delayed: number }> {
    const name = unique(`throttle-${broker}`);
    await fx.fill(name, 1, 16); // creates the queue/stream
    const source = await fx.open(name);
    const { offerPerSec, handlerMs } = THROTTLE[broker];
    const consumer = new BrokerConsumer(source, () => new Promise((r) => setTimeout(r, handlerMs)), { concurrency: 1 });
    const monitor = new LagMonitor(source, { intervalMs: 100 });
    await monitor.start();
    const throttle = new ProducerThrottle({ read: () => monitor.lag, slowAt: SLOW_AT, rejectAt: REJECT_AT, hysteresis: 20, maxDelayMs: 40, maxWaiting: 100, retryAfterMs: 100 });
    const lags: number[] = [];
    const sampler = setInterval(() => void source.lag().then((l) => lags.push(l), () => undefined), 100);
    const producer = await fx.producer(name, throttled ? throttle : undefined);
    let published = 0;
    let refused = 0;
    let seq = 1;
    const sends: Promise<void>[] = [];
    const started = Date.now();
    const end = started + seconds * 1000;
    const offer = async (i: number): Promise<void> => {
      while (Date.now() < end) {
        try {
          await producer.send(i); // the throttle is asked inside, before the broker
          if (Date.now() <= end) published++;
          return;
        } catch (err) {
          if (!(err instanceof RejectedError)) throw err;
          refused++;
          await new Promise((r) => setTimeout(r, Math.max(50, err.retryAfterMs ?? 0)));
        }
      }
    };
    let consumed = 0;
    try {
      for (let tick = 1; Date.now() < end; tick++) {
        for (let k = 0; k < offerPerSec / 20; k++) sends.push(offer(seq++));
        const wait = started + tick * 50 - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      consumed = consumer.stats().acked;
      await Promise.all(sends);
    } finally {
      clearInterval(sampler);
      monitor.stop();
      await producer.close();
      await consumer.stop();
      await fx.cleanup(name);
    }
    return { publishedPerSec: Math.round(published / seconds), consumedPerSec: Math.round(consumed / seconds), published, refused, maxLag: Math.max(...lags), samples: lags.length, delayed: throttle.stats().delayed };
  }

  it.skipIf(!up[broker])('throttle: the consumer at half the producer rate; lag stays under the high watermark (and does not without the throttle)', async () => {
    const control = await scenario(6, false);
    const run = await scenario(8, true);
    // Overshoot allowance: what can pass between two lag reads at the slowest slow pace (1 per
    // 40 ms over a 100 ms read interval, plus the read's latency) and the sends already admitted.
    const bound = REJECT_AT + 15;
    results[`${broker}.throttle`] = { offeredPerSec: THROTTLE[broker].offerPerSec, consumerMaxPerSec: 1000 / THROTTLE[broker].handlerMs, slowAt: SLOW_AT, highWatermark: REJECT_AT, bound, throttled8s: run, unthrottled6s: control };
    console.log(`[proof] ${broker} throttle: unthrottled 6 s: published ${control.publishedPerSec}/s, consumed ${control.consumedPerSec}/s, max lag ${control.maxLag}; throttled 8 s: published ${run.publishedPerSec}/s (${run.refused} refusals, ${run.delayed} delayed), consumed ${run.consumedPerSec}/s, max lag ${run.maxLag} (slow at ${SLOW_AT}, high watermark ${REJECT_AT}, bound ${bound})`);
    // The scenario: without the throttle the producer does publish at twice (or more) the consumer's rate, and the lag passes the watermark.
    expect(control.consumedPerSec * 1.8).toBeLessThanOrEqual(control.publishedPerSec);
    expect(control.maxLag).toBeGreaterThan(REJECT_AT);
    expect(run.samples).toBeGreaterThan(20);
    expect(run.delayed).toBeGreaterThan(0); // the throttle held the producer back
    expect(run.maxLag).toBeLessThanOrEqual(bound);
  });
});
