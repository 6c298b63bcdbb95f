// Kafka against a real single-node KRaft broker (scripts/brokers/kafka.sh; KAFKA_BROKERS).
// The JVM broker is not on every machine, so this runs in `npm run test:brokers`.
import { describe, expect, it } from 'vitest';
import { BrokerConsumer } from '../../src/brokers/index.js';
import { KafkaProducer, KafkaSource, OffsetTracker } from '../../src/kafka/index.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { stopMidBurst } from './stop-burst.js';
import { brokerContract } from '../brokers/contract.js';
import type { DeadLetter } from '../brokers/contract.js';
import { unique, until } from '../brokers/services.js';
import { admin, brokers, kafka, readAll, svc } from './kafka-admin.js';

describe('OffsetTracker', () => {
  it('commits the lowest unfinished offset, never past a pending one', () => {
    const t = new OffsetTracker();
    for (const o of [5n, 6n, 7n, 8n]) t.track(o);
    expect(t.committable()).toBe(5n);
    t.done(6n);
    t.done(8n);
    expect(t.committable()).toBe(5n);
    t.done(5n);
    expect(t.committable()).toBe(7n);
    t.committed(7n);
    expect(t.committable()).toBeUndefined();
    t.done(7n);
    expect(t.committable()).toBe(9n);
  });
});

