// The failures KafkaSource commits in its offsets' metadata (attempt-ledger.ts): read back as
// written, bounded so a commit never passes Kafka's offset.metadata.max.bytes (which would stop
// the offset moving too), and nobody else's metadata taken for counts.
import { describe, expect, it } from 'vitest';
import { AttemptLedger, formatAttempts, METADATA_MAX_CHARS, parseAttempts } from '../../src/kafka/attempt-ledger.js';

describe('AttemptLedger', () => {
  it('round-trips the failures at or past the committed offset; what is below it is done and forgotten', () => {
    const l = new AttemptLedger();
    l.failed(0, 5n, 1);
    l.failed(0, 9n, 2);
    expect(l.dirty(0)).toBe(true);
    const meta = l.take(0, 5n);
    expect(l.dirty(0)).toBe(false);
    const back = new AttemptLedger();
    back.load(new Map([[0, meta]]));
    expect([back.failures(0, 5n), back.failures(0, 9n), back.failures(0, 6n)]).toEqual([1, 2, 0]);
    expect(parseAttempts(l.take(0, 6n))).toEqual(new Map([[9n, 2]]));
  });

  it('a commit that failed is sent again; an older failure count never replaces a newer one', () => {
    const l = new AttemptLedger();
    l.failed(1, 3n, 2);
    l.take(1, 3n);
    l.unsent(1);
    expect(l.dirty(1)).toBe(true);
    l.failed(1, 3n, 1);
    expect(l.failures(1, 3n)).toBe(2);
  });

  it(`keeps the lowest offsets within ${METADATA_MAX_CHARS} characters (Kafka's default limit is 4096 bytes)`, () => {
    const many = new Map(Array.from({ length: 500 }, (_, i) => [BigInt(1_000_000_000 + i), 3] as const));
    const meta = formatAttempts(many, 0n)!;
    expect(meta.length).toBeLessThanOrEqual(METADATA_MAX_CHARS);
    const kept = parseAttempts(meta);
    expect(kept.size).toBeGreaterThan(10);
    expect([...kept.keys()]).toEqual([...many.keys()].slice(0, kept.size));
  });

  it('metadata of anyone else (or none) counts nothing', () => {
    for (const m of [null, undefined, '', 'event-id-3', 'sluice-attempts:not json', 'sluice-attempts:{"x":1,"7":-1,"8":1.5,"9":"2"}']) expect(parseAttempts(m).size).toBe(0);
    expect(formatAttempts(new Map(), 0n)).toBeNull();
  });
});
