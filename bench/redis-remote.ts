/**
 * bench:redis's open loop with the load generator in a process of its own (issue #11, redisp99):
 * does the generator's own event loop in the store's process inflate the exact store's p99?
 *
 * This process is the store's: a TCP server on 127.0.0.1 that decides once per 4-byte id it
 * reads and writes the id back (replies of one loop turn in one write per socket). A child
 * process (this file with `--child`) is the generator: an open loop at `--rate` on its timers,
 * ids written round-robin over 16 connections, each latency taken from the write and from the
 * moment the decision was due. Contenders in turn, the same rounds: `sluice` (the exact store,
 * KeyedRateLimiter over RedisStore.rateStore, as bench/redis.ts), `tick-ping` (one PING per
 * turn) and `noop` (answered at once: the floor of the two loopback hops and both processes).
 *
 *   npx tsx bench/redis-remote.ts [--rate=76104] [--ms=2000] [--rounds=4] [--own-redis]
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { KeyedRateLimiter } from '../src/rate/index.js';
import { RedisStore } from '../src/redis/index.js';
import { startOwnRedis } from './lib/own-redis.js';
import { deleteKeys, tickBatched } from './lib/redis-load.js';

const arg = (name: string, d: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
const RATE = arg('rate', 76104);
const MS = arg('ms', 2000);
const ROUNDS = arg('rounds', 4);
const CONNECTIONS = 16;

if (process.argv.includes('--child')) await generator();
else await store();

/** The child: connect, then per round an open loop; report each round's latencies to the parent. */
async function generator(): Promise<void> {
  const port = arg('port', 0);
  const socks: Socket[] = await Promise.all(Array.from({ length: CONNECTIONS }, () => new Promise<Socket>((r) => {
    const s = createConnection({ port, host: '127.0.0.1', noDelay: true }, () => r(s));
  })));
  process.on('message', (m: { round: string }) => void round(m.round));
  process.send!({ ready: true });

  async function round(name: string): Promise<void> {
    const total = Math.floor((RATE * MS) / 1000);
    const sent = new Float64Array(total);
    const due = new Float64Array(total);
    const lat = new Float64Array(total);
    const late = new Float64Array(total);
    let answered = 0;
    await new Promise<void>((resolve) => {
      const onData = (buf: Buffer): void => {
        const t = performance.now();
        for (let o = 0; o + 4 <= buf.length; o += 4) {
          const id = buf.readUInt32LE(o);
          lat[answered] = t - sent[id]!;
          late[answered] = t - due[id]!;
          if (++answered === total) resolve();
        }
      };
      for (const s of socks) s.on('data', onData);
      const t0 = performance.now();
      let issued = 0;
      const tick = (): void => {
        const now = performance.now();
        const n = Math.min(total, Math.floor(((now - t0) * RATE) / 1000));
        const out: Buffer[] = socks.map(() => Buffer.allocUnsafe(4 * (Math.ceil((n - issued) / CONNECTIONS) + 1)));
        const at = new Array<number>(CONNECTIONS).fill(0);
        for (; issued < n; issued++) {
          const j = issued % CONNECTIONS;
          sent[issued] = now;
          due[issued] = t0 + ((issued + 1) * 1000) / RATE;
          out[j]!.writeUInt32LE(issued, at[j]);
          at[j]! += 4;
        }
        for (let j = 0; j < CONNECTIONS; j++) if (at[j]! > 0) socks[j]!.write(out[j]!.subarray(0, at[j]));
        if (issued < total) setTimeout(tick, 0);
      };
      tick();
    });
    for (const s of socks) s.removeAllListeners('data');
    const q = (a: Float64Array, p: number): number => Math.round(a[Math.min(a.length - 1, Math.floor(p * a.length))]! * 1000) / 1000;
    lat.sort();
    late.sort();
    process.send!({ name, p50: q(lat, 0.5), p99: q(lat, 0.99), within1: Math.round((1000 * lat.filter((x) => x <= 1).length) / total) / 10, p99FromSchedule: q(late, 0.99) });
  }
}

/** The parent: the store, the server, the rounds. */
async function store(): Promise<void> {
  const url = process.argv.includes('--own-redis') ? (await startOwnRedis()).url : (process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  const client = new Redis(url);
  // A prefix no other run shares (the shared Redis serves every session), its keys deleted at the end.
  const keyPrefix = `bench-remote-${process.pid}-${randomBytes(4).toString('hex')}:`;
  const rs = await RedisStore.connect({ client, keyPrefix, timeoutMs: 1000 });
  try {
    await rounds(client, rs);
  } finally {
    await rs.close();
    await deleteKeys(client, keyPrefix);
    client.disconnect();
  }
}


/** The server the generator sends to, the contenders in turn, the report. */
async function rounds(client: Redis, rs: RedisStore): Promise<void> {
  const lim = new KeyedRateLimiter({ name: 'bench', policy: { algorithm: 'gcra', rate: 1000, burst: 1000 }, store: rs.rateStore('gcra') });
  let turn = 0;
  const perTick = tickBatched(() => client.ping(), 64);
  const contenders: Record<string, () => Promise<unknown>> = {
    sluice: async () => lim.admit({ key: `t${turn++ % 1000}` }),
    'tick-ping': () => perTick(''),
    noop: () => Promise.resolve(),
  };
  let decide = contenders['noop']!;
  const server = createServer((s) => {
    s.setNoDelay(true);
    let pending: Buffer[] = [];
    const flush = (): void => {
      const b = Buffer.concat(pending);
      pending = [];
      s.write(b);
    };
    s.on('data', (buf) => {
      for (let o = 0; o + 4 <= buf.length; o += 4) {
        const id = buf.subarray(o, o + 4);
        const back = (): void => {
          if (pending.length === 0) setImmediate(flush);
          pending.push(id);
        };
        void decide().then(back, back);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const child = fork(new URL(import.meta.url).pathname, [...process.argv.slice(2), '--child', `--port=${(server.address() as { port: number }).port}`], { execArgv: process.execArgv });
  const next = (): Promise<Record<string, number | string>> => new Promise((r) => child.once('message', r as (m: unknown) => void));
  await next();
  const names = Object.keys(contenders);
  const rows: Record<string, Record<string, number | string>[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = -1; r < ROUNDS; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + Math.max(0, r)) % names.length]!;
      decide = contenders[name]!;
      const got = next();
      child.send({ round: name });
      const m = await got;
      if (r >= 0) rows[name]!.push(m);
    }
  }
  for (const n of names) console.log(`${n.padEnd(9)} at ${RATE}/s, generator in its own process: p99 per round ${rows[n]!.map((m) => m['p99']).join(' ')} ms; p50 ${rows[n]!.map((m) => m['p50']).join(' ')} ms; within 1 ms ${rows[n]!.map((m) => m['within1']).join(' ')} %; p99 from schedule ${rows[n]!.map((m) => m['p99FromSchedule']).join(' ')} ms`);
  child.kill();
  server.close();
}
