// A Redis that is up but not serving: loading its dataset (-LOADING: at start from a big
// dump, or reloading one under a connected store) or running a long Lua script (-BUSY, past
// busy-reply-threshold). Against redis-servers this file starts itself and stops by PID.
// Decisions go to onStoreError at once, health says fallback with the cause, and the store is
// shared again when Redis serves again.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { disposeAfterEach, freePort, haveRedisServer, killAndWait, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
const policy = ratePolicy({ algorithm: 'gcra', rate: 10, perMs: 60_000, burst: 10, name: 'p' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const disposers = disposeAfterEach();

/** A client that works while Redis is busy or loading: ioredis's ready check (INFO) is refused then. */
function admin(url: string): Redis {
  const c = new Redis(url, { enableReadyCheck: false });
  c.on('error', () => undefined);
  disposers.push(async () => c.disconnect());
  return c;
}

/** Decide once with onStoreError 'closed': whether it was refused as unavailable, and how long it took. */
async function decide(store: RedisStore): Promise<{ unavailable: boolean; ms: number }> {
  const t = performance.now();
  const d = await store.rateStore('lb', { onStoreError: 'closed' }).consume('k', policy, 1, performance.now(), 0);
  return { unavailable: d.unavailable === true, ms: performance.now() - t };
}

async function connect(url: string, connectTimeoutMs = 2000): Promise<RedisStore> {
  // A store timeout far above what a refusal takes on a busy host: 'refused at once, not waited
  // out' is then < half of it, whatever the load (it was 1 s against a bound of 1 s).
  const store = await RedisStore.connect({ url, timeoutMs: 10_000, probeMs: 100, failures: 1, connectTimeoutMs });
  disposers.push(() => store.close());
  return store;
}

describe.skipIf(!can)('a Redis that is up but not serving', () => {
  it('BUSY (a Lua script past busy-reply-threshold): decisions fall back at once, health says BUSY, shared again after SCRIPT KILL', async () => {
    const r = await OwnRedis.start(['--busy-reply-threshold', '50']);
    disposers.push(() => r.dispose());
    const store = await connect(r.url);
    expect((await decide(store)).unavailable).toBe(false);
    const spin = admin(r.url);
    spin.eval('while true do end', 0).catch(() => undefined);
    await sleep(150);
    const during = await decide(store);
    expect(during.unavailable).toBe(true);
    // Refused by Redis, not waited out: well under the 10 s store timeout.
    expect(during.ms).toBeLessThan(5000);
    expect(store.health).toBe('fallback');
    expect(store.lastError).toContain('BUSY');
    expect(await admin(r.url).script('KILL')).toBe('OK');
    expect(await until(() => store.health === 'shared', 5000)).toBe(true);
    expect((await decide(store)).unavailable).toBe(false);
  }, 30_000);

  it('LOADING under a connected store (DEBUG RELOAD of a dump loaded slowly): fallback with LOADING, shared again once loaded', async () => {
    const r = await OwnRedis.start(['--enable-debug-command', 'yes', '--loading-process-events-interval-bytes', '1024']);
    disposers.push(() => r.dispose());
    const a = admin(r.url);
    await a.debug('POPULATE', '3000');
    const store = await connect(r.url);
    expect((await decide(store)).unavailable).toBe(false);
    // 3,000 keys at 300 µs each (or more, on a busy host): the load takes about 1 s, answering -LOADING meanwhile.
    await a.config('SET', 'key-load-delay', '300');
    const reload = a.debug('RELOAD').catch((e: Error) => e.message);
    expect(await until(async () => (await decide(store)).unavailable, 5000)).toBe(true);
    expect(store.health).toBe('fallback');
    // The probes (every 100 ms) are answered -LOADING.
    expect(await until(() => (store.lastError ?? '').includes('LOADING'), 3000)).toBe(true);
    expect(await reload).toBe('OK');
    expect(await until(() => store.health === 'shared', 5000)).toBe(true);
  }, 60_000);

  it('LOADING at start (a big dump): the store says LOADING, not "no connection", and is shared within about 500 ms of the load ending', async () => {
    const seed = await OwnRedis.start(['--enable-debug-command', 'yes']);
    disposers.push(() => seed.dispose());
    const a = admin(seed.url);
    await a.debug('POPULATE', '10000');
    await a.save();
    a.disconnect();
    await seed.stop();
    // The seed's dump, loaded at 300 µs a key: about 3 s of -LOADING.
    const port = await freePort();
    const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', seed.dir, '--key-load-delay', '300', '--loading-process-events-interval-bytes', '1024'], { stdio: 'ignore' });
    disposers.push(() => killAndWait(child));
    const url = `redis://127.0.0.1:${port}`;
    const probe = admin(url);
    expect(await until(async () => (await probe.ping().catch((e: Error) => e.message)) !== 'PONG' && probe.status === 'ready', 5000)).toBe(true);
    const store = await connect(url, 300);
    const d = await decide(store);
    expect(d.unavailable).toBe(true);
    expect(d.ms).toBeLessThan(5000); // refused, not waited out (the store timeout is 10 s)
    expect(store.health).toBe('fallback');
    await until(() => (store.lastError ?? '').includes('LOADING'), 2000);
    expect(store.lastError).toContain('LOADING');
    // Loaded: PING answers.
    expect(await until(async () => (await probe.ping().catch(() => '')) === 'PONG', 20_000)).toBe(true);
    const loadedAt = performance.now();
    expect(await until(() => store.health === 'shared', 5000)).toBe(true);
    // ioredis asks a loading Redis again after the load's ETA (up to 10 s); the store asks every 500 ms.
    expect(performance.now() - loadedAt).toBeLessThan(2500);
    expect((await decide(store)).unavailable).toBe(false);
  }, 90_000);
});
