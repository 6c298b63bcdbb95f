// A channel across a stall of the event loop (test/stall.ts): a blocked put whose slot a take
// freed during the stall is accepted, and a waiting take an item came for during it gets the
// item — neither refused by its own timer, which fired late because the process was busy. A put
// no take freed a slot for, and a take no item came for, still time out when the loop comes back.
import { describe, expect, it } from 'vitest';
import type { RejectedError } from '../../src/core/index.js';
import { Channel } from '../../src/queue/index.js';
import { closeWires, sendThenStall, wire } from '../stall.js';

closeWires();

const outcome = (p: Promise<unknown>): Promise<unknown> => p.then((v) => v, (e: RejectedError) => e.reason);

describe('a channel across a stalled event loop', () => {
  it('accepts the blocked put whose slot a take freed during the stall (the take was waiting in a socket), and times out the one no slot was freed for', async () => {
    const ch = new Channel<number>({ capacity: 1, overflow: 'block', maxPutWaitMs: 50 });
    await ch.put(0);
    const send = await wire(() => void ch.take());
    const first = outcome(ch.put(1));
    const second = outcome(ch.put(2));
    await sendThenStall(send, 200);
    expect(await first).toBe('accepted');
    expect(await second).toBe('queue_timeout');
  });

  it('hands the waiting take the item put during the stall, and times out the take no item came for', async () => {
    const ch = new Channel<number>({ capacity: 4 });
    const send = await wire(() => void ch.put(7));
    const first = outcome(ch.take({ maxWaitMs: 50 }));
    const second = outcome(ch.take({ maxWaitMs: 50 }));
    await sendThenStall(send, 200);
    expect(await first).toBe(7);
    expect(await second).toBe('queue_timeout');
  });
});
