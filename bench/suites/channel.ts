/**
 * Suite 3: a bounded channel between an async producer and an async consumer. 1M numbers
 * through a buffer of 1024; the producer awaits backpressure, the consumer awaits items.
 * One sample = a fresh channel/pipeline carrying all items; the consumer sums them (checked).
 *
 * Headline: sluice's idiomatic use, `await channel.put(i)` in a loop and `for await` on the
 * other side. The tryPut/tryTake row is the batched fast path (synchronous while the buffer
 * allows, awaiting only at full/empty), shown separately.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ClosedError } from '../../src/core/index.js';
import { Channel } from '../../src/queue/index.js';
import { judge } from '../lib/goals.js';
import { measure } from '../lib/harness.js';
import type { Contender } from '../lib/harness.js';
import { MiniChannel } from '../lib/mini-channel.js';
import type { Suite, SuiteContext, SuiteResult } from '../lib/suite.js';
import { resultsTable } from '../lib/table.js';

const CAPACITY = 1024;

interface Variant {
  readonly name: string;
  readonly vs?: string;
  readonly about: string;
  /** Carry items 0..n-1 from a producer to a consumer; `onItem` is the consumer's body. */
  pass(n: number, onItem: (x: number) => void): Promise<void>;
}

const variants: readonly Variant[] = [
  {
    name: 'sluice',
    about: 'new Channel({ capacity: 1024 }); producer `for (...) await ch.put(i); ch.close()`, consumer `for await (const x of ch)`',
    async pass(n, onItem) {
      const ch = new Channel<number>({ capacity: CAPACITY });
      const producer = (async () => {
        for (let i = 0; i < n; i++) await ch.put(i);
        ch.close();
      })();
      for await (const x of ch) onItem(x);
      await producer;
    },
  },
  {
    name: 'sluice take loop',
    about: 'same producer; consumer `await ch.take()` until it rejects with ClosedError',
    async pass(n, onItem) {
      const ch = new Channel<number>({ capacity: CAPACITY });
      const producer = (async () => {
        for (let i = 0; i < n; i++) await ch.put(i);
        ch.close();
      })();
      for (;;) {
        let x: number;
        try {
          x = await ch.take();
        } catch (err) {
          if (err instanceof ClosedError) break;
          throw err;
        }
        onItem(x);
      }
      await producer;
    },
  },
  {
    name: 'sluice tryPut/tryTake',
    about: "batched fast path: producer `tryPut(i)`, awaiting `put(i)` only when it answers a rejection (full); consumer `tryTake()` until empty, then `await take()`",
    async pass(n, onItem) {
      const ch = new Channel<number>({ capacity: CAPACITY });
      const producer = (async () => {
        for (let i = 0; i < n; i++) if (ch.tryPut(i) !== 'accepted') await ch.put(i);
        ch.close();
      })();
      for (;;) {
        const t = ch.tryTake();
        if (t.ok) {
          onItem(t.value);
          continue;
        }
        if (t.done) break;
        let x: number;
        try {
          x = await ch.take();
        } catch (err) {
          if (err instanceof ClosedError) break;
          throw err;
        }
        onItem(x);
      }
      await producer;
    },
  },
  {
    name: 'sluice putMany/batches',
    about: 'batch API: producer `await ch.putMany(chunk)` with chunks of 256; consumer `for await (const batch of ch.batches(256))`',
    async pass(n, onItem) {
      const ch = new Channel<number>({ capacity: CAPACITY });
      const producer = (async () => {
        const chunk: number[] = [];
        for (let i = 0; i < n; i++) {
          chunk.push(i);
          if (chunk.length === 256) {
            await ch.putMany(chunk);
            chunk.length = 0;
          }
        }
        await ch.putMany(chunk);
        ch.close();
      })();
      for await (const batch of ch.batches(256)) for (const x of batch) onItem(x);
      await producer;
    },
  },
  {
    name: 'node stream',
    vs: 'sluice',
    about: 'stream/promises pipeline(Readable → Writable), both objectMode, highWaterMark 1024; read() pushes until push() returns false, write() calls back synchronously',
    async pass(n, onItem) {
      let i = 0;
      const source = new Readable({
        objectMode: true,
        highWaterMark: CAPACITY,
        read() {
          while (i < n) if (!this.push(i++)) return;
          this.push(null);
        },
      });
      const sink = new Writable({
        objectMode: true,
        highWaterMark: CAPACITY,
        write(chunk: number, _enc, cb) {
          onItem(chunk);
          cb();
        },
      });
      await pipeline(source, sink);
    },
  },
  {
    name: 'node stream (async gen)',
    vs: 'sluice',
    about: 'pipeline(Readable.from(async generator, { highWaterMark: 1024 }) → same Writable): an async producer loop, like the channel rows',
    async pass(n, onItem) {
      async function* produce(): AsyncGenerator<number> {
        for (let i = 0; i < n; i++) yield i;
      }
      const sink = new Writable({
        objectMode: true,
        highWaterMark: CAPACITY,
        write(chunk: number, _enc, cb) {
          onItem(chunk);
          cb();
        },
      });
      await pipeline(Readable.from(produce(), { objectMode: true, highWaterMark: CAPACITY }), sink);
    },
  },
  {
    name: 'floor',
    vs: 'sluice',
    about: 'hand-written minimal channel (bench/lib/mini-channel.ts), same idiom: `await ch.put(i)` loop, `for await` consumer',
    async pass(n, onItem) {
      const ch = new MiniChannel<number>(CAPACITY);
      const producer = (async () => {
        for (let i = 0; i < n; i++) await ch.put(i);
        ch.close();
      })();
      for await (const x of ch) onItem(x);
      await producer;
    },
  },
  {
    name: 'WHATWG streams',
    vs: 'sluice',
    about: 'new ReadableStream({ pull: enqueue while desiredSize > 0 }, new CountQueuingStrategy({ highWaterMark: 1024 })).pipeTo(new WritableStream({ write }, same strategy))',
    async pass(n, onItem) {
      let i = 0;
      const source = new ReadableStream<number>(
        {
          pull(controller) {
            while (i < n && (controller.desiredSize ?? 0) > 0) controller.enqueue(i++);
            if (i >= n) controller.close();
          },
        },
        new CountQueuingStrategy({ highWaterMark: CAPACITY }),
      );
      const sink = new WritableStream<number>(
        {
          write(chunk) {
            onItem(chunk);
          },
        },
        new CountQueuingStrategy({ highWaterMark: CAPACITY }),
      );
      await source.pipeTo(sink);
    },
  },
];

