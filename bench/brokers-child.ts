// One consumer of `npm run bench:brokers`, in its own process so its RSS is its own: drains
// `count` messages from `name`, samples RSS and the lag every 100 ms, and prints one JSON line
// when done, with the most messages it held at once (consumer.stats().peakHeld).
import { BrokerConsumer, LagMonitor } from '../src/brokers/index.js';
import type { BrokerName } from '../test/brokers-e2e/fixtures.js';
import { fixture } from '../test/brokers-e2e/fixtures.js';

const a = JSON.parse(process.argv[2]!) as { broker: BrokerName; name: string; count: number; concurrency: number; batch: number; fixedPrefetch?: number };
const source = await fixture(a.broker).open(a.name, a.fixedPrefetch !== undefined ? { fixedPrefetch: a.fixedPrefetch } : {});
const monitor = new LagMonitor(source, { intervalMs: 100 });
let done = 0;
let finish!: () => void;
const finished = new Promise<void>((r) => (finish = r));
const start = performance.now();
const consumer = new BrokerConsumer(source, () => {
  if (++done === a.count) finish();
}, { concurrency: a.concurrency, batch: a.batch });
void monitor.start();
let maxRss = process.memoryUsage.rss();
const lags: number[] = [];
const t = setInterval(() => {
  maxRss = Math.max(maxRss, process.memoryUsage.rss());
  if (!Number.isNaN(monitor.lag)) lags.push(monitor.lag);
}, 100);
await finished;
const seconds = (performance.now() - start) / 1000;
clearInterval(t);
monitor.stop();
// Held: taken from the broker and unsettled — the source's own buffer (RabbitMQ prefetch, Kafka
// partition buffers), the pipeline's queue (up to `batch`), the handlers; its peak, read at every take.
const maxHeld = consumer.stats().peakHeld;
await consumer.stop();
lags.sort((x, y) => x - y);
console.log(JSON.stringify({ messages: a.count, seconds, perSec: a.count / seconds, maxRssMB: maxRss / 2 ** 20, maxHeld, lagP50: lags[Math.floor(lags.length / 2)] ?? 0, lagMax: lags[lags.length - 1] ?? 0 }));
process.exit(0);
