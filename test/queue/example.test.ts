/** The usage example from the queue's documentation, executed so it cannot rot. */
import { expect, it } from 'vitest';
import { RejectedError, VirtualClock } from '../../src/core/index.js';
import { Channel } from '../../src/queue/index.js';

it('runs the documented example', async () => {
  const clock = new VirtualClock(); // omit in production: the system clock is the default
  const dropped: string[] = [];
  const jobs = new Channel<string>({
    capacity: 2,
    overflow: 'drop-oldest',
    onDrop: (job, policy) => dropped.push(`${job} (${policy})`),
    clock,
  });

  await jobs.put('a');
  await jobs.put('b');
  expect(await jobs.put('c')).toBe('accepted'); // full: 'a' is evicted and reported
  jobs.close(); // no more puts; what is queued can still be taken

  const done: string[] = [];
  for await (const job of jobs) done.push(job); // ends when closed and drained
  expect(done).toEqual(['b', 'c']);
  expect(dropped).toEqual(['a (drop-oldest)']);
  expect(jobs.stats()).toMatchObject({ admitted: 3, taken: 2, dropped: 1 });

  // Blocking with a deadline, and a retry hint when it fails.
  const orders = new Channel<number>({ capacity: 1, maxPutWaitMs: 100, clock });
  await orders.put(1);
  const second = orders.put(2).catch((err: unknown) => err);
  clock.advance(100);
  const err = await second;
  expect(err).toBeInstanceOf(RejectedError);
  expect((err as RejectedError).reason).toBe('queue_timeout');
});
