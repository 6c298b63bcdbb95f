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

/** The state whose doubles are in `reply` from `at` (rate-scripts.ts), or fresh at `now` for -1 (no state). */
export function stateOf(policy: RatePolicy, reply: Buffer, at: number, now: number): object {
  if (at < 0) return algorithmOf(policy).fresh(policy, now);
  switch (policy.algorithm) {
    case 'gcra':
      return { tat: reply.readDoubleLE(at), last: reply.readDoubleLE(at + 8) };
    case 'token-bucket':
      return { tokens: reply.readDoubleLE(at), last: reply.readDoubleLE(at + 8) };
    case 'sliding-window':
      return { win: reply.readDoubleLE(at), prev: reply.readDoubleLE(at + 8), curr: reply.readDoubleLE(at + 16), w: reply.readDoubleLE(at + 24) };
  }
}

/**
 * The state a replayed consume is read into, one per algorithm: `step` reads and updates
 * it and nothing keeps it (the decision holds numbers only), so a decision allocates no
 * state object — and its numbers go into fields already holding doubles, in place.
 */
const SCRATCH = { gcra: { tat: 0.5, last: 0.5 }, 'token-bucket': { tokens: 0.5, last: 0.5 }, 'sliding-window': { win: 0.5, prev: 0.5, curr: 0.5, w: 0.5 } };

/** {@link stateOf} into SCRATCH (a fresh state, rare, is its own object). */
function scratchOf(policy: RatePolicy, reply: Buffer, at: number, now: number): object {
  if (at < 0) return algorithmOf(policy).fresh(policy, now);
  switch (policy.algorithm) {
    case 'gcra': {
      const x = SCRATCH.gcra;
      x.tat = reply.readDoubleLE(at);
      x.last = reply.readDoubleLE(at + 8);
      return x;
    }
    case 'token-bucket': {
      const x = SCRATCH['token-bucket'];
      x.tokens = reply.readDoubleLE(at);
      x.last = reply.readDoubleLE(at + 8);
      return x;
    }
    case 'sliding-window': {
      const x = SCRATCH['sliding-window'];
      x.win = reply.readDoubleLE(at);
      x.prev = reply.readDoubleLE(at + 8);
      x.curr = reply.readDoubleLE(at + 16);
      x.w = reply.readDoubleLE(at + 24);
      return x;
    }
  }
}

const ALLOWED = 49; // '1'

/** The consume decision Redis made on the state in `reply` at `at` (see stateOf) at `now`: `verdict` '1' allowed / '0' refused, as a char code. */
export function replayConsume(policy: RatePolicy, verdict: number, reply: Buffer, at: number, now: number, cost: number, maxDelayMs: number): RateDecision {
  const d = algorithmOf(policy).step(scratchOf(policy, reply, at, now), policy, cost, now, maxDelayMs);
  if (d.allowed !== (verdict === ALLOWED)) throw disagreement(policy, verdict, stateOf(policy, reply, at, now), now);
  return d;
}

/** A take as the script does it: `min`, then as many more as are there, up to `max`. */
export function replayTake(policy: RatePolicy, verdict: number, reply: Buffer, at: number, now: number, min: number, max: number): TokenGrant {
  const algo = algorithmOf(policy);
  // Read into the scratch state, as a consume is: both steps and `available` run on it before anything else can.
  const s = scratchOf(policy, reply, at, now);
  const first = algo.step(s, policy, min, now, 0);
  if (first.allowed !== (verdict === ALLOWED)) throw disagreement(policy, verdict, stateOf(policy, reply, at, now), now);
  if (!first.allowed) return { taken: 0, retryAfterMs: first.retryAfterMs, remaining: first.facts.remaining };
  const extra = Math.min(max - min, Math.floor(algo.available(s, policy, now) + 1e-9));
  if (extra >= 1) {
    const more = algo.step(s, policy, extra, now, 0);
    if (more.allowed) return { taken: min + extra, retryAfterMs: 0, remaining: more.facts.remaining };
  }
  return { taken: min, retryAfterMs: 0, remaining: first.facts.remaining };
}

function disagreement(policy: RatePolicy, verdict: number, state: object, now: number): Error {
  return new Error(`sluice/redis: Redis and the client disagree on a ${policy.algorithm} decision (Redis said ${verdict === ALLOWED ? 'allowed' : 'refused'} on state ${JSON.stringify(state)} at ${now}); this is a bug in sluice, please report it`);
}
