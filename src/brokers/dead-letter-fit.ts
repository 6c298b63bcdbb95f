/**
 * A dead letter is the message plus what sluice adds (the error text, the attempt count, the
 * source), so one near its broker's size limit may not fit where the message did. The error
 * text gives way first (`cutToFit`); a copy that fits not even then is a DeadLetterTooLargeError
 * naming the sizes, which each adapter answers by its own policy (docs/brokers.md).
 */
import { SluiceError } from '../core/index.js';

export class DeadLetterTooLargeError extends SluiceError {
  /** The source's name: broker, address and queue or topic. */
  readonly broker: string;
  /** The copy's size as the broker counts it, and the limit it passed, bytes. */
  readonly bytes: number;
  readonly limit: number;
  constructor(broker: string, bytes: number, limit: number, what: string) {
    super('SLUICE_ERR_DEAD_LETTER_TOO_LARGE', `${broker}: ${what}`);
    this.broker = broker;
    this.bytes = bytes;
    this.limit = limit;
  }
  override get name(): string {
    return 'DeadLetterTooLargeError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof SluiceError && value.code === 'SLUICE_ERR_DEAD_LETTER_TOO_LARGE';
  }
}

/**
 * `text` shorter by at least `over` UTF-8 bytes, ending with `mark`; undefined when it has not
 * that many bytes to give (a multi-byte character is never split).
 */
export function cutToFit(text: string, over: number, mark: string): string | undefined {
  const room = Buffer.byteLength(text) - over - Buffer.byteLength(mark);
  if (room < 0) return undefined;
  let cut = text.slice(0, room);
  while (Buffer.byteLength(cut) > room) cut = cut.slice(0, -1);
  return cut + mark;
}
