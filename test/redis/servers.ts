// Redis for the sluice/redis tests. The shared server (REDIS_URL, default 127.0.0.1:6379)
// comes from test/brokers/services.ts: with CI=true a missing one fails the run, otherwise
// its tests are skipped with one loud line. Failure-mode and cluster tests start servers of
// their own (redis-server on a free port, no persistence) and stop them by PID.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { RedisStore } from '../../src/redis/index.js';
import type { RedisStoreOptions } from '../../src/redis/index.js';
import { unique } from '../brokers/services.js';

export { redis as sharedRedis, unique, until } from '../brokers/services.js';

/** SIGKILL `child` by its PID, if it still runs, and wait for its exit. */
export async function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}

/** Whether the server `binary` (its Debian package of the same name) runs here: with CI=true its absence fails, else `tests` are skipped with one loud line. */
export function haveServerBinary(binary: string, tests: string): boolean {
  const ok = spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
  if (!ok) {
    const line = `${binary} not installed (apt-get install ${binary})`;
    if (process.env.CI === 'true') throw new Error(`CI=true and ${line}`);
    console.warn(`\n!!! SKIPPING ${tests} — ${line}\n`);
  }
  return ok;
}

/** Whether redis-server can be run here (with CI=true its absence fails). */
export function haveRedisServer(): boolean {
  return haveServerBinary('redis-server', 'OWN-REDIS TESTS');
}

/** A TCP port nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function pingable(port: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    c.on('error', () => undefined);
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return true;
    } catch {
      // not up yet
    } finally {
      c.disconnect();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** A server process of the test's own on `port`, with a temp folder: stopped by SIGKILL to its PID, the folder removed by dispose. */
export abstract class OwnServer {
  protected child: ChildProcess | undefined;

  protected constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  abstract start(): Promise<void>;

  /** SIGKILL by PID and wait for the exit. */
  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    await killAndWait(c);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A redis-server of the test's own: start, stop (SIGKILL by PID) and start again on the same port. */
export class OwnRedis extends OwnServer {
  readonly #extra: readonly string[];

  private constructor(port: number, extra: readonly string[]) {
    super(port, mkdtempSync(join(tmpdir(), 'sluice-redis-')));
    this.#extra = extra;
  }

  static async start(extra: readonly string[] = []): Promise<OwnRedis> {
    return OwnRedis.startOn(await freePort(), extra);
  }

  static async startOn(port: number, extra: readonly string[] = []): Promise<OwnRedis> {
    const r = new OwnRedis(port, extra);
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child !== undefined) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.#extra];
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    if (!(await pingable(this.port, 10_000))) throw new Error(`redis-server on port ${this.port} did not answer PING within 10 s`);
  }
}

/**
 * Hooks for a file (or a describe) with a redis-server of its own on a free port and a plain
 * client to it, given to `set` before its tests; after them the client is closed and the server
 * stopped by PID. No fixed port: one inside the host's ephemeral range (32768–60999 here) can be
 * held by any outgoing connection at that moment.
 */
export function useOwnRedis(set: (own: OwnRedis, raw: Redis) => void): void {
  let own: OwnRedis | undefined;
  let raw: Redis | undefined;
  beforeAll(async () => {
    own = await OwnRedis.start();
    raw = new Redis(own.url);
    set(own, raw);
  });
  afterAll(async () => {
    raw?.disconnect();
    await own?.dispose();
  });
}

/**
 * Hooks for a file whose RedisStores each play a process on the shared Redis: `proc()`
 * connects one (closed after the file), `raw` is a plain client, `prefix` the file's keys.
 */
