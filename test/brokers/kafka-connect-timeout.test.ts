// KafkaProducer.open() and KafkaSource.open() give up on a broker they cannot reach within
// `connectTimeoutMs` (validated), with a BrokerUnavailableError naming the broker's address.
// Before, a closed port took kafkajs's retries (~3.6 s for the producer) and a broker that takes
// the connection and never answers held open() for kafkajs's request timeout on every retry.
// No Kafka needed: a port closed here, and a TCP server of this test that answers nothing.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerUnavailableError } from '../../src/brokers/index.js';
import { InvalidOptionError } from '../../src/core/index.js';
import { KafkaProducer, KafkaSource } from '../../src/kafka/index.js';

let closedPort = 0;
let silent: Server;
let silentPort = 0;
const sockets = new Set<Socket>();

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

beforeAll(async () => {
  const probe = createServer();
  closedPort = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  // Takes the connection and never answers (a proxy whose backend hangs).
  silent = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  silentPort = await listen(silent);
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

/** Whether `ok()` holds within `ms` (polled). */
async function within(ms: number, ok: () => boolean): Promise<boolean> {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

async function failure(open: () => Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const t0 = performance.now();
  const err = await open().then(
    () => undefined,
    (e: unknown) => e,
  );
  return { err, ms: performance.now() - t0 };
}

const makers = {
  KafkaProducer: (brokers: string[], connectTimeoutMs: unknown) => KafkaProducer.open({ brokers, connectTimeoutMs } as never),
  KafkaSource: (brokers: string[], connectTimeoutMs: unknown) => KafkaSource.open({ brokers, topic: 't', groupId: 'g', connectTimeoutMs } as never),
};

describe.each(Object.entries(makers))('%s connectTimeoutMs', (_name, open) => {
  it.each([0, -1, 1.5, NaN, Infinity, '1000', 2 ** 31])('%s: an InvalidOptionError naming it, before connecting', async (value) => {
    const { err } = await failure(() => open(['127.0.0.1:1'], value));
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toMatch(/^connectTimeoutMs: expected an integer in \[1, 2147483647\], received /);
  });

  it('a closed port: BrokerUnavailableError naming the address, within connectTimeoutMs', async () => {
    const { err, ms } = await failure(() => open([`127.0.0.1:${closedPort}`], 500));
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect((err as Error).message).toContain(`kafka at 127.0.0.1:${closedPort}: unreachable (`);
    // kafkajs's retries may end first (the source's are short): its error then, else the timeout's
    expect((err as Error).message).toMatch(/KafkaJSNumberOfRetriesExceeded|Connection error|within connectTimeoutMs \(500 ms\)/);
    expect((err as Error).message).toContain('ECONNREFUSED');
    // 500 ms and what a busy machine adds; kafkajs's own retries took 3.6 s
    expect(ms).toBeLessThan(3000);
  });

  it('given up on a broker that answers nothing, it closes the connections it opened (not left to the request timeout of kafkajs)', async () => {
    // A server of this test only: what it still holds open once open() rejected.
    const held = new Set<Socket>();
    let accepted = 0;
    const server = createServer((s) => {
      accepted++;
      held.add(s);
      s.resume(); // read: a peer's close is seen only by a socket that reads
      s.on('error', () => undefined);
      s.on('close', () => held.delete(s));
    });
    const port = await listen(server);
    try {
      const { err } = await failure(() => open([`127.0.0.1:${port}`], 500));
      expect(err).toBeInstanceOf(BrokerUnavailableError);
      expect(accepted).toBeGreaterThan(0);
      // Before: every connection stayed open until kafkajs's request timeout (30 s), holding the process alive.
      const closed = await within(10_000, () => held.size === 0);
      expect(closed, `${held.size} connection(s) still open`).toBe(true);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 30_000);

  it('a broker that takes the connection and never answers: the same, within connectTimeoutMs', async () => {
    const { err, ms } = await failure(() => open([`127.0.0.1:${silentPort}`], 800));
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect((err as Error).message).toContain(`kafka at 127.0.0.1:${silentPort}: unreachable (no connection within connectTimeoutMs (800 ms)`);
    expect(ms).toBeLessThan(4000);
  });
});