describe.skipIf(!svc.up)('kafka', () => {
  brokerContract('kafka', {
    open: (topic) => KafkaSource.open({ brokers, topic, groupId: `${topic}-g`, commitIntervalMs: 200, partitionBuffer: 16, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 }),
    async publish(topic, bodies) {
      expect(await ensureTopics(admin, [{ topic }])).toBe(true);
      const p = await KafkaProducer.open({ brokers });
      for (const b of bodies) await p.send(topic, b);
      await p.close();
    },
    async deadLetters(topic): Promise<DeadLetter[]> {
      return (await readAll(`${topic}.dead`)).map((m) => ({ body: String(m.value), reason: m.headers['sluice-error'] ?? '', attempts: Number(m.headers['sluice-attempts']) }));
    },
    openUnreachable: () => KafkaSource.open({ brokers: ['127.0.0.1:1'], topic: 't', groupId: 'g' }),
    lagCountsHeld: true,
    async cleanup(topic) {
      await admin.deleteTopics({ topics: [topic, `${topic}.dead`] }).catch(() => undefined);
    },
  });

  it('a topic ensureTopics created is served at once: 20 in a row, each partition written by a producer with no retries (createTopics waitForLeaders threw "This server does not host this topic-partition", or a produce right after "not the leader", about 1 in 10)', async () => {
    const p = kafka.producer({ retry: { retries: 0 } });
    await p.connect();
    const topics: string[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const topic = unique('kfresh');
        topics.push(topic);
        expect(await ensureTopics(admin, [{ topic, numPartitions: 3 }])).toBe(true);
        await p.send({ topic, acks: -1, messages: [0, 1, 2].map((partition) => ({ value: String(partition), partition })) });
      }
    } finally {
      await p.disconnect();
      await admin.deleteTopics({ topics }).catch(() => undefined);
    }
  }, 120_000);

  it('stop() mid-burst: what was taken and never handled is left uncommitted, and the group reads exactly the rest again; nothing lost', async () => {
    const topic = unique('kburst');
    expect(await ensureTopics(admin, [{ topic }])).toBe(true);
    const p = await KafkaProducer.open({ brokers });
    for (let i = 0; i < 30; i++) await p.send(topic, String(i));
    await p.close();
    const options = { brokers, topic, groupId: `${topic}-g`, commitIntervalMs: 200, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 };
    const s = await stopMidBurst(await KafkaSource.open(options));
    const rest: number[] = [];
    const c = new BrokerConsumer(await KafkaSource.open(options), (d) => void rest.push(Number(Buffer.from(d.body).toString())), { concurrency: 8 });
    try {
      expect(await until(() => rest.length >= 30 - s.acked, 30_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 500)); // nothing more arrives: the acked ones were committed
      expect([...rest].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 - s.acked }, (_, i) => i + s.acked));
    } finally {
      await c.stop();
      await admin.deleteTopics({ topics: [topic, `${topic}.dead`] }).catch(() => undefined);
    }
  }, 90_000);

  it('pauses a partition whose buffer is full and resumes it when demand drains it; a slow handler never costs a rebalance', async () => {
    const topic = unique('kpause');
    expect(await ensureTopics(admin, [{ topic }])).toBe(true);
    const p = await KafkaProducer.open({ brokers });
    for (let i = 0; i < 100; i++) await p.send(topic, String(i));
    await p.close();
    const source = await KafkaSource.open({ brokers, topic, groupId: `${topic}-g`, partitionBuffer: 10, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, commitIntervalMs: 200 });
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const c = new BrokerConsumer(source, () => stuck, { concurrency: 1 });
    try {
      expect(await until(() => source.pausedPartitions.length === 1, 10_000)).toBe(true);
      expect(source.buffered).toBeLessThanOrEqual(10);
      // Held well past the session timeout: heartbeats keep the member in the group.
      await new Promise((r) => setTimeout(r, 8000));
      expect(c.stats().received).toBe(1);
      expect(source.stats().joins).toBe(1); // never expelled, so never rejoined
      release();
      expect(await until(() => c.stats().acked === 100, 30_000)).toBe(true);
      expect(c.stats().received).toBe(100); // no rebalance re-delivered anything
      expect(await until(async () => (await source.lag()) === 0, 10_000)).toBe(true);
    } finally {
      release();
      await c.stop();
      await admin.deleteTopics({ topics: [topic, `${topic}.dead`] }).catch(() => undefined);
    }
  });

  it('stop() while a retry waits out a ten-minute delay: stop() settles at once, the message stays uncommitted and the group reads it again', async () => {
    const topic = unique('kstopretry');
    expect(await ensureTopics(admin, [{ topic }])).toBe(true);
    const p = await KafkaProducer.open({ brokers });
    await p.send(topic, 'flaky');
    await p.close();
    const options = { brokers, topic, groupId: `${topic}-g`, commitIntervalMs: 200, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 };
    const source = await KafkaSource.open(options);
    const c = new BrokerConsumer(source, () => {
      throw new Error('boom');
    }, { onFailure: { maxAttempts: 3, baseDelayMs: 600_000, maxDelayMs: 600_000 } });
    let next: BrokerConsumer | undefined;
    let stopped = 'not stopped';
    try {
      expect(await until(() => c.stats().failed === 1)).toBe(true);
      stopped = await Promise.race([c.stop().then(() => 'settled'), new Promise((r) => setTimeout(r, 20_000)).then(() => 'still waiting')]);
      expect(stopped).toBe('settled');
      expect(c.stats()).toMatchObject({ received: 1, failed: 1, retried: 1, acked: 0, settleErrors: 0, held: 0 });
      const seen: string[] = [];
      next = new BrokerConsumer(await KafkaSource.open(options), (d) => void seen.push(Buffer.from(d.body).toString()));
      expect(await until(() => next!.stats().acked === 1, 30_000)).toBe(true);
      expect(seen).toEqual(['flaky']);
    } finally {
      if (stopped === 'not stopped') await c.stop(); // one still waiting out the delay is left behind
      await next?.stop();
      await admin.deleteTopics({ topics: [topic, `${topic}.dead`] }).catch(() => undefined);
    }
  }, 90_000);

  /** 3,000 records of 1 KiB on 3 partitions, written 10 to a send (so a record batch is ~10 records). */
  async function backlog(topic: string): Promise<void> {
    expect(await ensureTopics(admin, [{ topic, numPartitions: 3 }])).toBe(true);
    const p = kafka.producer();
    await p.connect();
    for (let i = 0; i < 3000; i += 10) await p.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ value: Buffer.alloc(1024, String((i + j) % 10)) })) });
    await p.disconnect();
  }

  /** Consume with a slow handler (8 at once, 5 ms each) for 300 messages; sample what the source buffers. */
  async function drain(topic: string, groupId: string, fetchSizing: 'demand' | 'fixed'): Promise<{ maxBuffered: number; largestFetchBytes: number; fetches: number; budget: number }> {
    const source = await KafkaSource.open({ brokers, topic, groupId, fetchSizing, partitionBuffer: 8, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, commitIntervalMs: 200 });
    const c = new BrokerConsumer(source, () => new Promise((r) => setTimeout(r, 5)), { concurrency: 8 });
    let maxBuffered = 0;
    const t = setInterval(() => (maxBuffered = Math.max(maxBuffered, source.buffered)), 10);
    try {
      expect(await until(() => c.stats().acked >= 300, 60_000)).toBe(true);
      const s = source.stats();
      return { maxBuffered, largestFetchBytes: s.largestFetchBytes, fetches: s.fetches, budget: s.budget };
    } finally {
      clearInterval(t);
      await c.stop();
    }
  }

  it('sizes each fetch from the room demand left in the buffers: kilobytes per fetch where a fixed fetch takes megabytes; at most partitionBuffer held per partition', async () => {
    const topic = unique('kfetch');
    await backlog(topic);
    try {
      const demand = await drain(topic, `${topic}-demand`, 'demand');
      const fixed = await drain(topic, `${topic}-fixed`, 'fixed');
      console.log(`[kafka] fetch sizing, 300 of 3,000 × 1 KiB consumed 8 at a time: demand-sized largest fetch ${demand.largestFetchBytes} B over ${demand.fetches} fetches (budget now ${demand.budget} B), fixed largest ${fixed.largestFetchBytes} B over ${fixed.fetches}; held ≤ ${demand.maxBuffered} / ${fixed.maxBuffered}`);
      // Both hold at most partitionBuffer (8) per partition: pause/resume.
      expect(demand.maxBuffered).toBeLessThanOrEqual(8 * 3);
      expect(fixed.maxBuffered).toBeLessThanOrEqual(8 * 3);
      // The bound: 3 partitions × (8 records of budget + one ~10-record batch Kafka returns whole) × ~1.1 KB, and the response framing.
      const bound = 3 * (8 + 10) * 1100 + 4096;
      expect(demand.largestFetchBytes).toBeLessThanOrEqual(bound);
      // The control asks for the ceilings (1 MiB a partition) and gets them: the backlog is there.
      expect(fixed.largestFetchBytes).toBeGreaterThan(1024 * 1024);
    } finally {
      await admin.deleteTopics({ topics: [topic, `${topic}.dead`] }).catch(() => undefined);
    }
  });

  it('rejoins a rebalance within the rebalance timeout while its handler is stuck (the max poll interval): the new member gets its share and no message is lost', async () => {
    const topic = unique('krebal');
    expect(await ensureTopics(admin, [{ topic, numPartitions: 2 }])).toBe(true);
    const p = kafka.producer();
    await p.connect();
    await p.send({ topic, acks: -1, messages: Array.from({ length: 40 }, (_, i) => ({ value: String(i), partition: i % 2 })) });
    await p.disconnect();
    const groupId = `${topic}-g`;
    const options = { brokers, topic, groupId, partitionBuffer: 4, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, commitIntervalMs: 200 };
    const seen: number[] = [];
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const a = await KafkaSource.open(options);
    const ca = new BrokerConsumer(a, async (d) => {
      await stuck; // every handler of A waits, far past the session timeout
      seen.push(Number(Buffer.from(d.body).toString()));
    }, { concurrency: 1 });
    let b: KafkaSource | undefined;
    let cb: BrokerConsumer | undefined;
    try {
      expect(await until(() => ca.stats().received === 1 && a.stats().assignedPartitions.length === 2, 15_000)).toBe(true);
      const joinedAt = Date.now();
      b = await KafkaSource.open(options);
      cb = new BrokerConsumer(b, (d) => void seen.push(Number(Buffer.from(d.body).toString())), { concurrency: 4 });
      // A's fetch loop never waits for its handler, so it rejoins at once: both members hold one partition,
      // well within the rebalance timeout (12 s here), while A's handler is still stuck.
      expect(await until(() => a.stats().joins === 2 && a.stats().assignedPartitions.length === 1 && b!.stats().assignedPartitions.length === 1, 12_000)).toBe(true);
      const rebalanceMs = Date.now() - joinedAt;
      expect(ca.stats().acked).toBe(0);
      expect(await until(() => cb!.stats().acked >= 20, 15_000)).toBe(true); // B works its partition meanwhile
      release();
      expect(await until(() => new Set(seen).size === 40, 30_000)).toBe(true);
      console.log(`[kafka] rebalance with a stuck handler: rejoined in ${rebalanceMs} ms (rebalance timeout 12,000); ${seen.length} processed, ${seen.length - new Set(seen).size} duplicates, 0 lost`);
      expect(a.stats().joins).toBe(2); // A was never expelled
    } finally {
      release();
      await cb?.stop();
      await ca.stop();
      await admin.deleteTopics({ topics: [topic, `${topic}.dead`] }).catch(() => undefined);
    }
  });
});
