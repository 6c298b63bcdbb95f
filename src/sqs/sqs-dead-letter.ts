/**
 * An SQS dead letter within SQS's limits: the message's body and attributes plus sluice-error,
 * sluice-attempts and sluice-source. SQS takes at most 10 attributes a message, so a message
 * carrying more than 7 of its own has them packed into one, `sluice-attributes` (JSON: name →
 * `{ DataType, StringValue }` or `{ DataType, BinaryValue }` in base64). Its size counts the body
 * and every attribute's name, type and value, against the dead-letter queue's
 * MaximumMessageSize (1 MiB where the queue does not say): past it the error text is cut to fit,
 * and a copy that fits not even then is a DeadLetterTooLargeError (the source holds the message).
 */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { cutToFit, DeadLetterTooLargeError } from '../brokers/dead-letter-fit.js';

/** Message attributes SQS takes on one message. */
export const SQS_MAX_ATTRIBUTES = 10;
/** SQS's largest message (body and attributes), bytes: the limit where a queue names none. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

type Attributes = Record<string, MessageAttributeValue>;

/** One attribute as SendMessage takes it (a receive's carries empty list fields too). */
function sendable(v: MessageAttributeValue): MessageAttributeValue {
  return v.BinaryValue !== undefined ? { DataType: v.DataType, BinaryValue: v.BinaryValue } : { DataType: v.DataType, StringValue: v.StringValue ?? '' };
}

/** The size SQS counts: the body and each attribute's name, data type and value, UTF-8 bytes. */
export function sqsSize(body: string, attrs: Attributes): number {
  let bytes = Buffer.byteLength(body);
  for (const [k, v] of Object.entries(attrs)) bytes += Buffer.byteLength(k) + Buffer.byteLength(v.DataType ?? '') + (v.BinaryValue !== undefined ? v.BinaryValue.length : Buffer.byteLength(v.StringValue ?? ''));
  return bytes;
}

export interface DeadLetterFields {
  /** The source's name, for the error. */
  readonly where: string;
  readonly reason: string;
  readonly attempt: number;
  /** `queue:messageId`. */
  readonly origin: string;
  /** The dead-letter queue's MaximumMessageSize, bytes. */
  readonly limit: number;
  /** How long the source holds a message whose dead letter does not fit, s (for the error's words). */
  readonly holdS: number;
}

/** The dead letter's attributes, fitted to SQS's limits; DeadLetterTooLargeError when no fitting makes it small enough. */
export function sqsDeadLetter(msg: Message, f: DeadLetterFields): Attributes {
  const body = msg.Body ?? '';
  const own: Attributes = {};
  for (const [k, v] of Object.entries(msg.MessageAttributes ?? {})) own[k] = sendable(v);
  const ours: Attributes = {
    'sluice-error': { DataType: 'String', StringValue: f.reason },
    'sluice-attempts': { DataType: 'Number', StringValue: String(f.attempt) },
    'sluice-source': { DataType: 'String', StringValue: f.origin },
  };
  const merged = { ...own, ...ours };
  let attrs = merged;
  if (Object.keys(merged).length > SQS_MAX_ATTRIBUTES) {
    const packed: Record<string, { DataType: string | undefined; StringValue?: string | undefined; BinaryValue?: string }> = {};
    for (const [k, v] of Object.entries(own)) packed[k] = v.BinaryValue !== undefined ? { DataType: v.DataType, BinaryValue: Buffer.from(v.BinaryValue).toString('base64') } : { DataType: v.DataType, StringValue: v.StringValue };
    attrs = { 'sluice-attributes': { DataType: 'String', StringValue: JSON.stringify(packed) }, ...ours };
  }
  const over = sqsSize(body, attrs) - f.limit;
  if (over <= 0) return attrs;
  const cut = cutToFit(f.reason, over, ` [cut to fit ${f.limit} bytes]`);
  if (cut !== undefined) {
    attrs = { ...attrs, 'sluice-error': { DataType: 'String', StringValue: cut } };
    if (sqsSize(body, attrs) <= f.limit) return attrs;
  }
  const bytes = sqsSize(body, attrs);
  throw new DeadLetterTooLargeError(
    f.where,
    bytes,
    f.limit,
    `the dead letter of message ${msg.MessageId ?? '?'} would be ${bytes} bytes with its attributes, past ${f.limit} (the dead-letter queue's limit): not sent; the message stays in its queue, invisible for ${f.holdS} s (deadLetterHoldS)`,
  );
}