function contender(v: Variant, n: number): Contender {
  return {
    name: v.name,
    ...(v.vs === undefined ? {} : { vs: v.vs }),
    about: v.about,
    async run() {
      let sum = 0;
      await v.pass(n, (x) => {
        sum += x;
      });
      if (sum !== (n * (n - 1)) / 2) throw new Error(`${v.name}: items lost or duplicated (sum ${sum})`);
      return n;
    },
    async warmup() {
      await v.pass(Math.ceil(n / 10), () => {});
    },
    async verify() {
      const m = 20_000;
      let next = 0;
      await v.pass(m, (x) => {
        if (x !== next) throw new Error(`${v.name}: got ${x}, expected ${next}`);
        next++;
      });
      if (next !== m) throw new Error(`${v.name}: delivered ${next}/${m}`);
      return `${m.toLocaleString('en-US')} items delivered once, in order`;
    },
  };
}

export const channelSuite: Suite = {
  id: 'channel',
  title: 'Bounded channel put/take',
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const t0 = performance.now();
    const n = ctx.quick ? 200_000 : 1_000_000;
    const rows = await measure(
      variants.map((v) => contender(v, n)),
      { rounds: ctx.rounds, warmup: ctx.warmup, warmupMs: ctx.warmupMs, forceGc: ctx.forceGc, onSample: (name, r, ops) => ctx.log(`  round ${r + 1}: ${name} ${Math.round(ops)} items/s`) },
    );
    const goals = judge(
      [
        { sluice: 'sluice', peer: 'node stream', min: 1 },
        { sluice: 'sluice', peer: 'WHATWG streams', min: 10 },
        { sluice: 'sluice putMany/batches', peer: 'node stream', min: 1 },
      ],
      rows,
    );
    return {
      id: 'channel',
      title: this.title,
      workload: `${n.toLocaleString('en-US')} numbers through a buffer of ${CAPACITY}, async producer and async consumer in one process; one sample = a fresh channel or pipeline carrying every item, sum checked`,
      unit: 'items',
      rows,
      goals,
      tables: [resultsTable('Throughput', 'items', rows)],
      notes: [
        'Ratios are sluice ÷ contender (above 1: sluice is faster), the median of per-round ratios; "sluice" is the idiomatic row (await put / for await).',
        'The Node stream rows buffer on both sides (readable and writable highWaterMark 1024 each), so they hold up to 2048 items; the channel holds 1024.',
        'The floor is the least an awaitable channel can do with the idiomatic calls (one await per put, one promise per next()); a goal above the floor cannot be met with that idiom.',
        'The "node stream" goal is judged against the push-loop Readable (the faster Node variant), not the async-generator one.',
      ],
      seconds: (performance.now() - t0) / 1000,
    };
  },
};
