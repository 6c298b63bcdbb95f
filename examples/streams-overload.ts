/**
 * `npm run example:streams` — the seeds' scenario through sluice/streams: a producer at
 * 10,000 events/s, a consumer at 5,000/s, for --seconds (default 10). Two pipelines side by side:
 *
 *   hot:  events from an EventEmitter (they do not wait) → fromEvents(capacity 1,000, drop-oldest)
 *         → throttle(TokenBucket 5,000/s) → sink.  Half the events are dropped — every one counted.
 *   cold: an async generator that can wait → buffer(1,000, 'block') → throttle(TokenBucket 5,000/s)
 *         → sink.  Demand reaches the generator: it produces at the consumer's pace, nothing lost.
 *
 * Each second prints: events offered/produced, delivered, outstanding demand at the sink's
 * stage, buffer depth, drops, and the process RSS. Memory stays flat: every buffer is bounded.
 *
 *   npm run example:streams -- --seconds 30 --capacity 5000
 */
import { EventEmitter } from 'node:events';
import { parseArgs } from 'node:util';
import type { Channel } from '../src/queue/index.js';
import { TokenBucket } from '../src/rate/index.js';
import { buffer, forEach, fromAsyncIterable, fromEvents, metered, pipe, StageMeter, throttle } from '../src/streams/index.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, capacity: { type: 'string', default: '1000' } } });
const seconds = Number(values.seconds);
const capacity = Number(values.capacity);
if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`--seconds: expected an integer >= 1, received ${values.seconds}`);
if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`--capacity: expected an integer >= 1, received ${values.capacity}`);

const PRODUCE_PER_SEC = 10_000;
const CONSUME_PER_SEC = 5_000;
const TICK_MS = 10;
const PER_TICK = (PRODUCE_PER_SEC * TICK_MS) / 1000;

// Hot: events do not wait.
const emitter = new EventEmitter();
let offered = 0;
let hotDelivered = 0;
let hotChannel: Channel<number> | undefined;
const hotMeter = new StageMeter('hot-sink');
const producer = setInterval(() => {
  for (let i = 0; i < PER_TICK; i++) emitter.emit('event', offered++);
}, TICK_MS);
const hot = forEach(
  pipe(
    fromEvents<number>(emitter, 'event', { capacity, overflow: 'drop-oldest', endEvent: 'end', onChannel: (c) => (hotChannel = c) }),
    throttle(new TokenBucket({ name: 'hot-consumer', rate: CONSUME_PER_SEC, burst: 50 })),
    metered(hotMeter),
  ),
  () => void hotDelivered++,
  { batch: 16 },
);

// Cold: a producer that can wait, paced at 10,000/s at most.
let produced = 0;
let coldDelivered = 0;
let coldChannel: Channel<number> | undefined;
let stop = false;
const coldMeter = new StageMeter('cold-sink');
async function* coldSource(): AsyncGenerator<number> {
  const started = performance.now();
  while (!stop) {
    const due = ((performance.now() - started) * PRODUCE_PER_SEC) / 1000;
    if (produced >= due) await new Promise((r) => setTimeout(r, TICK_MS));
    else yield produced++;
  }
}
const cold = forEach(
  pipe(
    fromAsyncIterable(coldSource()),
    buffer(capacity, 'block', { onChannel: (c) => (coldChannel = c) }),
    throttle(new TokenBucket({ name: 'cold-consumer', rate: CONSUME_PER_SEC, burst: 50 })),
    metered(coldMeter),
  ),
  () => void coldDelivered++,
  { batch: 16 },
);

const mb = (): string => `${(process.memoryUsage().rss / 1024 / 1024).toFixed(1)} MB`;
const pad = (s: string | number, n: number): string => String(s).padStart(n);
console.log(`producer ${PRODUCE_PER_SEC.toLocaleString('en-US')}/s, consumer ${CONSUME_PER_SEC.toLocaleString('en-US')}/s, buffers of ${capacity.toLocaleString('en-US')}, ${seconds} s`);
console.log(`${'s'.padStart(3)} | ${'hot: offered'.padStart(12)} ${pad('delivered', 9)} ${pad('demand', 6)} ${pad('buffer', 6)} ${pad('dropped', 7)} | ${'cold: produced'.padStart(14)} ${pad('delivered', 9)} ${pad('demand', 6)} ${pad('buffer', 6)} ${pad('lost', 4)} | RSS`);
let second = 0;
const report = setInterval(() => {
  second++;
  const h = hotChannel?.stats();
  const c = coldChannel?.stats();
  console.log(
    `${pad(second, 3)} | ${pad(offered.toLocaleString('en-US'), 12)} ${pad(hotDelivered.toLocaleString('en-US'), 9)} ${pad(hotMeter.demand, 6)} ${pad(h?.size ?? 0, 6)} ${pad((h?.dropped ?? 0).toLocaleString('en-US'), 7)} | ${pad(produced.toLocaleString('en-US'), 14)} ${pad(coldDelivered.toLocaleString('en-US'), 9)} ${pad(coldMeter.demand, 6)} ${pad(c?.size ?? 0, 6)} ${pad(produced - coldDelivered - (c?.size ?? 0) > 1 + 16 + 1 ? produced - coldDelivered - (c?.size ?? 0) : 0, 4)} | ${mb()}`,
  );
  if (second >= seconds) {
    clearInterval(report);
    clearInterval(producer);
    stop = true;
    emitter.emit('end');
  }
}, 1000);

await Promise.all([hot, cold]);
const h = hotChannel!.stats();
const accounted = hotDelivered + h.dropped + h.undelivered + h.size;
console.log(`\nhot:  ${offered.toLocaleString('en-US')} offered = ${hotDelivered.toLocaleString('en-US')} delivered + ${h.dropped.toLocaleString('en-US')} dropped (counted, drop-oldest) + ${(accounted - hotDelivered - h.dropped).toLocaleString('en-US')} in flight at the end${accounted === offered ? '' : ` (unaccounted: ${offered - accounted})`}`);
console.log(`cold: ${produced.toLocaleString('en-US')} produced, ${coldDelivered.toLocaleString('en-US')} delivered, nothing dropped: the generator was asked only as fast as the consumer went`);
