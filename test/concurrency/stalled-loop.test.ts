// A stall of the event loop (a long synchronous run: a big JSON.parse, a GC pause, a CPU-bound
// handler) must not refuse the waiters it held as queue_timeout when the slots they waited for
// were freed during it. After the stall Node runs expired timers first, then reads the sockets:
// each waiter's deadline, passed during the stall, fired before the release already waiting in
// a socket (an upstream's answer) was read, and the waiter that release would have served was
// refused queue_timeout — the process's own lateness taken for the upstream's (as the Redis
// store's guard already avoids: store-guard.ts). A waiter whose slot was not freed is still
// refused when the loop comes back. Real loop, loopback socket; the stall is a busy wait.
import { describe, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { closeWires, servesTheFreedWaiter } from '../stall.js';

closeWires();

describe('a concurrency gate across a stalled event loop', () => {
  it('serves a waiter whose slot was freed during the stall (the release was waiting in a socket), and refuses the one whose slot was not', async () => {
    await servesTheFreedWaiter(new ConcurrencyGate({ limit: 2, maxQueue: 10, maxWaitMs: 50 }));
  });
});