export function useProcesses(url: string, name: string): { proc: () => Promise<RedisStore>; raw: () => Redis; prefix: () => string } {
  const stores: RedisStore[] = [];
  let raw: Redis | undefined;
  let prefix = '';
  beforeAll(() => {
    prefix = `${unique(name)}:`;
    raw = new Redis(url);
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    raw?.disconnect();
  });
  return {
    proc: async () => {
      const s = await RedisStore.connect({ url, keyPrefix: prefix, timeoutMs: 2000 });
      stores.push(s);
      return s;
    },
    raw: () => raw!,
    prefix: () => prefix,
  };
}

/**
 * Hooks for a file with one RedisStore on the shared Redis under a key prefix of its own
 * (`name` made unique) and a plain client beside it, given to `set` before the file's tests;
 * after them the prefix's keys are deleted and both are closed.
 */
export function usePrefixedStore(url: string, name: string, set: (store: RedisStore, raw: Redis) => void): void {
  let store: RedisStore | undefined;
  let raw: Redis | undefined;
  beforeAll(async () => {
    store = await RedisStore.connect({ url, keyPrefix: `${unique(name)}:`, timeoutMs: 5000 });
    raw = new Redis(url);
    set(store, raw);
  });
  afterAll(async () => {
    if (store === undefined || raw === undefined) return;
    const keys = await raw.keys(`${store.config.keyPrefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    await store.close();
    raw.disconnect();
  });
}

/** Replies ioredis waits for on `store`'s connection: commands written and not yet answered. */
export function awaitingReply(store: RedisStore): number {
  return (store.client as unknown as { commandQueue: { length: number } }).commandQueue.length;
}

/** The next turn of the event loop (its check phase). */
/** Redis's EVALSHA and EVAL calls so far. */
export async function scriptCalls(raw: Redis): Promise<number> {
  const s = await raw.info('commandstats');
  let n = 0;
  for (const m of s.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)) n += Number(m[1]);
  return n;
}

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A redis-server of the describe block's own, a store on it under `keyPrefix` (and `options`) and a plain client: started before its tests, stopped after. */
export function ownStore(keyPrefix: string, options: Omit<RedisStoreOptions, 'url' | 'keyPrefix'> = {}): { own: OwnRedis; store: RedisStore; raw: Redis } {
  const s = {} as { own: OwnRedis; store: RedisStore; raw: Redis };
  beforeAll(async () => {
    s.own = await OwnRedis.start();
    s.store = await RedisStore.connect({ url: s.own.url, keyPrefix, timeoutMs: 10_000, ...options });
    s.raw = new Redis(s.own.url);
    // The tests stop this server: the client's reconnects fail meanwhile, an 'error' event each (without a listener ioredis prints each one as unhandled).
    s.raw.on('error', () => undefined);
  });
  afterAll(async () => {
    await s.store?.close();
    s.raw?.disconnect();
    await s.own?.dispose();
  });
  return s;
}

/** A redis-server of the block's own that DEBUG SLEEP may stall, a store on it (timeout 150 ms, breaker after `failures`), and an admin client. */
export function sleepyRedis(failures: number, keyPrefix = 'orphan:'): { admin: () => Redis; store: () => RedisStore } {
  let own: OwnRedis | undefined;
  let admin: Redis | undefined;
  let store: RedisStore | undefined;
  beforeAll(async () => {
    own = await OwnRedis.start(['--enable-debug-command', 'yes']);
    admin = new Redis(own.url);
    admin.on('error', () => undefined);
    store = await RedisStore.connect({ url: own.url, keyPrefix, timeoutMs: 150, probeMs: 100, failures });
  });
  afterAll(async () => {
    await store?.close();
    admin?.disconnect();
    await own?.dispose();
  });
  return { admin: () => admin!, store: () => store! };
}

/** Cleanups each test of the file pushes, run after it, last first (a store before its server); a failed one does not stop the rest. */
export function disposeAfterEach(): (() => Promise<void>)[] {
  const list: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const d of list.splice(0).reverse()) await d().catch(() => undefined);
  });
  return list;
}

/** Every key matching `match` (SCAN, all of it). */
export async function keysUnder(raw: Redis, match: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    out.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return out;
}
