/**
 * Bytes a push consumer holds taken from its broker and unacknowledged, against a bound: the
 * prefetch a broker that counts messages only (RabbitMQ ignores `basic.qos` prefetch-size) may
 * be given so that what it sends stays within `maxBytes`, at the average size seen:
 *
 *     ceiling = unacked + max(0, floor((maxBytes − held) / average))     at least 1
 *     (before any message was seen: unacked + 1, so the first one teaches the size)
 *
 * A message above the average passes the bound by the difference; the broker stops sending
 * once the prefetch is down to what is held, and sends again as settlements free the bytes.
 */
export class HeldBytes {
  readonly maxBytes: number;
  #held = 0;
  #seen = 0;
  #average = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#held;
  }

  /** A message arrived: `bytes` more held, and the average follows (the last 64 weigh most). */
  took(bytes: number): void {
    this.#held += bytes;
    this.#seen = Math.min(this.#seen + 1, 64);
    this.#average += (bytes - this.#average) / this.#seen;
  }

  /** A message settled (or was given back): its bytes are no longer held. */
  released(bytes: number): void {
    this.#held = Math.max(0, this.#held - bytes);
  }

  /** The highest prefetch that keeps the held bytes within the bound, given `unacked` messages held. */
  ceiling(unacked: number): number {
    if (!Number.isFinite(this.maxBytes)) return Infinity;
    if (this.#seen === 0) return unacked + 1;
    const room = Math.floor((this.maxBytes - this.#held) / Math.max(1, this.#average));
    return Math.max(1, unacked + Math.max(0, room));
  }
}
