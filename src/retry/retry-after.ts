/**
 * The Retry-After header field (RFC 9110 §10.2.3): `Retry-After = HTTP-date / delay-seconds`,
 * delay-seconds = 1*DIGIT. HTTP-date (§5.6.7) is the preferred IMF-fixdate or one of the two
 * obsolete forms every recipient must still accept:
 *
 *   IMF-fixdate    Sun, 06 Nov 1994 08:49:37 GMT
 *   rfc850-date    Sunday, 06-Nov-94 08:49:37 GMT
 *   asctime-date   Sun Nov  6 08:49:37 1994
 *
 * Strict to the grammar (no `Date.parse` guessing): anything else — signs, fractions,
 * units, time zones other than GMT, impossible dates — is garbage and reads as undefined.
 */
import { InvalidArgumentError } from '../core/errors.js';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const DAYS_LONG = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const MONTH = `(${MONTHS.join('|')})`;
const IMF = new RegExp(`^(?:${DAYS.join('|')}), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850 = new RegExp(`^(?:${DAYS_LONG.join('|')}), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^(?:${DAYS.join('|')}) ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/**
 * Milliseconds to wait, from a Retry-After value: delay-seconds × 1000, or the HTTP-date
 * minus `now` (0 when the date is past). `undefined` for a missing or malformed value.
 * A delay too large for a double reads as `Infinity` (never retry).
 *
 * @param now the current wall-clock time (a Date or epoch ms), for the HTTP-date form
 */
export function parseRetryAfter(value: string | null | undefined, now: Date | number = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.replace(/^[ \t]+|[ \t]+$/g, ''); // optional whitespace around a field value (RFC 9110 §5.5)
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (typeof now !== 'number' && !(now instanceof Date)) throw new InvalidArgumentError('now', 'a Date or a number of epoch ms for parseRetryAfter()', now);
  const nowMs = typeof now === 'number' ? now : now.getTime();
  if (!Number.isFinite(nowMs)) return undefined;
  const at = parseHttpDate(v, nowMs);
  if (at === undefined) return undefined;
  return Math.max(0, at - nowMs);
}

/** Epoch ms of an HTTP-date (RFC 9110 §5.6.7), or undefined. */
export function parseHttpDate(v: string, now: number = Date.now()): number | undefined {
  let m = IMF.exec(v);
  if (m !== null) return utc(Number(m[3]), m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  m = RFC850.exec(v);
  if (m !== null) {
    // A two-digit year more than 50 years in the future means the most recent past year with those digits.
    const yy = Number(m[3]);
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + yy;
    if (year > thisYear + 50) year -= 100;
    return utc(year, m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  }
  m = ASCTIME.exec(v);
  if (m !== null) return utc(Number(m[6]), m[1]!, Number(m[2]!.trim()), m[3]!, m[4]!, m[5]!);
  return undefined;
}

function utc(year: number, month: string, day: number, hh: string, mm: string, ss: string): number | undefined {
  const mon = MONTHS.indexOf(month);
  const h = Number(hh);
  const min = Number(mm);
  const s = Number(ss);
  // second 60: a leap second (RFC 5322 §3.3); read as the next second.
  if (h > 23 || min > 59 || s > 60 || day < 1) return undefined;
  // setUTCFullYear, not Date.UTC: the latter reads years 0..99 as 1900..1999.
  const d = new Date(0);
  d.setUTCFullYear(year, mon, day);
  // Reject 31 Feb and the like, which would roll into the next month.
  if (d.getUTCDate() !== day) return undefined;
  return d.getTime() + ((h * 60 + min) * 60 + s) * 1000;
}
