/**
 * A Kafka dead letter that fits the dead-letter topic's `max.message.bytes`. The copy is the
 * message plus sluice-error, sluice-attempts and sluice-source, so one near the limit (or a dead
 * topic with a smaller limit than its source's) is refused, MESSAGE_TOO_LARGE; left unsettled,
 * its offset would hold the partition's commits for ever, read again after every restart to be
 * refused again. Once refused: the error text is cut to fit (`cutToFit`); a copy that fits not even
 * then goes as a stub — no key, value or headers of its own, its sluice-source naming where the
 * message still is (its topic, partition and offset, until the topic's retention) — and the
 * dead letter settles with a DeadLetterTooLargeError naming the sizes (docs/brokers.md).
 */
import type { Admin, ConfigResourceTypes, IHeaders, KafkaMessage, Message } from 'kafkajs';
import { cutToFit, DeadLetterTooLargeError } from '../brokers/dead-letter-fit.js';
import { kafkaReason } from './topics.js';

/** Kafka's default `max.message.bytes` (message.max.bytes): what a topic whose config cannot be read is taken to allow. */
export const KAFKA_MAX_MESSAGE_BYTES = 1_048_588;

/** The refusals of a record too large for the topic (or the broker's request limit). */
export function tooLarge(err: unknown): boolean {
  const type = kafkaReason(err).type;
  return type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE';
}

/** `topic`'s max.message.bytes (DescribeConfigs); KAFKA_MAX_MESSAGE_BYTES where it cannot be read. */
export async function maxMessageBytes(admin: Admin, topic: string): Promise<number> {
  // TOPIC (2): kafkajs is CommonJS, and Node's ESM import finds no named ConfigResourceTypes in it at run time.
  const r = await admin.describeConfigs({ resources: [{ type: 2 as ConfigResourceTypes, name: topic, configNames: ['max.message.bytes'] }], includeSynonyms: false }).catch(() => undefined);
  const n = Number(r?.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue);
  return Number.isInteger(n) && n > 0 ? n : KAFKA_MAX_MESSAGE_BYTES;
}

/**
 * An upper bound of the bytes Kafka counts for `m` alone in a record batch (format v2): the
 * batch header (61), the record's varints at their widest, key, value, each header's name and value.
 */
export function recordBytes(m: Message): number {
  let n = 61 + 5 + 1 + 10 + 5 + 5 + 5 + 5 + bytesOf(m.key) + bytesOf(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {})) n += 10 + Buffer.byteLength(k) + bytesOf(v as string | Buffer | undefined);
  return n;
}

function bytesOf(v: string | Buffer | null | undefined | (string | Buffer)[]): number {
  if (v === null || v === undefined) return 0;
  if (Array.isArray(v)) return v.reduce((n, x) => n + bytesOf(x) + 10, 0);
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

const CUT_MARK = ' … (cut to fit the dead-letter topic\'s max.message.bytes)';

/** The dead letter of `m`: its key, value and headers with sluice's, the reason as given. */
export function deadLetterOf(m: KafkaMessage, reason: string, attempts: number, origin: string): Message {
  return { key: m.key, value: m.value, headers: { ...m.headers, 'sluice-error': reason, 'sluice-attempts': String(attempts), 'sluice-source': origin } };
}

/**
 * The dead letter of `m` cut to `limit` bytes: the reason cut first; else a stub of sluice's
 * headers alone, with `stub` the DeadLetterTooLargeError to settle with once it is sent.
 */
export function fitDeadLetter(m: KafkaMessage, reason: string, attempts: number, origin: string, limit: number, where: string): { message: Message; stub?: DeadLetterTooLargeError } {
  const whole = deadLetterOf(m, reason, attempts, origin);
  const bytes = recordBytes(whole);
  const cut = cutToFit(reason, bytes - limit, CUT_MARK);
  if (cut !== undefined) return { message: deadLetterOf(m, cut, attempts, origin) };
  const why = `dead letter of ${origin} is ${bytes} bytes with its error text cut, past the dead-letter topic's max.message.bytes (${limit})`;
  const headers: IHeaders = { 'sluice-error': reason, 'sluice-attempts': String(attempts), 'sluice-source': origin, 'sluice-dropped': `${why}: sent without its key, value and headers; the message is still at ${origin} until the topic's retention` };
  const stub: Message = { key: null, value: null, headers };
  const over = recordBytes(stub) - limit;
  if (over > 0) headers['sluice-error'] = cutToFit(reason, over, CUT_MARK) ?? '';
  return { message: stub, stub: new DeadLetterTooLargeError(where, bytes, limit, `${why}: sent as a stub naming where the message is (sluice-source), not as a copy`) };
}
