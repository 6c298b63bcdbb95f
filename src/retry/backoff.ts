/**
 * Backoff delays, from Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture
 * Blog (2015). For retry number n (1 = the first retry), base b, cap c and a uniform
 * random r in [0, 1):
 *
 *   none          sleep = min(c, b·2^(n−1))
 *   full          sleep = random_between(0, min(c, b·2^(n−1)))            = r·t, t = min(c, b·2^(n−1))
 *   equal         t = min(c, b·2^(n−1)); sleep = t/2 + random_between(0, t/2)
 *   decorrelated  sleep = min(c, random_between(b, 3·prev)), prev₁ = b    = min(c, b + r·(3·prev − b))
 *
 * Full jitter spreads a synchronized crowd of clients best for the least total work;
 * equal jitter keeps at least half the exponential wait; decorrelated grows from the
 * previous sleep rather than from n.
 */
import { argInt, argNumber, InvalidArgumentError } from '../core/index.js';
import { deepFreeze } from '../core/deep-freeze.js';

export type Jitter = 'none' | 'full' | 'equal' | 'decorrelated';

export const JITTERS: readonly Jitter[] = deepFreeze(['none', 'full', 'equal', 'decorrelated']);

/**
 * @param retry 1 for the first retry
 * @param previousMs the previous sleep (decorrelated only; pass `baseMs` for the first retry)
 * @param random uniform in [0, 1)
 */
export function backoffDelay(jitter: Jitter, retry: number, previousMs: number, baseMs: number, capMs: number, random: () => number): number {
  // An unknown jitter fell through the switch to undefined; a NaN made a NaN sleep.
  if (!JITTERS.includes(jitter)) throw new InvalidArgumentError('jitter', `one of ${JITTERS.map((j) => JSON.stringify(j)).join(', ')}`, jitter);
  argInt('retry', retry, 1, Number.MAX_SAFE_INTEGER);
  argNumber('previousMs', previousMs, 0);
  argNumber('baseMs', baseMs, 0);
  argNumber('capMs', capMs, 0);
  if (typeof random !== 'function') throw new InvalidArgumentError('random', 'a function returning a number in [0, 1)', random);
  if (jitter === 'decorrelated') {
    const d = baseMs + random() * (3 * previousMs - baseMs);
    return d < capMs ? d : capMs;
  }
  const exp = baseMs * 2 ** (retry - 1);
  const t = exp < capMs ? exp : capMs;
  switch (jitter) {
    case 'none':
      return t;
    case 'full':
      return random() * t;
    case 'equal':
      return t / 2 + random() * (t / 2);
  }
}
