// The behaviour every broker consumer owes its users, run against each real broker.
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, BrokerUnavailableError, HandlerTimeoutError } from '../../src/brokers/index.js';
import type { BrokerSource, Delivery } from '../../src/brokers/index.js';
import { unique, until } from './services.js';

export interface DeadLetter {
  readonly body: string;
  readonly reason: string;
  readonly attempts: number;
}

export interface BrokerFixture {
  /** Open a consumer source on `name` (a queue/stream created for the test). `retryDelayMs` hints how fast retries may come back. */
  open(name: string): Promise<BrokerSource>;
  /** Put these bodies on `name`, confirmed by the broker. */
  publish(name: string, bodies: readonly string[]): Promise<void>;
  /** What reached the dead-letter destination of `name`. */
  deadLetters(name: string): Promise<DeadLetter[]>;
  /** Open a source on a port where nothing listens. */
  openUnreachable(): Promise<BrokerSource>;
  /** Messages given out and not yet acknowledged, as the broker counts them (to check that demand bounds delivery). */
  unacked?(name: string): Promise<number>;
  /** The lag reads log-end minus committed (Kafka): what a consumer holds uncommitted still counts. */
  readonly lagCountsHeld?: boolean;
  /** Remove what the test created. */
  cleanup(name: string): Promise<void>;
}

const text = (d: Delivery): string => Buffer.from(d.body).toString();

