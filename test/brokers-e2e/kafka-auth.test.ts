// kafkajs's `ssl` and `sasl` reach it through KafkaSource and KafkaProducer, against the real
// broker of scripts/brokers/kafka.sh: its PLAINTEXT listener (KAFKA_BROKERS) and its SASL PLAIN
// listener (KAFKA_SASL_BROKERS, user sluice / sluice-secret). Before, `ssl` and `sasl` were
// unknown options (InvalidOptionError), and a broker refusing credentials would have been
// "unreachable".
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, BrokerRefusedError, BrokerUnavailableError } from '../../src/brokers/index.js';
import { KafkaProducer, KafkaSource } from '../../src/kafka/index.js';
import { kafka as kafkaService, unique, until } from '../brokers/services.js';

const svc = await kafkaService();
const brokers = svc.url.replace(/^tcp:\/\//, '').split(',');
const saslBrokers = process.env.KAFKA_SASL_BROKERS?.split(',');
const sasl = { mechanism: 'plain', username: 'sluice', password: 'sluice-secret' } as const;

describe.skipIf(!svc.up)('kafka ssl / sasl reach kafkajs', () => {
  it('ssl: true against a plaintext listener: kafkajs speaks TLS to it, and open() fails naming the TLS failure', async () => {
    const err: unknown = await KafkaSource.open({ brokers, topic: unique('ktls'), groupId: 'g', ssl: true }).then(async (s) => s.close(), (e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect((err as Error).message).toMatch(/TLS/);
  });

  describe.skipIf(saslBrokers === undefined)('the SASL PLAIN listener (KAFKA_SASL_BROKERS)', () => {
    it('the right credentials: produced and consumed through it', async () => {
      const topic = unique('ksasl');
      const p = await KafkaProducer.open({ brokers: saslBrokers!, sasl });
      await p.send(topic, 'over sasl');
      await p.close();
      const got: string[] = [];
      const c = new BrokerConsumer(await KafkaSource.open({ brokers: saslBrokers!, topic, groupId: `${topic}-g`, sasl: { ...sasl, mechanism: 'plain' }, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 }), (d) => void got.push(Buffer.from(d.body).toString()));
      try {
        expect(await until(() => got.length === 1, 30_000)).toBe(true);
        expect(got).toEqual(['over sasl']);
      } finally {
        await c.stop();
      }
    });

    it('a wrong password: BrokerRefusedError (credentials) at open(), not "unreachable", and the password nowhere in it', async () => {
      const wrong = { ...sasl, password: 'not-the-secret' };
      for (const open of [() => KafkaSource.open({ brokers: saslBrokers!, topic: unique('ksasl-bad'), groupId: 'g', sasl: wrong }), () => KafkaProducer.open({ brokers: saslBrokers!, sasl: wrong })]) {
        const err: unknown = await open().then(async (s) => s.close(), (e: unknown) => e);
        expect(err).toBeInstanceOf(BrokerRefusedError);
        expect((err as BrokerRefusedError).refusal).toBe('credentials');
        expect((err as Error).message).toMatch(/^kafka at 127\.0\.0\.1:\d+: refused the credentials \(KafkaJSSASLAuthenticationError: SASL PLAIN authentication failed: .*\); not retried/);
        expect((err as Error).message).not.toContain('not-the-secret');
      }
    });
  });
});
