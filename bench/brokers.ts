/**
 * `npm run bench:brokers` — messages/s consumed per broker, demand-sized fetching against a
 * fixed prefetch, with the lag and the consumer's RSS, in one run.
 *
 * For each reachable broker, a backlog of N messages (256 B) is drained twice by a consumer
 * process (bench/brokers-child.ts) with a no-op handler and 16 handlers at once:
 *   demand-sized  batch 1: one message asked per message finished (RabbitMQ: adaptive prefetch;
 *                 Kafka: fetches sized to the buffers' room, 64 a partition)
 *   fixed         batch 256: 256 asked at a time (RabbitMQ: prefetch fixed at 256; Kafka:
 *                 fetches of the 1 MiB-a-partition ceiling into buffers of 256 a partition)
 * Reported per run: messages/s, peak RSS of the consumer process, peak messages it held (taken
 * from the broker and unsettled: the source's buffer, the pipeline's queue, the handlers —
 * consumer.stats().peakHeld, read at every take), and the lag sampled every 100 ms (median, max). Results go to
 * bench/results/brokers-latest.{json,md}. Kafka and SQS need their servers:
 * `eval "export $(bash scripts/brokers/kafka.sh start)"` and the same with elasticmq.sh.
 *
 *   npm run bench:brokers               N = 20,000
 *   npm run bench:brokers -- --quick    N = 5,000
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrokerName } from '../test/brokers-e2e/fixtures.js';
import { FIXTURES, fixture } from '../test/brokers-e2e/fixtures.js';
import { kafka, nats, rabbitmq, redis, sqs, unique } from '../test/brokers/services.js';

const N = process.argv.includes('--quick') ? 5_000 : 20_000;
const CHILD = fileURLToPath(new URL('./brokers-child.ts', import.meta.url));
const up: Record<BrokerName, boolean> = { rabbitmq: (await rabbitmq()).up, jetstream: (await nats()).up, 'redis-streams': (await redis()).up, kafka: (await kafka()).up, sqs: (await sqs()).up };

interface Row {
  broker: string;
  mode: string;
  messages: number;
  seconds: number;
  perSec: number;
  maxRssMB: number;
  maxHeld: number;
  lagP50: number;
  lagMax: number;
}

const rows: Row[] = [];
for (const broker of Object.keys(up) as BrokerName[]) {
  if (!up[broker] || FIXTURES[broker] === undefined) {
    console.log(`${broker}: not reachable or no fixture, skipped`);
    continue;
  }
  for (const mode of ['demand-sized', 'fixed'] as const) {
    const fx = fixture(broker);
    const name = unique(`bench-${broker}`);
    await fx.fill(name, N, 256);
    const args = { broker, name, count: N, concurrency: 16, batch: mode === 'fixed' ? 256 : 1, ...(mode === 'fixed' && (broker === 'rabbitmq' || broker === 'kafka') ? { fixedPrefetch: 256 } : {}) };
    try {
      const out = execFileSync(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'ignore'] });
      const r = JSON.parse(out.trim().split('\n').pop()!) as Omit<Row, 'broker' | 'mode'>;
      rows.push({ broker, mode, ...r });
      console.log(`${broker.padEnd(14)} ${mode.padEnd(13)} ${Math.round(r.perSec).toLocaleString('en-US').padStart(8)} msg/s  RSS ${r.maxRssMB.toFixed(0)} MB  held ≤ ${r.maxHeld}  lag p50 ${r.lagP50}`);
    } finally {
      await fx.cleanup(name);
    }
  }
}

const md = [
  `# Broker consumers: demand-sized vs fixed prefetch`,
  '',
  `\`npm run bench:brokers\`, ${new Date().toISOString()}, Node ${process.version}; ${N.toLocaleString('en-US')} messages of 256 B per run, no-op handler, 16 at once.`,
  'demand-sized: one message asked per message finished (RabbitMQ adaptive prefetch; Kafka fetches sized to the room in 64-a-partition buffers). fixed: 256 asked at a time (RabbitMQ prefetch 256; Kafka 1 MiB-a-partition fetches into 256-a-partition buffers).',
  'held: messages taken from the broker and not yet settled (the source\'s buffer, the pipeline\'s queue, the handlers; its peak, `consumer.stats().peakHeld`, read at every take). Lag sampled every 100 ms.',
  '',
  '| broker | mode | msg/s | ratio to fixed | peak RSS MB | peak held | lag p50 | lag max |',
  '|:--|:--|--:|--:|--:|--:|--:|--:|',
  ...rows.map((r) => {
    const fixed = rows.find((x) => x.broker === r.broker && x.mode === 'fixed');
    const ratio = fixed !== undefined ? (r.perSec / fixed.perSec).toFixed(2) : '—';
    return `| ${r.broker} | ${r.mode} | ${Math.round(r.perSec).toLocaleString('en-US')} | ${ratio} | ${r.maxRssMB.toFixed(0)} | ${r.maxHeld} | ${r.lagP50} | ${r.lagMax} |`;
  }),
  '',
];
const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('brokers-latest.json', dir), JSON.stringify({ at: new Date().toISOString(), node: process.version, messages: N, rows }, null, 2) + '\n');
writeFileSync(new URL('brokers-latest.md', dir), md.join('\n'));
console.log(md.join('\n'));
