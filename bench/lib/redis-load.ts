/**
 * Load and measurement for bench:redis: closed-loop callers, an open-loop (paced) run,
 * Redis's own accounting of script time (INFO commandstats), and redis-benchmark's ceiling.
 */
import { execFileSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { RATE_ONE_SCRIPT } from '../../src/redis/rate-scripts.js';

export type Decide = (key: string) => Promise<unknown>;

export interface Run {
  /** Decisions answered. */
  n: number;
  seconds: number;
  /** Each decision's time from call to answer, ms. */
  lat: number[];
  /** This process's CPU (user + system) per decision, µs. */
  cpuUs: number;
  /** Redis's time in EVALSHA per decision, µs (INFO commandstats; the whole server's). */
  redisUs: number;
}

let turn = 0;
/** The bench's keys: `keys` tenants in turn. */
export function nextKey(keys: number): string {
  return `t${turn++ % keys}`;
}

/** Delete every key under `prefix` (SCAN, then DEL): a bench run's keys, at its end. */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

/** Redis's total µs spent in EVALSHA so far (every client's). */
export async function evalshaUsec(info: Redis): Promise<number> {
  return (await evalshaStats(info)).usec;
}

/** Redis's EVALSHA calls and µs in them so far (every client's). */
export async function evalshaStats(info: Redis): Promise<{ calls: number; usec: number }> {
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await info.info('commandstats'));
  return m === null ? { calls: 0, usec: 0 } : { calls: Number(m[1]), usec: Number(m[2]) };
}

/** `concurrency` callers, each deciding in a loop for `ms`. */
export async function closedLoop(decide: Decide, concurrency: number, ms: number, keys: number, info: Redis): Promise<Run> {
  const lat: number[] = [];
  let n = 0;
  const u0 = await evalshaUsec(info);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await decide(nextKey(keys));
        lat.push(performance.now() - s);
        n++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const u1 = await evalshaUsec(info);
  return { n, seconds, lat, cpuUs: (cpu.user + cpu.system) / Math.max(1, n), redisUs: (u1 - u0) / Math.max(1, n) };
}

/**
 * Open loop: decisions issued at `rate` per second for `ms`, whatever the answers do, on
 * the event loop's timers (each turn issues the decisions due since the last). Latency is
 * from each call to its answer; `behindMs` is how far the issuing fell behind schedule at
 * worst (a process that cannot keep up shows it here, not as a lower rate).
 *
 * `arrival`: 'tick' issues a turn's due decisions together (a timer callback making ~rate/1000
 * calls: one batch); 'spread' issues each from a macrotask of its own (setImmediate), as
 * requests arriving in separate I/O callbacks do — Node runs the nextTick and microtask
 * queues between them, so a store that batches per tick sees one decision at a time.
 * 'socket' makes them real I/O callbacks: each decision is one byte written by one of
 * {@link SOCKET_CLIENTS} loopback TCP clients (in turn) to a server in this process, whose
 * 'data' handler decides once per byte read; latency counts from the write (the loopback's
 * time is in every contender's figures: noop's shows it).
 */
export async function openLoop(decide: Decide, rate: number, ms: number, keys: number, info: Redis, arrival: Arrival = 'tick'): Promise<Run & OpenExtra> {
  const total = Math.floor((rate * ms) / 1000);
  // Sized once: arrays grown while the load runs would be the harness's garbage, collected in
  // pauses that the decisions in flight (a limiter's, not noop's) would take.
  const lat = new Float64Array(total);
  // From the moment each decision was due (coordinated omission: issuing late counts too).
  const fromSchedule = new Float64Array(total);
  let issued = 0;
  let answered = 0;
  let behindMs = 0;
  const e0 = await evalshaStats(info);
  // How late the event loop ran its timers meanwhile: a decision in flight during a stall of
  // the process (descheduled, GC) is answered no sooner than the stall ends, whatever the store.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  // This process's garbage-collection pauses meanwhile (whoever's garbage: the harness allocates
  // the same per decision for every contender, so a difference between contenders is theirs).
  const gcs: number[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push(e.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const sockets = arrival === 'socket' ? await socketArrivals(decide, keys) : undefined;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const onAnswer = (s: number, due: number) => (): void => {
      const t = performance.now();
      lat[answered] = t - s;
      fromSchedule[answered] = t - due;
      if (++answered === total) resolve();
    };
    // Decision `i` (1-based) falls due when (now - t0) · rate / 1000 reaches it.
    const issue = (i: number): void => {
      const a = onAnswer(performance.now(), t0 + (i * 1000) / rate);
      if (sockets !== undefined) sockets.send(i, a);
      else void decide(nextKey(keys)).then(a, a);
    };
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) * rate) / 1000));
      if (issued < due) behindMs = Math.max(behindMs, now - (t0 + (issued * 1000) / rate));
      while (issued < due) {
        issued++;
        if (arrival === 'spread') setImmediate(issue, issued);
        else issue(issued);
      }
      if (issued < total) setTimeout(tick, 0);
    };
    tick();
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  await sockets?.close();
  loop.disable();
  const e1 = await evalshaStats(info);
  // The observer delivers entries asynchronously: the round's last ones are in by now.
  gcObserver.disconnect();
  // The histogram's delays include the 1 ms resolution timer's own period: subtract it.
  const late = (ns: number): number => Math.max(0, ns / 1e6 - 1);
  return { n: answered, seconds, lat: Array.from(lat), fromSchedule: Array.from(fromSchedule), gcMsPerSecond: gcs.reduce((t, x) => t + x, 0) / seconds, gcMaxMs: Math.max(0, ...gcs), cpuUs: (cpu.user + cpu.system) / Math.max(1, answered), redisUs: (e1.usec - e0.usec) / Math.max(1, answered), callsPerDecision: (e1.calls - e0.calls) / Math.max(1, answered), behindMs, loopP99Ms: late(loop.percentile(99)), loopMaxMs: late(loop.max) };
}

