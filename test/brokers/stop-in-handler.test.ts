// stop() called from inside a handler of the consumer it stops (a handler that reads "shut
// down" in a message, or gives up on a dependency): awaited there, it used to wait for that
// very handler, which waited for stop() — for ever, silently. A source in memory: what is
// tested is the consumer's own bookkeeping, not a broker.
import { describe, expect, it } from 'vitest';
import { BrokerConsumer, DeliveryBase } from '../../src/brokers/index.js';
import type { BrokerSource, Delivery } from '../../src/brokers/index.js';
import { until } from './services.js';

class MemoryDelivery extends DeliveryBase {
  constructor(id: string, readonly settledAs: string[]) {
    super({ broker: 'rabbitmq', source: 'mem', id, body: Buffer.from(id), headers: {}, attempt: 1 });
  }
  protected doAck(): Promise<void> {
    this.settledAs.push(`ack ${this.id}`);
    return Promise.resolve();
  }
  protected doRetry(): Promise<void> {
    this.settledAs.push(`retry ${this.id}`);
    return Promise.resolve();
  }
  protected doDeadLetter(): Promise<void> {
    this.settledAs.push(`dead ${this.id}`);
    return Promise.resolve();
  }
}

/** Hands out `ids` one pull at a time, then waits until the pull is aborted. */
function memorySource(ids: string[], settledAs: string[]): BrokerSource & { closed: boolean } {
  const left = [...ids];
  const s = {
    name: 'memory',
    closed: false,
    pull(_max: number, emit: (d: Delivery) => void, signal: AbortSignal): Promise<void> {
      const id = left.shift();
      if (id !== undefined) {
        emit(new MemoryDelivery(id, settledAs));
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    },
    lag: () => Promise.resolve(left.length),
    close(): Promise<void> {
      s.closed = true;
      return Promise.resolve();
    },
  };
  return s;
}

const outcome = (p: Promise<unknown>, ms: number): Promise<string> =>
  Promise.race([
    p.then(
      () => 'settled',
      (e: unknown) => `rejected: ${String(e)}`,
    ),
    new Promise<string>((r) => setTimeout(() => r('still waiting'), ms)),
  ]);

describe('BrokerConsumer.stop() from inside its own handler', () => {
  it('awaited there, it resolves once the stop is under way; the handler finishes, its message is acked, the source closes and done resolves', async () => {
    const settledAs: string[] = [];
    const source = memorySource(['shutdown', 'after'], settledAs);
    let inner: Promise<void> | undefined;
    const steps: string[] = [];
    const c: BrokerConsumer = new BrokerConsumer(source, async (d) => {
      await Promise.resolve(); // `c` is assigned by now
      steps.push(`handling ${d.id}`);
      inner = c.stop();
      await inner;
      steps.push('stop() returned');
    });
    expect(await outcome(c.done, 5000)).toBe('settled');
    expect(inner).toBeDefined();
    expect(await outcome(inner!, 100)).toBe('settled');
    expect(steps).toEqual(['handling shutdown', 'stop() returned']);
    expect(settledAs).toEqual(['ack shutdown']); // 'after' was never taken
    expect(source.closed).toBe(true);
    expect(c.stats()).toMatchObject({ received: 1, acked: 1, inFlight: 0, held: 0 });
  });

  it('called from outside its handlers, stop() still waits for the running ones', async () => {
    const settledAs: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const c = new BrokerConsumer(memorySource(['slow'], settledAs), () => gate);
    expect(await until(() => c.stats().inFlight === 1)).toBe(true);
    const stopping = c.stop();
    expect(await outcome(stopping, 200)).toBe('still waiting');
    release();
    expect(await outcome(stopping, 5000)).toBe('settled');
    expect(settledAs).toEqual(['ack slow']);
  });
});
