// A shared concurrency gate closed while its store is away (a redis-server of the test's own
// made to DEBUG SLEEP, stopped by PID after): the lease it held and the id of an acquire that
// timed out here but ran in Redis when it woke are owed to Redis. Before, close() gave back
// nothing outside 'shared' mode (and a give-back that failed was never tried again): both
// stayed counted against every process for the lease TTL (a minute here). Now the gate gives
// back everything owed once the store answers again.
import { describe, expect, it } from 'vitest';
import type { OnStoreError } from '../../src/redis/index.js';
import { haveRedisServer, sleepyRedis, until } from './servers.js';

const can = haveRedisServer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!can)('SharedConcurrencyGate.close() in a failure mode gives back what Redis still counts for it', () => {
  const { admin, store } = sleepyRedis(1, 'owed:');

  for (const mode of ['local', 'open', 'closed'] as const satisfies readonly OnStoreError[]) {
    it(`onStoreError '${mode}': the held lease and the timed-out acquire's id go back once Redis answers, not after the TTL`, async () => {
      const gate = store().concurrency({ name: `close-${mode}`, limit: 4, leaseTtlMs: 60_000, onStoreError: mode });
      const leases = (): Promise<number> => admin().zcard(gate.leases.key);
      const p = await gate.admit();
      expect(p.ok).toBe(true);
      expect(await leases()).toBe(1);
      // Redis sleeps 1 s: the acquire for a second caller times out here (the breaker opens) and runs when Redis wakes.
      const slept = admin().call('DEBUG', 'SLEEP', '1');
      await sleep(100);
      const r = await gate.admit();
      expect(r.ok).toBe(mode !== 'closed');
      expect(gate.stats().mode).toBe('fallback');
      if (p.ok) p.release();
      if (r.ok) r.release();
      gate.close();
      await slept;
      // Redis now counts the held lease and the one its late acquire took: both owed by the closed gate.
      expect(await until(() => store().health === 'shared', 3000)).toBe(true);
      await until(async () => (await leases()) === 0, 2000);
      expect(await leases()).toBe(0);
    });
  }
});
