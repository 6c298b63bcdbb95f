import { describe, expect, it } from 'vitest';
import { parseHttpDate, parseRetryAfter } from '../../src/retry/index.js';

const NOW = new Date('1994-11-06T08:49:00Z');

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it('delay-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('007', NOW)).toBe(7_000);
    expect(parseRetryAfter('  3\t', NOW)).toBe(3_000); // optional whitespace around the value
  });

  it('HTTP-date in all three forms, relative to now', () => {
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(37_000);
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(37_000);
    expect(parseRetryAfter('Sun Nov  6 08:49:37 1994', NOW)).toBe(37_000);
    expect(parseRetryAfter('Sun Nov 16 08:49:37 1994', NOW)).toBe(10 * 86_400_000 + 37_000);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW.getTime())).toBe(37_000);
  });

  it('a date in the past means no wait', () => {
    expect(parseRetryAfter('Sat, 05 Nov 1994 08:49:37 GMT', NOW)).toBe(0);
  });

  it('rfc850 two-digit years: more than 50 years ahead means the previous century', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseHttpDate('Thursday, 01-Jan-76 00:00:00 GMT', now)).toBe(Date.UTC(2076, 0, 1));
    expect(parseHttpDate('Monday, 01-Jan-77 00:00:00 GMT', now)).toBe(Date.UTC(1977, 0, 1));
  });

  it('a four-digit year below 100 is not read as 19xx', () => {
    expect(parseHttpDate('Sat, 01 Jan 0050 00:00:00 GMT')).toBe(new Date('0050-01-01T00:00:00Z').getTime());
  });

  it('garbage, negative and fractional values are undefined', () => {
    const garbage = [
      undefined,
      null,
      '',
      '   ',
      '-5',
      '+5',
      '1.5',
      '1e3',
      '0x10',
      '5s',
      '5 6',
      'soon',
      'Infinity',
      'NaN',
      'Sun, 06 Nov 1994 08:49:37 UTC', // only GMT
      'Sun, 06 Nov 1994 08:49:37 +0000',
      'sun, 06 nov 1994 08:49:37 GMT', // names are case-sensitive
      'Sun, 6 Nov 1994 08:49:37 GMT', // day is 2DIGIT
      'Sun, 31 Feb 1994 08:49:37 GMT', // no such date
      'Sun, 06 Nov 1994 24:00:00 GMT',
      'Sun, 06 Nov 1994 08:60:00 GMT',
      'Sun, 06 Nov 1994 08:49:61 GMT',
      'Sun, 06 Nov 94 08:49:37 GMT',
      'Sunday, 06-Nov-1994 08:49:37 GMT',
      'Sun Nov 6 08:49:37 1994', // asctime pads the day with a space
      '2024-01-01T00:00:00Z',
      'Sun, 06 Nov 1994 08:49:37 GMT; extra',
    ];
    for (const g of garbage) expect(parseRetryAfter(g as string, NOW), JSON.stringify(g)).toBeUndefined();
  });

  it('accepts a leap second', () => {
    expect(parseRetryAfter('Sat, 31 Dec 2016 23:59:60 GMT', new Date('2016-12-31T23:59:00Z'))).toBe(60_000);
  });

  it('huge delays stay numbers; beyond a double they are Infinity (never retry)', () => {
    expect(parseRetryAfter('99999999999', NOW)).toBe(99_999_999_999_000);
    expect(parseRetryAfter('9'.repeat(400), NOW)).toBe(Infinity);
  });

  it('an invalid now gives undefined for dates', () => {
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', new Date(NaN))).toBeUndefined();
  });
});
