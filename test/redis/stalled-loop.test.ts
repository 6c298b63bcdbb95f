// A shared concurrency gate across a stall of the event loop (test/stall.ts): a waiter whose
// slot a release freed during the stall is served, not refused queue_timeout by its own timer,
// which fired late because the process was busy; a waiter no slot was freed for is still
// refused when the loop comes back. Against a redis-server of this test's own (free port,
// stopped by PID after).
import { describe, it } from 'vitest';
import { closeWires, servesTheFreedWaiter } from '../stall.js';
import { haveRedisServer, ownStore } from './servers.js';

const can = haveRedisServer();
closeWires();

describe.skipIf(!can)('a shared concurrency gate across a stalled event loop (a Redis of our own)', () => {
  const s = ownStore('stall:');

  it('serves the waiter whose slot a release freed during the stall (the release was waiting in a socket), and refuses the one whose slot was not', async () => {
    const gate = s.store.concurrency({ name: 'stalled', limit: 2, maxQueue: 10, maxWaitMs: 50 });
    await servesTheFreedWaiter(gate);
    gate.close();
  });
});
