// bench/redis-remote.ts leaves no key behind in the Redis it ran on (the shared one serves every
// session): before, its rate states and the store's probe key stayed under `bench-remote-<pid>:`
// until they expired, and a pid reused by a later run shared them. A tiny run (1 round of 50 ms
// at 2000/s) against a redis-server of the test's own, then its keys counted.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedisServer, OwnRedis } from '../redis/servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const can = haveRedisServer();

describe.skipIf(!can)('bench/redis-remote.ts', () => {
  let own: OwnRedis | undefined;
  beforeAll(async () => {
    own = await OwnRedis.start();
  });
  afterAll(async () => {
    await own?.dispose();
  });

  it('deletes the keys it wrote, under a prefix of its own', async () => {
    const raw = new Redis(own!.url);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/redis-remote.ts', '--rate=2000', '--ms=50', '--rounds=1'], {
        cwd: root,
        env: { ...process.env, REDIS_URL: own!.url },
        timeout: 60_000,
      });
      expect(stdout).toMatch(/^sluice +at 2000\/s/m);
      const info = await raw.info('stats');
      // The run looked keys up (the sluice rounds' rate states, read and written by their scripts)…
      expect(Number(/keyspace_misses:(\d+)/.exec(info)?.[1] ?? 0) + Number(/keyspace_hits:(\d+)/.exec(info)?.[1] ?? 0)).toBeGreaterThan(0);
      // …and none is left. Before: ['bench-remote-<pid>:gcra{t0}:g', …]
      expect(await raw.keys('*')).toEqual([]);
    } finally {
      raw.disconnect();
    }
  }, 90_000);
});
