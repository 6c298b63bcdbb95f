/**
 * The client's half of a rate decision in Redis. The script (rate-scripts.ts) decides and
 * writes, and answers with the state it found and the time it used; here the same step runs
 * on the same state at the same time — sluice/rate's own algorithm functions, which the
 * script's Lua mirrors expression for expression — so every field of the decision is exact
 * without Redis printing a float per field. Redis's verdict comes along and must agree; a
 * disagreement would be a bug in the port, and is reported as one rather than hidden.
 */
import type { RateDecision } from '../rate/algorithm.js';
import { algorithmOf } from '../rate/algorithms.js';
import type { RatePolicy } from '../rate/policy.js';
import type { TokenGrant } from '../shared/limit-store.js';

/** A state as the script stores it (see rate-scripts.ts), or fresh at `now` for '' (no state). */
export function stateOf(policy: RatePolicy, s: string, now: number): object {
  if (s === '') return algorithmOf(policy).fresh(policy, now);
  switch (policy.algorithm) {
    case 'gcra':
      return { tat: Number(s) };
    case 'token-bucket': {
      const c = s.indexOf(',');
      return { tokens: Number(s.slice(0, c)), last: Number(s.slice(c + 1)) };
    }
    case 'sliding-window': {
      const c1 = s.indexOf(',');
      const c2 = s.indexOf(',', c1 + 1);
      return { win: Number(s.slice(0, c1)), prev: Number(s.slice(c1 + 1, c2)), curr: Number(s.slice(c2 + 1)) };
    }
  }
}

/**
 * The state a replayed consume is parsed into, one per algorithm: `step` reads and updates
 * it and nothing keeps it (the decision holds numbers only), so a decision allocates no
 * state object — and its numbers go into fields already holding doubles, in place.
 */
const SCRATCH = { gcra: { tat: 0.5 }, 'token-bucket': { tokens: 0.5, last: 0.5 }, 'sliding-window': { win: 0.5, prev: 0.5, curr: 0.5 } };

/** {@link stateOf} into SCRATCH (a fresh state, rare, is its own object). */
function scratchOf(policy: RatePolicy, s: string, now: number): object {
  if (s === '') return algorithmOf(policy).fresh(policy, now);
  switch (policy.algorithm) {
    case 'gcra': {
      const x = SCRATCH.gcra;
      x.tat = Number(s);
      return x;
    }
    case 'token-bucket': {
      const x = SCRATCH['token-bucket'];
      const c = s.indexOf(',');
      x.tokens = Number(s.slice(0, c));
      x.last = Number(s.slice(c + 1));
      return x;
    }
    case 'sliding-window': {
      const x = SCRATCH['sliding-window'];
      const c1 = s.indexOf(',');
      const c2 = s.indexOf(',', c1 + 1);
      x.win = Number(s.slice(0, c1));
      x.prev = Number(s.slice(c1 + 1, c2));
      x.curr = Number(s.slice(c2 + 1));
      return x;
    }
  }
}

/** The consume decision Redis made on `state` at `now` ('1' allowed / '0' refused in `verdict`). */
export function replayConsume(policy: RatePolicy, verdict: string, state: string, now: number, cost: number, maxDelayMs: number): RateDecision {
  const d = algorithmOf(policy).step(scratchOf(policy, state, now), policy, cost, now, maxDelayMs);
  if (d.allowed !== (verdict === '1')) throw disagreement(policy, verdict, state, now);
  return d;
}

/** A take as the script does it: `min`, then as many more as are there, up to `max`. */
export function replayTake(policy: RatePolicy, verdict: string, state: string, now: number, min: number, max: number): TokenGrant {
  const algo = algorithmOf(policy);
  const s = stateOf(policy, state, now);
  const first = algo.step(s, policy, min, now, 0);
  if (first.allowed !== (verdict === '1')) throw disagreement(policy, verdict, state, now);
  if (!first.allowed) return { taken: 0, retryAfterMs: first.retryAfterMs, remaining: first.facts.remaining };
  const extra = Math.min(max - min, Math.floor(algo.available(s, policy, now) + 1e-9));
  if (extra >= 1) {
    const more = algo.step(s, policy, extra, now, 0);
    if (more.allowed) return { taken: min + extra, retryAfterMs: 0, remaining: more.facts.remaining };
  }
  return { taken: min, retryAfterMs: 0, remaining: first.facts.remaining };
}

function disagreement(policy: RatePolicy, verdict: string, state: string, now: number): Error {
  return new Error(`sluice/redis: Redis and the client disagree on a ${policy.algorithm} decision (Redis said ${verdict === '1' ? 'allowed' : 'refused'} on state "${state}" at ${now}); this is a bug in sluice, please report it`);
}
