// The Max-Forwards forwarded on OPTIONS and TRACE is one less than received, exactly, for a
// value of any length (RFC 9110 7.6.2: 1*DIGIT) — checked against BigInt's arithmetic.
import { describe, expect, it } from 'vitest';
import { decremented } from '../../src/gateway/max-forwards.js';

const exact = (v: string): string => String(BigInt(v) - 1n);

describe('Max-Forwards decremented', () => {
  it('is one less for short values, leading zeros dropped', () => {
    for (const v of ['1', '2', '10', '100', '0001', '007', '999999999999999', '000000000000000000010']) expect(decremented(v), v).toBe(exact(v));
  });

  it('is one less for values past 2^53 and of thousands of digits, borrows across zeros', () => {
    const values = ['9007199254740993', '10000000000000000', '1' + '0'.repeat(40), '1000000000000000000000000000001', '9'.repeat(16_000), '1' + '0'.repeat(16_000), '000' + '1' + '0'.repeat(30), '2' + '0'.repeat(100)];
    for (const v of values) expect(decremented(v), v.slice(0, 40)).toBe(exact(v));
  });

  it('agrees with BigInt on random digit strings', () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let n = 0; n < 500; n++) {
      const len = 1 + (next() % 60);
      let v = '';
      for (let i = 0; i < len; i++) v += String(next() % 10);
      if (/^0+$/.test(v)) continue;
      expect(decremented(v), v).toBe(exact(v));
    }
  });
});