export function brokerContract(broker: string, fx: BrokerFixture): void {
  describe(`${broker}: consumer contract`, () => {
    it('hands every message to the handler and acks it only after the handler resolved', async () => {
      const name = unique('basic');
      const bodies = Array.from({ length: 50 }, (_, i) => `m${i}`);
      await fx.publish(name, bodies);
      const source = await fx.open(name);
      const seen: string[] = [];
      const c = new BrokerConsumer(source, (d) => {
        expect(d.settled).toBeUndefined();
        seen.push(text(d));
      }, { concurrency: 4 });
      try {
        expect(await until(() => c.stats().acked === 50)).toBe(true);
        expect([...seen].sort()).toEqual([...bodies].sort());
        expect(await until(async () => (await source.lag()) === 0)).toBe(true);
        expect(c.stats()).toMatchObject({ received: 50, acked: 50, failed: 0, retried: 0, deadLettered: 0, settleErrors: 0, inFlight: 0 });
      } finally {
        await c.stop();
        await fx.cleanup(name);
      }
    });

    it('takes from the broker only what was demanded: a stuck handler with concurrency 2 holds 2 messages, the rest stays on the broker as lag', async () => {
      const name = unique('demand');
      await fx.publish(name, Array.from({ length: 30 }, (_, i) => `d${i}`));
      const source = await fx.open(name);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const c = new BrokerConsumer(source, () => gate, { concurrency: 2 });
      try {
        expect(await until(() => c.stats().received === 2)).toBe(true);
        await new Promise((r) => setTimeout(r, 300));
        expect(c.stats().received).toBe(2);
        // What the process holds: the two in the handlers and whatever the client buffered undemanded.
        expect(c.stats()).toMatchObject({ taken: 2, held: 2 + (source.buffered ?? 0) });
        if (fx.unacked !== undefined) expect(await fx.unacked(name)).toBeLessThanOrEqual(2);
        const expected = fx.lagCountsHeld === true ? 30 : 28;
        expect(await until(async () => (await source.lag()) === expected, 5000)).toBe(true);
        release();
        expect(await until(() => c.stats().acked === 30, 30_000)).toBe(true);
        expect(c.stats()).toMatchObject({ taken: 30, held: 0 });
        expect(c.stats().peakHeld).toBeGreaterThanOrEqual(2);
      } finally {
        release();
        await c.stop();
        await fx.cleanup(name);
      }
    });

    it('a message whose consumer went away unacknowledged is delivered again (at-least-once)', async () => {
      const name = unique('redeliver');
      await fx.publish(name, ['only']);
      const first = await fx.open(name);
      const got: Delivery[] = [];
      const ac = new AbortController();
      const pulled = first.pull(1, (d) => got.push(d), ac.signal);
      expect(await until(() => got.length === 1)).toBe(true);
      ac.abort();
      await pulled;
      await first.close(); // gone without settling
      const second = await fx.open(name);
      const again: Delivery[] = [];
      const c = new BrokerConsumer(second, (d) => void again.push(d));
      try {
        expect(await until(() => again.length === 1, 15_000)).toBe(true);
        expect(text(again[0]!)).toBe('only');
        expect(again[0]!.attempt).toBeGreaterThanOrEqual(1);
      } finally {
        await c.stop();
        await fx.cleanup(name);
      }
    });

    it('a handler that throws: the message is retried per policy and counted, never silently acked', async () => {
      const name = unique('retry');
      await fx.publish(name, ['flaky', 'fine']);
      const source = await fx.open(name);
      const attempts: number[] = [];
      const errors: string[] = [];
      const c = new BrokerConsumer(source, (d) => {
        if (text(d) !== 'flaky') return;
        attempts.push(d.attempt);
        if (attempts.length < 3) throw new Error(`flaky failure ${attempts.length}`);
      }, { concurrency: 2, onFailure: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 100 }, onError: (e, _d, decision) => errors.push(`${(e as Error).message} -> ${decision.action}`) });
      try {
        expect(await until(() => c.stats().acked === 2, 20_000)).toBe(true);
        expect(attempts).toEqual([1, 2, 3]);
        expect(errors).toEqual(['flaky failure 1 -> retry', 'flaky failure 2 -> retry']);
        // A retry is counted once the broker confirmed it, which may come after the copy was handled.
        expect(await until(() => c.stats().retried === 2)).toBe(true);
        expect(c.stats()).toMatchObject({ failed: 2, retried: 2, deadLettered: 0, acked: 2 });
        expect(await fx.deadLetters(name)).toEqual([]);
      } finally {
        await c.stop();
        await fx.cleanup(name);
      }
    });

    it('a poison message is dead-lettered after N attempts, with the reason', async () => {
      const name = unique('poison');
      await fx.publish(name, ['poison', 'good']);
      const source = await fx.open(name);
      let tries = 0;
      const c = new BrokerConsumer(source, (d) => {
        if (text(d) === 'poison') {
          tries++;
          throw new TypeError('cannot parse order #42');
        }
      }, { concurrency: 2, onFailure: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 100 } });
      try {
        expect(await until(() => c.stats().deadLettered === 1, 20_000)).toBe(true);
        expect(tries).toBe(3);
        const dead = await fx.deadLetters(name);
        expect(dead).toHaveLength(1);
        expect(dead[0]!.body).toBe('poison');
        expect(dead[0]!.attempts).toBe(3);
        expect(dead[0]!.reason).toContain('TypeError: cannot parse order #42');
        expect(dead[0]!.reason).toContain('attempt 3 of 3');
        expect(await until(() => c.stats().retried === 2)).toBe(true);
        expect(c.stats()).toMatchObject({ failed: 3, retried: 2, deadLettered: 1, acked: 1 });
      } finally {
        await c.stop();
        await fx.cleanup(name);
      }
    });

    it('a handler that never settles: handlerTimeoutMs fails it (HandlerTimeoutError, its signal aborted), frees its slot for the next message, and dead-letters it after N attempts', async () => {
      const signals: AbortSignal[] = []; // the handler's, one per attempt
      const told: string[] = []; // what onError heard
      const name = unique('hang');
      await fx.publish(name, ['hang', 'good']);
      const source = await fx.open(name);
      const c = new BrokerConsumer(source, (d, signal) => {
        if (text(d) !== 'hang') return undefined;
        signals.push(signal);
        return new Promise<void>(() => undefined); // never settles, ignores its signal
      }, { concurrency: 1, handlerTimeoutMs: 200, onFailure: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 100 }, onError: (e) => told.push(`${(e as Error).name}: ${(e as Error).message}`) });
      try {
        // concurrency 1: 'good' is handled only because the stuck handler's slot was freed.
        expect(await until(() => c.stats().deadLettered === 1 && c.stats().acked === 1, 20_000)).toBe(true);
        expect(signals).toHaveLength(2);
        for (const s of signals) expect(s.aborted && s.reason instanceof HandlerTimeoutError).toBe(true);
        expect(told).toEqual(Array(2).fill('HandlerTimeoutError: handler still running after handlerTimeoutMs (200 ms)'));
        const dead = await fx.deadLetters(name);
        expect(dead.map((x) => [x.body, x.attempts])).toEqual([['hang', 2]]);
        expect(dead[0]!.reason).toBe('HandlerTimeoutError: handler still running after handlerTimeoutMs (200 ms) (attempt 2 of 2)');
        expect(c.stats()).toMatchObject({ failed: 2, timedOut: 2, retried: 1, deadLettered: 1, acked: 1, inFlight: 0 });
      } finally {
        await c.stop({ graceMs: 1000 }); // before the fix the stuck handler would hold a plain stop() for ever
        await fx.cleanup(name);
      }
    });

    it('an unreachable broker at start is an error naming it', async () => {
      const err = await fx.openUnreachable().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BrokerUnavailableError);
      expect((err as BrokerUnavailableError).code).toBe('SLUICE_ERR_BROKER_UNAVAILABLE');
      expect((err as Error).message).toMatch(new RegExp(`^${broker}`));
      expect((err as Error).message).toContain('127.0.0.1:1');
    });

    it('stop() lets running handlers settle, then closes; done resolves', async () => {
      const name = unique('stop');
      await fx.publish(name, ['a', 'b', 'c']);
      const source = await fx.open(name);
      let finish!: () => void;
      const slow = new Promise<void>((r) => (finish = r));
      const c = new BrokerConsumer(source, () => slow, { concurrency: 1 });
      try {
        expect(await until(() => c.stats().received === 1)).toBe(true);
        const stopping = c.stop();
        setTimeout(finish, 50);
        await stopping;
        expect(c.stats()).toMatchObject({ received: 1, acked: 1, inFlight: 0 });
        await c.done;
      } finally {
        finish();
        await fx.cleanup(name);
      }
    });
  });
}