export type Arrival = 'tick' | 'spread' | 'socket';

/** Loopback TCP clients of the 'socket' arrival. */
export const SOCKET_CLIENTS = 128;

/**
 * The 'socket' arrival: a server on 127.0.0.1 in this process and {@link SOCKET_CLIENTS}
 * clients; `send(i, done)` writes one byte on client i mod N, and the server's 'data' handler
 * makes one decision per byte it reads, calling that byte's `done` with the answer.
 */
async function socketArrivals(decide: Decide, keys: number): Promise<{ send(i: number, done: () => void): void; close(): Promise<void> }> {
  const waiting: (() => void)[][] = Array.from({ length: SOCKET_CLIENTS }, () => []);
  const accepted: Socket[] = [];
  const byte = Buffer.from([1]);
  const server = createServer((s) => {
    s.setNoDelay(true);
    accepted.push(s);
    let id = -1;
    s.on('data', (buf) => {
      let from = 0;
      // The client's first byte says which it is (its FIFO of `done`s).
      if (id === -1) {
        id = buf[0]! - 100;
        from = 1;
      }
      const q = waiting[id]!;
      for (let k = from; k < buf.length; k++) {
        const done = q.shift()!;
        void decide(nextKey(keys)).then(done, done);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const clients = await Promise.all(
    Array.from({ length: SOCKET_CLIENTS }, (_, j) => new Promise<Socket>((resolve) => {
      const c = createConnection({ port, host: '127.0.0.1', noDelay: true }, () => {
        c.write(Buffer.from([100 + j]));
        resolve(c);
      });
    })),
  );
  while (accepted.length < SOCKET_CLIENTS) await new Promise((r) => setTimeout(r, 1));
  await new Promise((r) => setTimeout(r, 20));
  return {
    send(i, done) {
      const j = i % SOCKET_CLIENTS;
      waiting[j]!.push(done);
      clients[j]!.write(byte);
    },
    async close() {
      for (const c of clients) c.destroy();
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface OpenExtra {
  /** EVALSHA calls per decision (every client's: run it on a Redis of its own). */
  callsPerDecision: number;
  behindMs: number;
  loopP99Ms: number;
  loopMaxMs: number;
  fromSchedule: number[];
  /** Garbage-collection pauses of this process during the round: ms per second of the round, and the longest. */
  gcMsPerSecond: number;
  gcMaxMs: number;
}

export function quantile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Whether redis-benchmark is on the PATH. */
export function hasRedisBenchmark(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v redis-benchmark'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * redis-benchmark's requests/s for `EVALSHA sha <keys> <args>` (50 clients, pipeline `-P`,
 * `__rand_int__` in a key replaced by a random tenant each time).
 */
export function redisBenchmark(url: string, pipeline: number, requests: number, keys: number, command: string[]): number {
  const u = new URL(url.includes('://') ? url : `redis://${url}`);
  const out = execFileSync('redis-benchmark', ['-h', u.hostname, '-p', u.port || '6379', '-c', '50', '-n', String(requests), '-P', String(pipeline), '-r', String(keys), '--csv', ...command], { encoding: 'utf8', timeout: 120_000 });
  // --csv: a header line, then "test","rps",...
  const row = out.trim().split('\n').at(-1)!.split(',').map((x) => x.replace(/"/g, ''));
  return Math.round(Number(row[1]));
}

/**
 * redis-benchmark's decisions/s for sluice's one-decision script — what the store sends for a
 * lone decision — on random tenants under `prefix`, 50 clients, pipeline `-P`: the ceiling the
 * open loops run at half of.
 */
export async function oneDecisionCeiling(url: string, info: Redis, prefix: string, keys: number, pipeline: number, requests: number): Promise<number> {
  const sha = String(await info.script('LOAD', RATE_ONE_SCRIPT));
  return redisBenchmark(url, pipeline, requests, keys, ['EVALSHA', sha, '1', `${prefix}rb:{__rand_int__}:g`, 'g', '1000', '1000', '1000', 'c', '1', '0']);
}

/**
 * A Decide whose calls of one tick (up to `max`) share one `send()`: each resolves with that
 * call's reply. The shape of sluice's batching (rate-batch.ts) around any one command.
 */
export function tickBatched(send: () => Promise<unknown>, max: number): Decide {
  let pending: Promise<unknown> | undefined;
  let n = 0;
  return () => {
    if (pending === undefined || n >= max) {
      n = 0;
      const p = new Promise<unknown>((resolve) => process.nextTick(() => {
        if (pending === p) pending = undefined;
        resolve(send());
      }));
      pending = p;
    }
    n++;
    return pending;
  };
}
