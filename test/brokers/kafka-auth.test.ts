// KafkaSource and KafkaProducer take kafkajs's `ssl` and `sasl`, checked before anything
// connects (before: both were refused as unknown options, so a TLS or SASL cluster could not be
// used at all). The options reaching kafkajs, and a broker refusing the credentials, are
// proved against the real broker in test/brokers-e2e/kafka-auth.test.ts.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/core/index.js';
import { KafkaProducer, KafkaSource } from '../../src/kafka/index.js';

const base = { brokers: ['127.0.0.1:1'], topic: 't', groupId: 'g' };
const loose = (o: Record<string, unknown>): never => o as never;

describe('kafka ssl / sasl options', () => {
  it.each([
    [{ ssl: 'yes' }, /^ssl: expected true, false or node:tls connect options \(an object: ca, cert, key, servername, \.\.\.\), received "yes"$/],
    [{ sasl: 'plain' }, /^sasl: expected an object with a mechanism \(plain, scram-sha-256, scram-sha-512, oauthbearer, aws\), received "plain"$/],
    [{ sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } }, /^sasl\.mechanism: expected one of "plain", "scram-sha-256", "scram-sha-512", "oauthbearer", "aws", received "gssapi"$/],
    [{ sasl: { mechanism: 'plain', username: '', password: 'p' } }, /^sasl\.username: expected a non-empty string, received ""$/],
    [{ sasl: { mechanism: 'scram-sha-256', username: 'u' } }, /^sasl\.password: expected a non-empty string, received undefined$/],
    [{ sasl: { mechanism: 'plain', username: 'u', password: 12345 } }, /^sasl\.password: expected a non-empty string, received a number \(not shown\)$/],
    [{ sasl: { mechanism: 'aws', authorizationIdentity: 'a', accessKeyId: 'k', secretAccessKey: true } }, /^sasl\.secretAccessKey: expected a non-empty string, received a boolean \(not shown\)$/],
    [{ sasl: { mechanism: 'plain', user: 'u', password: 'p' } }, /^sasl\.user: expected one of the sasl \(plain\) options \(did you mean "username"\?\)/],
    [{ sasl: { mechanism: 'oauthbearer', oauthBearerProvider: 'token' } }, /^sasl\.oauthBearerProvider: expected a function resolving to \{ value: token \}, received "token"$/],
    [{ sasl: { mechanism: 'aws', authorizationIdentity: 'a', accessKeyId: 'k', secretAccessKey: '' } }, /^sasl\.secretAccessKey: expected a non-empty string, received ""$/],
  ])('KafkaSource %j: InvalidOptionError naming the option, before connecting', async (extra, message) => {
    const err: unknown = await KafkaSource.open(loose({ ...base, ...extra })).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toMatch(message);
  });

  it('KafkaProducer checks them the same way', async () => {
    const err: unknown = await KafkaProducer.open(loose({ brokers: ['127.0.0.1:1'], sasl: { mechanism: 'plain', username: 'u', password: '' } })).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toBe('sasl.password: expected a non-empty string, received ""');
  });

  it('a password never appears in an error: a wrong mechanism with a password given', async () => {
    const err: unknown = await KafkaSource.open(loose({ ...base, sasl: { mechanism: 'kerberos', username: 'u', password: 'hunter2-secret' } })).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).not.toContain('hunter2-secret');
  });
});
