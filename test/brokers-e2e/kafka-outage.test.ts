// A Kafka of the test's own (own-kafka.ts, with the standard authorizer): killed by PID and
// started again on the same ports and data — which the shared broker (KAFKA_BROKERS) is not ours
// to do; then a topic that EXISTS but cannot be used: one the user is refused by an ACL, and one
// whose only replica is on a second broker, killed (no leader). KafkaSource.open() fails fast
// with an error naming the topic and the cause when the answer will not change (an ACL), and
// waits `topicWaitMs` for one that may (no leader), then says why. One Kafka for both (a start
// is tens of seconds); the leaderless topic comes last: kafkajs asks for every topic's metadata
// in places (createTopics, listTopics) and fails on any partition without a leader, so it spoils
// the cluster for what follows. Runs where the shared Kafka runs (the same script starts both).
import type { Admin } from 'kafkajs';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConsumer, BrokerRefusedError, BrokerUnavailableError } from '../../src/brokers/index.js';
import { KafkaProducer, KafkaSource } from '../../src/kafka/index.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { kafka as kafkaService, unique, until } from '../brokers/services.js';
import { OWN_KAFKA_START_MS, OwnKafka } from './own-kafka.js';

const svc = await kafkaService();
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } = kafkajs;

let own: OwnKafka;
let starting: Promise<OwnKafka> | undefined;
beforeAll(async () => {
  if (!svc.up) return;
  starting = OwnKafka.start({ authorizer: true });
  own = await starting;
}, OWN_KAFKA_START_MS + 10_000);
// Disposed even when the start was still under way as beforeAll timed out (before: that Kafka
// came up after the file had ended and was left running).
afterAll(async () => {
  await starting?.then((k) => k.dispose(), () => undefined);
}, OWN_KAFKA_START_MS + 10_000);

/** open()'s rejection and how long it took (or undefined: it opened, and was closed). */
async function openError(o: Parameters<typeof KafkaSource.open>[0]): Promise<{ err: unknown; ms: number }> {
  const t0 = Date.now();
  const err = await KafkaSource.open(o).then(async (s) => { await s.close(); return undefined; }, (e: unknown) => e);
  return { err, ms: Date.now() - t0 };
}

describe.skipIf(!svc.up)('kafka: its broker restarted', () => {
  async function produce(topic: string, body: string): Promise<void> {
    const p = await KafkaProducer.open({ brokers: own.brokers });
    await p.send(topic, body);
    await p.close();
  }

  it('stats say reconnecting while the broker is down and up again (a reconnect more) once kafkajs rejoined — before: unknown throughout; messages flow after', async () => {
    const topic = unique('outage');
    await produce(topic, 'before');
    const got: string[] = [];
    const source = await KafkaSource.open({ brokers: own.brokers, topic, groupId: `${topic}-g`, commitIntervalMs: 200, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 });
    const c = new BrokerConsumer(source, (d) => void got.push(Buffer.from(d.body).toString()));
    try {
      expect(await until(() => got.includes('before'), 60_000)).toBe(true);
      expect(c.stats().connection).toBe('up');
      // kafkajs may already have restarted once on a busy host (a crash it retries from while
      // joining): counted, as it should be. The outage adds to it.
      const before = c.stats().reconnects;
      await own.kill();
      expect(await until(() => c.stats().connection === 'reconnecting', 60_000)).toBe(true);
      expect(c.stats().state).toBe('running');
      await own.restart();
      expect(await until(() => c.stats().connection === 'up', 120_000)).toBe(true);
      expect(c.stats().reconnects).toBeGreaterThan(before);
      await produce(topic, 'after');
      expect(await until(() => got.includes('after'), 60_000)).toBe(true);
    } finally {
      await c.stop({ graceMs: 5000 });
    }
    expect(c.stats()).toMatchObject({ state: 'stopped', connection: 'down' });
  });
});

