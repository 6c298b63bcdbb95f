// The store probes Redis as soon as its client is connected again ('ready'), not at the next
// probeMs tick: with probeMs 5 s, shared state was back only once the breaker's open time was
// over (up to 5 s after Redis returned; 2 x probeMs when a tick came a hair early). One probe
// (one PING), the breaker's own half-open one. Against a redis-server of this test's own (free
// port), stopped by SIGKILL to its PID and started again on the same port.
import { describe, expect, it } from 'vitest';
import { haveRedisServer, ownStore, until } from './servers.js';

const can = haveRedisServer();

describe.skipIf(!can)("a store probing on its client's 'ready' (a Redis of our own, stopped by PID)", () => {
  const s = ownStore('ready:', { timeoutMs: 300, probeMs: 5_000, failures: 1 });

  it('is shared again well within probeMs of Redis returning, after one probe', async () => {
    const ping = (): Promise<unknown> => s.store.guard.run('', () => s.store.client.ping()).catch(() => undefined);
    await s.own.stop();
    await ping(); // fails: the breaker opens for probeMs (5 s)
    expect(s.store.health).toBe('fallback');
    const sent = s.store.guard.stats().sent;
    await s.own.start(); // resolves once it answers PING
    // Before, nothing was sent until the open time was over: still 'fallback' after 2 s.
    expect(await until(() => s.store.health === 'shared', 2_000)).toBe(true);
    expect(s.store.guard.stats().sent - sent).toBe(1);
    expect(s.store.guard.stats().shortCircuited).toBe(0);
  });
});
