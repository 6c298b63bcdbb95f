/**
 * Suite 6: demand-driven streams. 1M numbers through source → map(x * 2) → filter(x % 3 === 0)
 * → sink (a sum, checked), with sluice's sink asking in batches of 1, 16 and 256, next to a
 * Node objectMode `stream.pipeline` over `Readable.from`, WHATWG `pipeThrough`/`pipeTo`, an
 * async-generator chain and RxJS (push: no demand, for reference).
 *
 * Memory: a source of small objects, made on demand by a generator (so the million items
 * never exist at once), into a sink that has stopped: what the pipeline holds is its buffer.
 * Heap held at two buffer sizes gives the bytes per buffered item.
 */
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { filter as rxFilter, from as rxFrom, map as rxMap } from 'rxjs';
import { buffer, filter, forEach, fromArray, fromIterable, map, pipe } from '../../src/streams/index.js';
import type { Subscription } from '../../src/streams/index.js';
import { canCollect, collect } from '../lib/gc.js';
import { judge } from '../lib/goals.js';
import { measure } from '../lib/harness.js';
import type { Contender } from '../lib/harness.js';
import type { Suite, SuiteContext, SuiteResult } from '../lib/suite.js';
import { resultsTable } from '../lib/table.js';
import type { Table } from '../lib/table.js';

const double = (x: number): number => x * 2;
const keep = (x: number): boolean => x % 3 === 0;

function expected(items: readonly number[]): number {
  let s = 0;
  for (const x of items) if (keep(double(x))) s += double(x);
  return s;
}

interface Variant {
  readonly name: string;
  readonly vs?: string;
  readonly about: string;
  pass(items: readonly number[], onItem: (x: number) => void): Promise<void>;
}

const HEADLINE = 'sluice, demand 256';

const sluiceRow = (batch: number): Variant => ({
  name: `sluice, demand ${batch}`,
  ...(batch === 256 ? {} : { vs: HEADLINE }),
  about: `forEach(pipe(fromArray(items), map(f), filter(g)), sink, { batch: ${batch} }): the sink requests ${batch} at a time`,
  pass: (items, onItem) => forEach(pipe(fromArray(items), map(double), filter(keep)), onItem, { batch }),
});

const variants: readonly Variant[] = [
  sluiceRow(256),
  sluiceRow(16),
  sluiceRow(1),
  {
    name: 'node pipeline',
    vs: HEADLINE,
    about: 'stream/promises pipeline(Readable.from(items), Transform(map), Transform(filter), Writable), objectMode, default highWaterMark (16)',
    pass: (items, onItem) =>
      pipeline(
        Readable.from(items),
        new Transform({ objectMode: true, transform: (x: number, _e, cb) => cb(null, double(x)) }),
        new Transform({ objectMode: true, transform: (x: number, _e, cb) => (keep(x) ? cb(null, x) : cb()) }),
        new Writable({ objectMode: true, write: (x: number, _e, cb) => (onItem(x), cb()) }),
      ),
  },
  {
    name: 'WHATWG streams',
    vs: HEADLINE,
    about: 'ReadableStream (pull: enqueue while desiredSize > 0) .pipeThrough(TransformStream map) .pipeThrough(TransformStream filter) .pipeTo(WritableStream), default strategies',
    pass: (items, onItem) => {
      let i = 0;
      return new ReadableStream<number>({
        pull(c) {
          while (i < items.length && (c.desiredSize ?? 0) > 0) c.enqueue(items[i++]!);
          if (i >= items.length) c.close();
        },
      })
        .pipeThrough(new TransformStream<number, number>({ transform: (x, c) => c.enqueue(double(x)) }))
        .pipeThrough(new TransformStream<number, number>({ transform: (x, c) => void (keep(x) && c.enqueue(x)) }))
        .pipeTo(new WritableStream<number>({ write: (x) => onItem(x) }));
    },
  },
  {
    name: 'async generators',
    vs: HEADLINE,
    about: 'for await over async function* map(async function* source) and filter: one promise per item per stage',
    pass: async (items, onItem) => {
      async function* source(): AsyncGenerator<number> {
        for (const x of items) yield x;
      }
      async function* mapped(src: AsyncIterable<number>): AsyncGenerator<number> {
        for await (const x of src) yield double(x);
      }
      async function* filtered(src: AsyncIterable<number>): AsyncGenerator<number> {
        for await (const x of src) if (keep(x)) yield x;
      }
      for await (const x of filtered(mapped(source()))) onItem(x);
    },
  },
  {
    name: 'RxJS (push, no demand)',
    vs: HEADLINE,
    about: 'from(items).pipe(map(f), filter(g)).subscribe(sink): push-only, no backpressure: for reference',
    pass: (items, onItem) =>
      new Promise<void>((resolve, reject) => {
        rxFrom(items)
          .pipe(rxMap(double), rxFilter(keep))
          .subscribe({ next: onItem, error: reject, complete: resolve });
      }),
  },
];