describe.skipIf(!svc.up)('kafka: a topic that exists but cannot be used', () => {
  const sasl = { mechanism: 'plain' as const, username: 'sluice', password: 'sluice-secret' };
  /** A kafkajs admin of its own (one that has looked at a leaderless topic keeps failing). */
  async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = new Kafka({ clientId: 'unusable', brokers: own.brokers, logLevel: logLevel.NOTHING, retry: { retries: 1 } }).admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  /** The topic and its dead-letter topic, served, with `operation` on the topic denied to User:sluice. */
  async function denied(topic: string, operation: number): Promise<void> {
    await withAdmin(async (admin) => {
      expect(await ensureTopics(admin, [{ topic }, { topic: `${topic}.dead` }], 60_000)).toBe(true);
      await admin.createAcls({ acl: [{ resourceType: AclResourceTypes.TOPIC, resourceName: topic, resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:sluice', host: '*', operation, permissionType: AclPermissionTypes.DENY }] });
    });
  }

  it('an ACL refuses the topic to the user: open() rejects at once with BrokerRefusedError naming the topic — before: "does not exist and could not be created"', async () => {
    const topic = unique('denied');
    await denied(topic, AclOperationTypes.ALL);
    // A topic wait far longer than any host's delay: a refusal that waited it out is told from one at once.
    const { err, ms } = await openError({ brokers: own.saslBrokers, sasl, topic, groupId: `${topic}-g`, topicWaitMs: 120_000 });
    expect(err).toBeInstanceOf(BrokerRefusedError);
    expect((err as BrokerRefusedError).refusal).toBe('permission');
    expect((err as Error).message).toMatch(new RegExp(`topic "${topic}" .*TOPIC_AUTHORIZATION_FAILED`));
    expect((err as Error).message).not.toMatch(/does not exist/);
    expect(ms).toBeLessThan(120_000);
  });

  it('an ACL refuses only reading it: the consumer fails with BrokerRefusedError naming the topic, not "unreachable"', async () => {
    const topic = unique('noread');
    await denied(topic, AclOperationTypes.READ);
    const opened: unknown = await KafkaSource.open({ brokers: own.saslBrokers, sasl, topic, groupId: `${topic}-g`, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 }).then(
      (s) => s,
      (e: unknown) => e,
    );
    let err = opened;
    if (opened instanceof KafkaSource) {
      const c = new BrokerConsumer(opened, () => undefined);
      err = await c.done.then(() => undefined, (e: unknown) => e);
      expect(c.stats().state).toBe('failed');
    }
    expect(err).toBeInstanceOf(BrokerRefusedError);
    expect((err as Error).message).toMatch(new RegExp(`topic "${topic}".*TOPIC_AUTHORIZATION_FAILED`));
  });

  it('its only replica down (no leader): open() waits topicWaitMs, then rejects naming the topic and the cause — before: ~10 s, then a bare error', async () => {
    const topic = unique('noleader');
    const second = await own.addBroker();
    await withAdmin(async (admin) => {
      await admin.createTopics({ topics: [{ topic, replicaAssignment: [{ partition: 0, replicas: [second.nodeId] }] }] });
      expect(await ensureTopics(admin, [{ topic }], 60_000)).toBe(true);
    });
    await second.kill();
    // The controller fences the dead broker (broker.session.timeout.ms, 9 s): then no leader.
    const leaderless = (): Promise<boolean> => withAdmin((a) => a.fetchTopicMetadata({ topics: [topic] }).then(() => false, (e: unknown) => /no leader/.test(String((e as Error).cause ?? e))));
    expect(await until(leaderless, 60_000)).toBe(true);
    const { err, ms } = await openError({ brokers: own.brokers, topic, groupId: `${topic}-g`, topicWaitMs: 1500 });
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect((err as Error).message).toMatch(new RegExp(`topic "${topic}" is not served after 1500 ms \\(topicWaitMs\\): LEADER_NOT_AVAILABLE`));
    expect(ms).toBeGreaterThan(1000); // it waited (topicWaitMs, the message says); no upper bound a busy host could overrun
  });
});
