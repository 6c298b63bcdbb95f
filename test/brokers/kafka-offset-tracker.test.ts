// OffsetTracker.uncommitted: what a KafkaSource reports as finished here and not yet stored by a
// commit — what the group reads again if the member goes now (the stop during an outage says it).
import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../../src/kafka/index.js';

describe('OffsetTracker.uncommitted', () => {
  it('counts finished messages until a commit covers them; one above an unfinished one stays counted', () => {
    const t = new OffsetTracker();
    for (const o of [5n, 6n, 7n]) t.track(o);
    expect(t.uncommitted).toBe(0);
    t.done(5n);
    t.done(7n);
    expect(t.uncommitted).toBe(2);
    expect(t.committable()).toBe(6n);
    t.committed(6n); // 5 stored; 7 is above the unfinished 6
    expect(t.uncommitted).toBe(1);
    t.done(6n);
    expect(t.uncommitted).toBe(2);
    t.committed(t.committable()!);
    expect(t.uncommitted).toBe(0);
  });

  it('a commit that failed leaves them counted; a message finished twice counts once', () => {
    const t = new OffsetTracker();
    t.track(0n);
    t.done(0n);
    t.done(0n);
    expect(t.uncommitted).toBe(1);
    expect(t.committable()).toBe(1n); // not committed: the broker never said so
    expect(t.uncommitted).toBe(1);
  });
});
