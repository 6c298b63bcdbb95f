// A bad day for the JetStream consumer, against a nats-server of the test's own: the server
// killed mid-stream and started again (the consumer goes on), started again without JetStream
// for a while (fetches answered 503: the consumer goes on once it is back), killed for good (done rejects
// with BrokerUnavailableError), and pulls asked for 0, a negative, NaN or a fraction.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConsumer, BrokerUnavailableError } from '../../src/brokers/index.js';
import type { Delivery } from '../../src/brokers/index.js';
import { InvalidArgumentError, VirtualClock } from '../../src/core/index.js';
import { JetstreamSource } from '../../src/jetstream/index.js';
import { until } from '../brokers/services.js';
import { stopMidBurst } from './stop-burst.js';
import { haveNatsServer, OwnNats } from './own-nats.js';

const can = haveNatsServer();
const text = (d: Delivery): string => Buffer.from(d.body).toString();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** How `c` ended so far: undefined while running, else `resolved` or `rejected: <error>`. */
function ending(c: BrokerConsumer): () => string | undefined {
  let ended: string | undefined;
  c.done.then(() => (ended = 'resolved'), (e: unknown) => (ended = `rejected: ${String(e)}`));
  return () => ended;
}

describe.skipIf(!can)('jetstream: a bad day', () => {
  let nats: OwnNats;
  beforeAll(async () => {
    nats = await OwnNats.start();
  });
  afterAll(async () => {
    await nats?.dispose();
  });

  async function publish(subject: string, bodies: readonly string[]): Promise<void> {
    const nc = await connect({ servers: nats.servers });
    const js = jetstream(nc);
    for (const b of bodies) await js.publish(subject, b);
    await nc.close();
  }
  const open = (stream: string): Promise<JetstreamSource> => JetstreamSource.open({ servers: nats.servers, stream, subjects: [`${stream}.>`], consumer: 'workers', ackWaitMs: 2000 });

  /** The server up, the source open on `stream`, and `n` messages m0, m1, ... published to it. */
  async function backlog(stream: string, n: number): Promise<JetstreamSource> {
    await nats.start();
    const source = await open(stream);
    await publish(`${stream}.in`, Array.from({ length: n }, (_, i) => `m${i}`));
    return source;
  }

  it('pull(max) of 0, -1, NaN or 1.5 is an InvalidArgumentError naming max, and takes nothing; Infinity is unbounded', async () => {
    await nats.start();
    const source = await open('PULLMAX');
    await publish('PULLMAX.in', ['a', 'b', 'c']);
    try {
      for (const max of [0, -1, NaN, 1.5]) {
        const got: Delivery[] = [];
        const err = await source.pull(max, (d) => got.push(d), new AbortController().signal).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(InvalidArgumentError);
        expect((err as Error).message).toBe(`max: expected an integer >= 1 (or Infinity: unbounded), received ${String(max)}`);
        expect(got).toEqual([]);
      }
      const got: Delivery[] = [];
      await source.pull(Infinity, (d) => got.push(d), new AbortController().signal);
      expect(got.map(text)).toEqual(['a', 'b', 'c']);
      await Promise.all(got.map((d) => d.ack()));
    } finally {
      await source.close();
    }
  });

  it('the server killed mid-stream and started again: the consumer reconnects and handles every message; done stays pending', async () => {
    const source = await backlog('RESTART', 20);
    const seen = new Set<string>();
    const c = new BrokerConsumer(source, async (d) => {
      seen.add(text(d));
      await new Promise((r) => setTimeout(r, 50));
    }, { concurrency: 2 });
    const ended = ending(c);
    try {
      expect(await until(() => seen.size >= 5)).toBe(true);
      await nats.stop();
      await new Promise((r) => setTimeout(r, 1000));
      await nats.start();
      expect(await until(() => seen.size === 20 || ended() !== undefined, 30_000)).toBe(true);
      expect(ended()).toBeUndefined();
      expect(seen.size).toBe(20);
    } finally {
      await c.stop();
    }
  });

  it('the server restarted and JetStream not answering yet (503 no responders): the fetch is tried again, the consumer resumes once JetStream is back and handles every message; done stays pending', async () => {
    const source = await backlog('NOJS', 10);
    const seen = new Set<string>();
    const c = new BrokerConsumer(source, async (d) => {
      seen.add(text(d));
      if (text(d) !== 'm0' || d.attempt > 1) return;
      // Restarted, JetStream not up yet: this handler's ack and the next fetch are answered 503.
      await nats.stop();
      await nats.start({ jetstream: false });
      await until(() => source.connection.state === 'up', 30_000);
    });
    const ended = ending(c);
    const state = (): string => JSON.stringify({ done: ended(), seen: [...seen], stats: c.stats() });
    try {
      // The ack refused (no JetStream to confirm it), then the next fetch asks the same server.
      expect(await until(() => c.stats().settleErrors === 1 || ended() !== undefined, 30_000), state()).toBe(true);
      await sleep(1500);
      // Before: done rejected here with "JetStreamStatusError: no responders".
      expect(ended(), state()).toBeUndefined();
      await nats.stop();
      await nats.start();
      // Every message handled (m0 again after ack_wait: its ack never reached JetStream).
      expect(await until(() => (seen.size === 10 && c.stats().acked >= 10) || ended() !== undefined, 30_000), state()).toBe(true);
      expect(ended(), state()).toBeUndefined();
    } finally {
      await c.stop();
      await nats.stop(); // the next test's server has JetStream
    }
  }, 60_000);

  it('JetStream never back (the server answers, its fetches 503): the consumer fails with BrokerUnavailableError after unavailableMs of them, not for ever, not at the first; its connection says down', async () => {
    await nats.start();
    const source = await JetstreamSource.open({ servers: nats.servers, stream: 'NOJSGONE', subjects: ['NOJSGONE.>'], consumer: 'workers', ackWaitMs: 2000, unavailableMs: 2000 });
    await publish('NOJSGONE.in', ['x']);
    let t0 = 0;
    const c = new BrokerConsumer(source, async () => {
      await nats.stop();
      await nats.start({ jetstream: false });
      await until(() => source.connection.state === 'up', 30_000);
      t0 = Date.now(); // the next fetch is answered 503, and every one after it
    });
    try {
      const err = await c.done.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerUnavailableError);
      expect((err as Error).message).toMatch(/^jetstream at nats:\/\/127\.0\.0\.1:\d+ stream "NOJSGONE" consumer "workers": unreachable \(JetStream not available for 2000 ms \(no responders\)\)/);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
      expect(c.stats().connection).toBe('down');
    } finally {
      await c.stop();
      await nats.stop();
    }
  }, 60_000);

  it('unavailableMs is measured on the injected clock: 503s for seconds of real time while the clock stands still end nothing; the clock moved past it, the next 503 fails the consumer', async () => {
    await nats.start();
    const clock = new VirtualClock();
    const source = await JetstreamSource.open({ servers: nats.servers, stream: 'NOJSCLOCK', subjects: ['NOJSCLOCK.>'], consumer: 'workers', ackWaitMs: 2000, unavailableMs: 1000, clock });
    await publish('NOJSCLOCK.in', ['x']);
    let outage = false;
    const c = new BrokerConsumer(source, async () => {
      await nats.stop();
      await nats.start({ jetstream: false });
      await until(() => source.connection.state === 'up', 30_000);
      outage = true;
    });
    const ended = ending(c);
    try {
      expect(await until(() => outage, 30_000)).toBe(true);
      await sleep(2500); // fetches answered 503 for 2.5 s of real time, none of the clock's
      expect(ended()).toBeUndefined();
      expect(c.stats().connection).toBe('up');
      clock.advance(1000);
      expect(await until(() => ended() !== undefined, 15_000)).toBe(true);
      expect(ended()).toMatch(/^rejected: BrokerUnavailableError: .* unreachable \(JetStream not available for 1000 ms \(no responders\)\)/);
      expect(c.stats().connection).toBe('down');
    } finally {
      await c.stop();
      await nats.stop();
    }
  }, 60_000);

  it('a fetch that spans an outage (the server gone, back without JetStream): the consumer fails with BrokerUnavailableError after unavailableMs, its connection down; nothing it held is lost', async () => {
    await nats.start();
    // expiresMs 20 s: the idle consumer's fetch is waiting on the server when it goes.
    const opts = { servers: nats.servers, stream: 'SPAN', subjects: ['SPAN.>'], consumer: 'workers', ackWaitMs: 2000, expiresMs: 20_000, unavailableMs: 2000 };
    const source = await JetstreamSource.open(opts);
    await publish('SPAN.in', ['a', 'b']);
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const holding = new Promise<void>((r) => (release = r));
    const c = new BrokerConsumer(source, async (d) => {
      seen.push(text(d));
      if (text(d) === 'b' && d.attempt === 1) await holding; // held across the outage: its ack cannot reach JetStream
    }, { concurrency: 2 });
    const ended = ending(c);
    const state = (): string => JSON.stringify({ done: ended(), seen, stats: c.stats() });
    try {
      expect(await until(() => c.stats().acked === 1 && seen.length === 2), state()).toBe(true);
      await sleep(200); // the next fetch is out, waiting for messages
      await nats.stop();
      await nats.start({ jetstream: false });
      expect(await until(() => source.connection.state === 'up', 30_000), state()).toBe(true);
      release();
      // Before: done still pending 15 s later, the connection `up` — the client asking consumer.info for ever.
      expect(await until(() => ended() !== undefined, 15_000), state()).toBe(true);
      expect(ended(), state()).toMatch(/^rejected: BrokerUnavailableError: .* unreachable \(JetStream not available for 2000 ms \(no responders\)\)/);
      expect(c.stats().connection).toBe('down');
    } finally {
      await c.stop();
    }
    // Nothing lost: b's ack never reached JetStream, so it comes again (after ack_wait) once JetStream is back.
    await nats.stop();
    await nats.start();
    const next = await JetstreamSource.open({ ...opts, expiresMs: 1000 });
    const got: Delivery[] = [];
    try {
      expect(await until(async () => (await next.pull(5, (d) => got.push(d), new AbortController().signal), got.length >= 1), 30_000)).toBe(true);
      expect(got.map(text)).toEqual(['b']);
      await Promise.all(got.map((d) => d.ack()));
    } finally {
      await next.close();
      await nats.stop();
    }
  }, 90_000);

  it('a message that kills its consumer: the server counts each death, and past maxAttempts it is dead-lettered without running the handler again', async () => {
    await nats.start();
    const killer = (): Promise<JetstreamSource> => JetstreamSource.open({ servers: nats.servers, stream: 'KILLER', subjects: ['KILLER.>'], consumer: 'workers', ackWaitMs: 1000 });
    await (await killer()).close();
    await publish('KILLER.in', ['killer']);
    // Two consumers take it and die holding it (closed, never settled): redelivered after ack_wait each time.
    for (let death = 1; death <= 2; death++) {
      const source = await killer();
      const got: Delivery[] = [];
      expect(await until(async () => (await source.pull(1, (d) => got.push(d), new AbortController().signal), got.length === 1))).toBe(true);
      expect(got[0]!.attempt).toBe(death);
      await source.close();
    }
    const calls: string[] = [];
    const c = new BrokerConsumer(await killer(), (d) => void calls.push(text(d)), { onFailure: { maxAttempts: 2 } });
    try {
      expect(await until(() => c.stats().deadLettered === 1)).toBe(true);
      expect(calls).toEqual([]); // the third consumer lives
      const nc = await connect({ servers: nats.servers });
      const m = await jetstreamManager(nc).then((jsm) => jsm.streams.getMessage('KILLER_DEAD', { seq: 1 }));
      expect([m?.string(), m?.header.get('Sluice-Attempts'), m?.header.get('Sluice-Error')]).toEqual(['killer', '3', 'delivered 3 times, past onFailure.maxAttempts (2), and never settled: the consumers handling it died or lost their connection (a message that kills its process?)']);
      await nc.close();
      expect(c.stats()).toMatchObject({ received: 0, failed: 0, deadLettered: 1, held: 0 });
    } finally {
      await c.stop();
    }
  });

  it('stop() during a burst gives back what was taken and never handled (nak), instead of leaving it unacknowledged for ack_wait', async () => {
    await nats.start();
    const source = await JetstreamSource.open({ servers: nats.servers, stream: 'BURST', subjects: ['BURST.>'], consumer: 'workers', ackWaitMs: 60_000 });
    await publish('BURST.in', Array.from({ length: 60 }, (_, i) => `b${i}`));
    const s = await stopMidBurst(source);
    // The next consumer gets the released ones redelivered now (before: fresh messages, the others held for ack_wait, 60 s).
    const next = await JetstreamSource.open({ servers: nats.servers, stream: 'BURST', consumer: 'workers', ackWaitMs: 60_000 });
    const got: Delivery[] = [];
    await next.pull(s.released, (d) => got.push(d), new AbortController().signal);
    expect(got.length).toBe(s.released);
    expect(got.every((d) => d.attempt === 2)).toBe(true);
    await next.close();
  });

  it('an ack counts as acked once the server confirmed it: sent while the server is down, it is held, then acked (or a settle error, and redelivered) once the server is back', async () => {
    await nats.start();
    const source = await open('ACKACK');
    await publish('ACKACK.in', ['x']);
    const c = new BrokerConsumer(source, async (d) => {
      if (d.attempt === 1) await nats.stop(); // the ack this handler's end sends cannot be confirmed now
    });
    try {
      expect(await until(() => c.stats().inFlight === 0 && c.stats().received === 1)).toBe(true);
      await new Promise((r) => setImmediate(r));
      // Down: nothing confirmed it, so it is neither acked nor done with (before: acked at once).
      expect(c.stats()).toMatchObject({ acked: 0, held: 1 });
      await nats.start();
      // Confirmed once the client reconnects, or timed out (a settle error) and redelivered after ack_wait.
      expect(await until(() => c.stats().acked === 1, 30_000)).toBe(true);
      expect(c.stats()).toMatchObject({ received: 1 + c.stats().settleErrors, held: 0 });
    } finally {
      await c.stop();
    }
  });

  it('connection in stats: up, reconnecting while the server is down, up again once it is back, with the reconnect counted; down after stop', async () => {
    await nats.start();
    const source = await open('CONNSTATE');
    const c = new BrokerConsumer(source, () => undefined);
    try {
      expect(c.stats()).toMatchObject({ connection: 'up', reconnects: 0 });
      await nats.stop();
      expect(await until(() => c.stats().connection === 'reconnecting')).toBe(true);
      await nats.start();
      expect(await until(() => c.stats().connection === 'up', 30_000)).toBe(true);
      expect(c.stats().reconnects).toBe(1);
      await publish('CONNSTATE.in', ['after']);
      expect(await until(() => c.stats().acked === 1, 30_000)).toBe(true);
    } finally {
      await c.stop();
    }
    expect(c.stats().connection).toBe('down');
  });

  it('a retry (nak) while the server is down is a settle error, not counted retried; the message is redelivered after ack_wait once the server is back', async () => {
    await nats.start();
    const source = await open('NAKDOWN');
    await publish('NAKDOWN.in', ['flaky']);
    const attempts: number[] = [];
    const c = new BrokerConsumer(source, async (d) => {
      attempts.push(d.attempt);
      if (d.attempt > 1) return;
      await nats.stop();
      await until(() => source.connection.state !== 'up');
      throw new Error('flaky');
    }, { onFailure: { maxAttempts: 3, baseDelayMs: 1 } });
    // A wait that runs out says which side it was: the consumer ended (done settled: the product),
    // or still running with what it had seen — this failed once beside the CI's CPU hog, with no more.
    let ended = 'pending';
    c.done.then(() => (ended = 'resolved'), (e: unknown) => (ended = `rejected: ${String(e)}`));
    const state = (): string => JSON.stringify({ done: ended, attempts, stats: c.stats() });
    try {
      expect(await until(() => c.stats().failed === 1 && c.stats().held === 0), state()).toBe(true);
      // Before: retried 1 at once — the nak was fired into a dead connection and counted done.
      expect(c.stats()).toMatchObject({ retried: 0, settleErrors: 1 });
      await sleep(200);
      await nats.start();
      // Not lost: redelivered after ack_wait (2 s) and handled.
      expect(await until(() => c.stats().acked === 1, 30_000), state()).toBe(true);
      expect(attempts).toEqual([1, 2]);
      expect(c.stats()).toMatchObject({ received: 2, retried: 0, settleErrors: 1, held: 0 });
    } finally {
      await c.stop();
    }
  });

  it('a dead letter whose term does not reach the server is a settle error, not counted; redelivered, it is dead-lettered again and its second copy dropped by the server', async () => {
    await nats.start();
    const source = await open('TERMDOWN');
    await publish('TERMDOWN.in', ['poison']);
    // The copy is stored, then the server goes: the term that follows cannot reach it.
    const publishDead = source.publishDead.bind(source);
    let cut = true;
    source.publishDead = async (msg, reason) => {
      await publishDead(msg, reason);
      if (!cut) return;
      cut = false;
      await nats.stop();
      await until(() => source.connection.state !== 'up');
    };
    const c = new BrokerConsumer(source, () => {
      throw new Error('poison');
    }, { onFailure: { maxAttempts: 1 } });
    try {
      expect(await until(() => c.stats().failed === 1 && c.stats().held === 0)).toBe(true);
      // Before: deadLettered 1 at once, the term fired into a dead connection.
      expect(c.stats()).toMatchObject({ deadLettered: 0, settleErrors: 1 });
      await nats.start();
      // Redelivered after ack_wait, past maxAttempts: dead-lettered unhandled, its term reaching the server now.
      expect(await until(() => c.stats().deadLettered === 1, 30_000)).toBe(true);
      const nc = await connect({ servers: nats.servers });
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info('TERMDOWN_DEAD')).state.messages).toBe(1);
      // Terminated for good (before, with the reason in the term, a 2.9 server took it for no
      // ack at all: redelivered after every ack_wait, and copied again each time).
      expect(await until(async () => (await jsm.consumers.info('TERMDOWN', 'workers')).num_ack_pending === 0)).toBe(true);
      await sleep(2500); // past ack_wait
      expect((await jsm.streams.info('TERMDOWN_DEAD')).state.messages).toBe(1);
      expect(c.stats()).toMatchObject({ deadLettered: 1, settleErrors: 1, held: 0 });
      await nc.close();
    } finally {
      await c.stop();
    }
  });

  it('the server killed for good: done rejects with BrokerUnavailableError once the client gives up reconnecting', async () => {
    await nats.start();
    const source = await open('GONE');
    await publish('GONE.in', ['x', 'y']);
    const c = new BrokerConsumer(source, () => undefined);
    expect(await until(() => c.stats().acked === 2)).toBe(true);
    await nats.stop();
    const err = await c.done.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect((err as Error).message).toMatch(/^jetstream at nats:\/\/127\.0\.0\.1:\d+ stream "GONE" consumer "workers": unreachable/);
  }, 90_000);
});