function contender(v: Variant, items: readonly number[], sum: number): Contender {
  return {
    name: v.name,
    ...(v.vs === undefined ? {} : { vs: v.vs }),
    about: v.about,
    async run() {
      let s = 0;
      await v.pass(items, (x) => {
        s += x;
      });
      if (s !== sum) throw new Error(`${v.name}: items lost or duplicated (sum ${s}, expected ${sum})`);
      return items.length;
    },
    async warmup() {
      await v.pass(items.slice(0, Math.ceil(items.length / 10)), () => {});
    },
  };
}

/** Heap held by a pipeline whose sink stopped after one item, with a buffer of `capacity`. */
async function heldBy(capacity: number, total: number): Promise<{ bytes: number; buffered: number }> {
  function* objects(): Generator<{ id: number; at: number }> {
    for (let i = 0; i < total; i++) yield { id: i, at: i * 2 };
  }
  collect();
  const before = process.memoryUsage().heapUsed;
  let sub: Subscription | undefined;
  let got = 0;
  pipe(fromIterable(objects()), map((o: { id: number; at: number }) => o), buffer(capacity)).subscribe({
    onSubscribe: (s) => ((sub = s), s.request(1)),
    onNext: () => void got++,
    onError: (e) => {
      throw e;
    },
    onComplete: () => undefined,
  });
  await new Promise((r) => setImmediate(r));
  collect();
  const after = process.memoryUsage().heapUsed;
  sub!.cancel();
  if (got !== 1) throw new Error(`memory probe: the stopped sink got ${got} items`);
  return { bytes: after - before, buffered: capacity };
}

export const streamsSuite: Suite = {
  id: 'streams',
  title: 'Demand-driven streams: source → map → filter → sink',
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const t0 = performance.now();
    const n = ctx.quick ? 200_000 : 1_000_000;
    const items = Array.from({ length: n }, (_, i) => i);
    const sum = expected(items);
    const rows = await measure(
      variants.map((v) => contender(v, items, sum)),
      { rounds: ctx.rounds, warmup: ctx.warmup, warmupMs: ctx.warmupMs, forceGc: ctx.forceGc, onSample: (name, r, ops) => ctx.log(`  round ${r + 1}: ${name} ${Math.round(ops)} items/s`) },
    );
    const goals = judge(
      [
        { sluice: HEADLINE, peer: 'node pipeline', min: 1 },
        { sluice: HEADLINE, peer: 'WHATWG streams', min: 10 },
      ],
      rows,
    );
    const small = 1_000;
    const large = ctx.quick ? 50_000 : 100_000;
    const a = await heldBy(small, n);
    const b = await heldBy(large, n);
    const perItem = (b.bytes - a.bytes) / (large - small);
    const memTable: Table = {
      title: `Memory: a ${n.toLocaleString('en-US')}-item source of {id, at} objects, sink stopped after one item${canCollect() ? '' : ' (no --expose-gc: figures are noisy)'}`,
      columns: ['buffer(capacity)', 'heap held', 'per buffered item'],
      align: ['r', 'r', 'r'],
      rows: [
        [small.toLocaleString('en-US'), `${(a.bytes / 1024).toFixed(0)} kB`, '—'],
        [large.toLocaleString('en-US'), `${(b.bytes / 1024).toFixed(0)} kB`, `${perItem.toFixed(0)} B (the difference ÷ ${(large - small).toLocaleString('en-US')} items)`],
      ],
    };
    return {
      id: 'streams',
      title: this.title,
      workload: `${n.toLocaleString('en-US')} numbers through map(x * 2) and filter(x % 3 === 0) into a summing sink; one sample = a fresh pipeline carrying every item, sum checked`,
      unit: 'items',
      rows,
      goals,
      tables: [resultsTable('Throughput', 'items', rows), memTable],
      notes: [
        'Ratios are sluice ÷ contender (above 1: sluice is faster), the median of per-round ratios, against the demand-256 row.',
        'sluice delivers synchronously while demand lasts (§3.10), so a batch of 256 crosses the three stages without a promise; demand 1 asks the source once per item.',
        'RxJS pushes without demand (no backpressure): it is the cost of the stages alone, not a like-for-like peer.',
        'Memory: the source makes items only on demand, so the heap holds what buffer(capacity) prefetched (plus one item per stage); the per-item figure includes the object itself (about 24 B for {id, at}).',
      ],
      seconds: (performance.now() - t0) / 1000,
    };
  },
};
