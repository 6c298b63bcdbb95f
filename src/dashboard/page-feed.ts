/**
 * What a dashboard page is sent, and when: the history ring (each sample serialized once, when
 * a page first needs it) and, per page, a cursor into it. A page is written to only while its
 * socket takes bytes: what it has not been sent yet stays in the ring, shared by every page,
 * so a page that reads slowly or not at all holds at most node's buffer and one frame — never
 * the whole history, never a backlog of ticks. A page so far behind that its next sample left
 * the ring skips to the oldest one kept (counted); one whose socket takes nothing for
 * `maxBlockedTicks` ticks in a row is cut (counted by the dashboard).
 */
import type { ServerResponse } from 'node:http';
import type { GroupSample } from './group-sampler.js';

export interface DashboardSample {
  /** Wall-clock time of the sample, ms since the epoch. */
  readonly t: number;
  readonly groups: readonly GroupSample[];
}

interface Entry {
  readonly seq: number;
  readonly sample: DashboardSample;
  /** Serialized the first time a page needs it: with no page open, a tick serializes nothing. */
  json: string | undefined;
}

/**
 * A catch-up frame carries samples up to about this many bytes (at least one sample): big
 * enough that a page catches up in few writes, small enough that what one page holds queued
 * is bounded by it (plus node's buffer) rather than by the history.
 */
export const FEED_FRAME_BYTES = 64 * 1024;

/** The last `capacity` samples, numbered from 1 in the order taken. */
export class SampleRing {
  readonly #entries: Entry[] = [];
  #seq = 0;

  constructor(readonly capacity: number) {}

  push(sample: DashboardSample): void {
    this.#entries.push({ seq: ++this.#seq, sample, json: undefined });
    if (this.#entries.length > this.capacity) this.#entries.shift();
  }

  get last(): DashboardSample | undefined {
    return this.#entries[this.#entries.length - 1]?.sample;
  }

  /** The number the next sample will have. */
  get nextSeq(): number {
    return this.#seq + 1;
  }

  /** The oldest sample kept's number (nextSeq when empty). */
  get firstSeq(): number {
    return this.#entries[0]?.seq ?? this.#seq + 1;
  }

  /** The serialized samples from number `seq` on, about `maxBytes` of them (at least one when any). */
  take(seq: number, maxBytes: number): string[] {
    const out: string[] = [];
    let bytes = 0;
    for (let i = Math.max(0, seq - this.firstSeq); i < this.#entries.length && (out.length === 0 || bytes < maxBytes); i++) {
      const e = this.#entries[i]!;
      e.json ??= JSON.stringify(e.sample);
      out.push(e.json);
      bytes += e.json.length;
    }
    return out;
  }
}

/** One open page: its response and how far into the ring it has been sent. */
export class PageFeed {
  /** Ticks in a row during which its socket took nothing while it had something to send. */
  blocked = 0;
  #next: number;
  #first = true;
  #progressed = false;
  #waiting = false;

  constructor(
    readonly res: ServerResponse,
    readonly ring: SampleRing,
    /** Told how many samples this page skipped (they left the ring before it read them). */
    readonly onSkip: (n: number) => void,
  ) {
    this.#next = ring.firstSeq;
  }

  /** Write what the page has not been sent, while its socket takes it. */
  feed(): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    for (;;) {
      if (this.res.writableNeedDrain) return this.#waitDrain();
      const first = this.ring.firstSeq;
      if (this.#next < first) {
        this.onSkip(first - this.#next);
        this.#next = first;
      }
      const samples = this.ring.take(this.#next, FEED_FRAME_BYTES);
      // The first frame is always the history, empty or not, as a page expects.
      if (samples.length === 0 && !this.#first) return;
      this.#next += samples.length;
      const frame = this.#first || samples.length > 1 ? `event: history\ndata: [${samples.join(',')}]\n\n` : `data: ${samples[0]!}\n\n`;
      this.res.write(this.#first ? `retry: 2000\n${frame}` : frame);
      this.#first = false;
    }
  }

  /** At each tick: feed it; true when it has taken nothing for more than `maxBlocked` ticks in a row (cut it). */
  tick(maxBlocked: number): boolean {
    if (!this.res.writableNeedDrain) {
      this.blocked = 0;
      this.feed();
      return false;
    }
    if (this.#progressed) this.blocked = 0;
    else this.blocked++;
    this.#progressed = false;
    return this.blocked > maxBlocked;
  }

  #waitDrain(): void {
    if (this.#waiting) return;
    this.#waiting = true;
    this.res.once('drain', () => {
      this.#waiting = false;
      this.#progressed = true;
      this.feed();
    });
  }
}
