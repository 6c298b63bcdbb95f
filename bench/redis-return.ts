// How long after Redis returns a RedisStore is back to shared state: a redis-server of our own
// (free port) is stopped by SIGKILL to its PID for `downMs`, started again on the same port;
// from the moment it answers PING to the store's health 'shared'. Loopback, bounded: `rounds`.
// Usage: tsx bench/redis-return.ts [rounds=8] [downMs=3000] [probeMs=500]
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisStore } from '../src/redis/index.js';

const rounds = Number(process.argv[2] ?? 8);
const downMs = Number(process.argv[3] ?? 3000);
const probeMs = Number(process.argv[4] ?? 500);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'sluice-return-'));
let child: ChildProcess | undefined;
/** Start redis-server on `port`; resolves once it answers PING. */
async function start(): Promise<void> {
  child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (;;) {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    c.on('error', () => undefined);
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return;
    } catch {
      // not up yet
    } finally {
      c.disconnect();
    }
    await sleep(5);
  }
}
/** SIGKILL by PID, and wait for the exit. */
async function stop(): Promise<void> {
  const c = child!;
  const exited = new Promise((r) => c.once('exit', r));
  process.kill(c.pid!, 'SIGKILL');
  await exited;
}
await start();
const store = await RedisStore.connect({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'ret:', timeoutMs: 300, probeMs });
const backMs: number[] = [];
try {
  for (let i = 0; i < rounds; i++) {
    await stop();
    // Calls see the outage: the breaker opens.
    for (let j = 0; j < 20 && store.health === 'shared'; j++) {
      await store.client.ping().catch(() => undefined);
      await store.guard.run('', () => store.client.ping()).catch(() => undefined);
      await sleep(20);
    }
    await sleep(downMs + Math.random() * 500);
    await start(); // returns once the server answers PING
    const t0 = performance.now();
    while (store.health !== 'shared' && performance.now() - t0 < 10_000) await sleep(1);
    backMs.push(Math.round(performance.now() - t0));
  }
} finally {
  await store.close();
  await stop();
  rmSync(dir, { recursive: true, force: true });
}
backMs.sort((a, b) => a - b);
console.log(JSON.stringify({ rounds, downMs, probeMs: store.config.probeMs, backMs, max: backMs[backMs.length - 1] }));
