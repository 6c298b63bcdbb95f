/**
 * TLS and SASL for KafkaSource and KafkaProducer: checked here, before anything connects, and
 * handed to kafkajs as its own `ssl` and `sasl`. A password never appears in an error: only a
 * missing or empty one is reported, by its type.
 */
import type { ConnectionOptions } from 'node:tls';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { InvalidOptionError, optKnownKeys, optOneOf } from '../core/index.js';
import { nonEmpty } from '../brokers/options.js';

export interface KafkaAuthOptions {
  /**
   * TLS to the brokers: `true` (the system's CAs), or node:tls connect options (`ca`, `cert`,
   * `key`, `servername`, `rejectUnauthorized`...). @default false
   */
  readonly ssl?: boolean | ConnectionOptions;
  /**
   * SASL: `{ mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', username, password }`,
   * `{ mechanism: 'oauthbearer', oauthBearerProvider }` or
   * `{ mechanism: 'aws', authorizationIdentity, accessKeyId, secretAccessKey, sessionToken? }`
   * (kafkajs's own). Usually with `ssl`: SASL PLAIN sends the password as it is.
   */
  readonly sasl?: SASLOptions;
}

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer', 'aws'] as const;
const SASL_KEYS: Readonly<Record<(typeof MECHANISMS)[number], readonly string[]>> = {
  plain: ['mechanism', 'username', 'password'],
  'scram-sha-256': ['mechanism', 'username', 'password'],
  'scram-sha-512': ['mechanism', 'username', 'password'],
  oauthbearer: ['mechanism', 'oauthBearerProvider'],
  aws: ['mechanism', 'authorizationIdentity', 'accessKeyId', 'secretAccessKey', 'sessionToken'],
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A secret checked without echoing it: a non-empty string; a number or boolean in its place is named by its type only. */
function secret(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
      const words = `a ${typeof value} (not shown)`;
      throw new InvalidOptionError(name, 'a non-empty string', words, words);
    }
    throw new InvalidOptionError(name, 'a non-empty string', value);
  }
}

/** `ssl` and `sasl` checked, as kafkajs takes them (absent when not given). */
export function kafkaAuth(options: KafkaAuthOptions): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  const { ssl, sasl } = options as { ssl?: unknown; sasl?: unknown };
  if (ssl !== undefined) {
    if (typeof ssl !== 'boolean' && !isRecord(ssl)) throw new InvalidOptionError('ssl', 'true, false or node:tls connect options (an object: ca, cert, key, servername, ...)', ssl);
    out.ssl = ssl as boolean | ConnectionOptions;
  }
  if (sasl !== undefined) {
    if (!isRecord(sasl)) throw new InvalidOptionError('sasl', `an object with a mechanism (${MECHANISMS.join(', ')})`, sasl);
    const given = sasl.mechanism;
    const mechanism = optOneOf('sasl.mechanism', typeof given === 'string' ? given.toLowerCase() : given, MECHANISMS);
    optKnownKeys(`sasl (${mechanism})`, sasl, SASL_KEYS[mechanism], 'sasl.');
    if (mechanism === 'oauthbearer') {
      if (typeof sasl.oauthBearerProvider !== 'function') throw new InvalidOptionError('sasl.oauthBearerProvider', 'a function resolving to { value: token }', sasl.oauthBearerProvider);
    } else if (mechanism === 'aws') {
      nonEmpty('sasl.authorizationIdentity', sasl.authorizationIdentity);
      nonEmpty('sasl.accessKeyId', sasl.accessKeyId);
      secret('sasl.secretAccessKey', sasl.secretAccessKey);
      if (sasl.sessionToken !== undefined) secret('sasl.sessionToken', sasl.sessionToken);
    } else {
      nonEmpty('sasl.username', sasl.username);
      secret('sasl.password', sasl.password);
    }
    out.sasl = { ...sasl, mechanism } as unknown as SASLOptions;
  }
  return out;
}
