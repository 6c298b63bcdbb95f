// An upstream that holds every request until the test lets it go, counting its own in flight
// and peak (the reload-limits tests: what a gateway sends is counted where it arrives).
import { upstream } from './helpers.js';

export interface HeldUpstream {
  readonly url: string;
  /** Requests it holds now. */
  now(): number;
  /** The most it held at once; `resetPeak()` starts it again from what it holds now. */
  peak(): number;
  resetPeak(): void;
  /** Answer the `n` oldest held requests (all by default). */
  letGo(n?: number): void;
}

export async function heldUpstream(): Promise<HeldUpstream> {
  const held: (() => void)[] = [];
  let now = 0;
  let peak = 0;
  const up = await upstream((req, res) => {
    now++;
    peak = Math.max(peak, now);
    req.resume();
    held.push(() => {
      now--;
      res.end('ok');
    });
  });
  return {
    url: up.url,
    now: () => now,
    peak: () => peak,
    resetPeak: () => (peak = now),
    letGo: (n = held.length) => held.splice(0, n).forEach((f) => f()),
  };
}
