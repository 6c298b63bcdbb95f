/**
 * Rate operations issued in the same tick go to Redis as ONE script call (rate-scripts.ts)
 * that decides them all, in issue order, each with its own exact answer: the decisions are
 * those of one script per decision sent back to back (one `TIME` for the batch: they are
 * decided at one instant of Redis's clock). What a batch saves is per-call work: one command
 * for the client to encode and one reply to parse instead of one each per decision, one
 * script invocation on the server, one timeout and one breaker permit for the guard.
 *
 * A batch of one goes to the one-operation script (RATE_ONE_SCRIPT): the same decision and
 * the same reply, cheaper for Redis and for the client to encode.
 *
 * Batches form per hash slot when the client is a Redis Cluster (a script's keys must share
 * a slot), and hold at most `maxBatch` entries: a script runs alone in Redis, and a long one
 * delays every other client. Each batch is written as soon as it is complete (script-call.ts:
 * straight to the connection, never held for ioredis's auto-pipelining).
 *
 * When a batch forms: with no call in flight, at the end of the tick (process.nextTick), so a
 * lone decision leaves at once. With a call in flight, decisions arriving in separate I/O
 * callbacks (requests: Node drains the nextTick queue between callbacks, so per tick they come
 * one at a time) are gathered until the end of the loop turn's poll phase (setImmediate: every
 * callback of this turn has run) or the reply of a call in flight, whichever comes first, and
 * go as one call — instead of one call each, which is what loads Redis and the client.
 *
 * Callers that decide again as soon as they are answered (a loop awaiting each decision) issue
 * their next decisions in the tick their answers were handed out. With nothing else in flight
 * they would form ONE batch again, and the process and Redis would take turns: Redis idle
 * while this process handles the answers and builds the next command, this process idle while
 * Redis runs it. So in such a tick, with nothing in flight, the batch goes in two parts: the
 * first as soon as it holds half the decisions answered in batches this tick (Redis starts on
 * it while the rest are issued), the rest at the end of the tick. Their replies then come back
 * apart, and each part's callers are gathered behind the other part in flight (above): two
 * calls keep overlapping. A lone caller (one decision answered at a time) is not split.
 *
 * An entry whose key holds another type fails alone (StoreWrongTypeError); the others in
 * its batch are answered. When the call fails (timeout, connection, breaker open) every
 * entry of the batch fails with that error and its caller falls back.
 */
import type { RatePolicy } from '../rate/policy.js';
import { keySlot } from './keys.js';
import { ALGORITHM_CODE, RATE_ONE_SCRIPT, RATE_SCRIPT } from './rate-scripts.js';
import { ScriptCall } from './script-call.js';
import { StoreWrongTypeError } from './store-errors.js';
import type { StoreGuard } from './store-guard.js';

/** 'c' consume (cost, maxDelayMs), 't' take (min, max), 'r' refund (cost, 0). */
export type RateOp = 'c' | 't' | 'r';

/** One operation of a batch, as the script takes it. */
export interface BatchOp {
  readonly key: string;
  readonly op: RateOp;
  readonly policy: RatePolicy;
  readonly x: number;
  readonly y: number;
}

/** An operation waiting for its answer. */
export interface BatchEntry extends BatchOp {
  /**
   * Redis's answer: `verdict` the char code of '1' allowed/taken, '0' refused, '-' refunded;
   * the state the entry found as doubles (little-endian) in `reply` from offset `at` (-1 for
   * none: a fresh state), `now` the Redis time it was decided at (ms).
   */
  answer(verdict: number, reply: Buffer, at: number, now: number): void;
  /** The call failed, or the key holds another type (StoreWrongTypeError). */
  fail(err: unknown): void;
}

export class RateBatcher {
  readonly maxBatch: number;
  readonly #guard: StoreGuard;
  readonly #batch: ScriptCall;
  readonly #one: ScriptCall;
  readonly #cluster: boolean;
  /** '' — or 't': states written as text (RedisStoreOptions.stateEncoding). */
  readonly #encoding: '' | 't';
  /** The batch forming, when not clustered. */
  #single: BatchEntry[] = [];
  /** Batches forming by slot, when clustered. */
  readonly #bySlot = new Map<number, BatchEntry[]>();
  /** 0 none, 1 a nextTick flush, 2 a setImmediate flush (`#immediate`). */
  #scheduled: 0 | 1 | 2 = 0;
  #immediate: NodeJS.Immediate | undefined;
  /** Calls sent and not yet settled. */
  #inFlight = 0;
  /**
   * Decisions answered in batches this tick (reset at the end of the tick), and the size at
   * which a batch forming with nothing in flight goes at once as a first part (half of them).
   */
  #handedOut = 0;
  #splitAt = Infinity;
  readonly #endHandOut = (): void => {
    this.#handedOut = 0;
    this.#splitAt = Infinity;
  };
  readonly #flush = (): void => this.flush();
  readonly #onImmediate = (): void => {
    this.#immediate = undefined;
    this.flush();
  };
  readonly #settled = (): void => {
    this.#inFlight--;
    // A reply ends a gather: what waits for the end of the poll phase goes now.
    if (this.#scheduled === 2) this.flush();
  };
  // Made once: a call per batch is the guard running one of these on the batch's command.
  readonly #sendOne = (command: (string | number)[]): Promise<unknown> => this.#one.send(command);
  readonly #sendBatch = (command: (string | number)[]): Promise<unknown> => this.#batch.send(command);

  constructor(guard: StoreGuard, client: unknown, cluster: boolean, maxBatch: number, encoding: 'binary' | 'text' = 'binary') {
    this.#guard = guard;
    // Sent straight to the client (script-call.ts): a batch leaves in the tick it formed, even
    // on a client with auto-pipelining on.
    this.#batch = new ScriptCall(client, RATE_SCRIPT, true);
    this.#one = new ScriptCall(client, RATE_ONE_SCRIPT, true);
    this.#cluster = cluster;
    this.#encoding = encoding === 'text' ? 't' : '';
    this.maxBatch = maxBatch;
  }

  /** Queue `e`; it is answered (or fails) once its batch comes back. */
  push(e: BatchEntry): void {
    let list: BatchEntry[];
    if (!this.#cluster) {
      list = this.#single;
      list.push(e);
      // Full, or the first part of a tick's re-issued decisions with nothing in flight (above).
      if (list.length >= this.maxBatch || (list.length >= this.#splitAt && this.#inFlight === 0)) {
        this.#single = [];
        this.#send(list);
        return;
      }
    } else {
      const slot = keySlot(e.key);
      const found = this.#bySlot.get(slot);
      if (found === undefined) this.#bySlot.set(slot, (list = [e]));
      else (list = found).push(e);
      if (list.length >= this.maxBatch || (list.length >= this.#splitAt && this.#inFlight === 0)) {
        this.#bySlot.delete(slot);
        this.#send(list);
        return;
      }
    }
    if (this.#scheduled === 0) {
      if (this.#inFlight === 0) {
        this.#scheduled = 1;
        process.nextTick(this.#flush);
      } else {
        this.#scheduled = 2;
        this.#immediate = setImmediate(this.#onImmediate);
      }
    }
  }

  /** Send every batch forming (the end of the tick does it by itself). */
  flush(): void {
    if (this.#immediate !== undefined) {
      clearImmediate(this.#immediate);
      this.#immediate = undefined;
    }
    this.#scheduled = 0;
    if (this.#single.length > 0) {
      const list = this.#single;
      this.#single = [];
      this.#send(list);
    }
    if (this.#bySlot.size > 0) {
      const lists = [...this.#bySlot.values()];
      this.#bySlot.clear();
      for (const list of lists) this.#send(list);
    }
  }

  /** `n` decisions of a batch are being answered: their callers may decide again in this tick. */
  #handOut(n: number): void {
    if (this.#handedOut === 0) process.nextTick(this.#endHandOut);
    this.#handedOut += n;
    // Parts of at least 2: a part of one would go as a one-operation call of its own.
    if (this.#handedOut >= 4) this.#splitAt = Math.ceil(this.#handedOut / 2);
  }

  #send(list: BatchEntry[]): void {
    let sent: Promise<unknown>;
    if (list.length === 1) {
      // A lone decision (one caller, or the only one this tick): the one-operation script,
      // cheaper in Redis and in the client than a batch of one.
      sent = this.#guard.runWith(list[0]!.key, this.#sendOne, oneCommand(list[0]!, this.#encoding));
    } else {
      sent = this.#guard.runWith(list[0]!.key, this.#sendBatch, batchCommand(list, '', this.#encoding));
    }
    this.#inFlight++;
    sent.then(
      (reply) => {
        this.#settled();
        // Batches only: lone decisions (a lone caller) are never split, and pay nothing for it.
        if (list.length > 1) this.#handOut(list.length);
        answerBatch(list, reply as Buffer);
      },
      (err: unknown) => {
        this.#settled();
        for (const e of list) e.fail(err);
      },
    );
  }
}

/** The doubles of each algorithm's state (rate-scripts.ts). */
const DOUBLES = { gcra: 16, 'token-bucket': 16, 'sliding-window': 32 } as const;

/**
 * Hand each entry its part of a batch's reply (rate-scripts.ts): the time, ";", then per
 * entry a verdict byte, and when a state was found, byte 1 and its doubles — read in place,
 * nothing parsed from text and no substring per decision.
 */
export function answerBatch(list: readonly BatchEntry[], reply: Buffer): void {
  const len = reply.length;
  let p = reply.indexOf(59 /* ; */);
  if (p === -1) p = len;
  const now = clockOf(reply.toString('latin1', 0, p));
  p++;
  let i = 0;
  for (; i < list.length && p < len; i++) {
    const e = list[i]!;
    const verdict = reply[p]!;
    if (verdict === 87 /* W */) {
      p++;
      e.fail(new StoreWrongTypeError(e.key, new Error('WRONGTYPE Operation against a key holding the wrong kind of value')));
      continue;
    }
    let at = -1;
    // A state follows: byte 1, 2 for GCRA's, 3 for a sliding window's (a verdict byte is never one of them).
    const v = p + 1 < len ? reply[p + 1] : 0;
    if (v === 1 || v === 2 || v === 3) {
      at = p + 2;
      p = at + DOUBLES[e.policy.algorithm];
      if (p > len) break;
    } else p++;
    // One entry's answer that throws must not leave the rest of the batch unsettled.
    try {
      e.answer(verdict, reply, at, now);
    } catch (err) {
      e.fail(err);
    }
  }
  const answered = i;
  for (; i < list.length; i++) list[i]!.fail(new Error(`sluice/redis: the rate script answered ${answered} of ${list.length} operations`));
}

/**
 * The script's time as a number: "<s> <us>" as TIME gave it, computed with the script's own
 * expression (s·1000 + us/1000: the same double), or "=<ms>" when a test passed one.
 */
function clockOf(s: string): number {
  if (s.charCodeAt(0) === 61 /* = */) return Number(s.slice(1));
  const sp = s.indexOf(' ');
  return Number(s.slice(0, sp)) * 1000 + Number(s.slice(sp + 1)) / 1000;
}

/**
 * A batch's KEYS and ARGV (rate-scripts.ts): `now` ('' for Redis TIME; tests pass a time),
 * the encoding ('' binary, 't' text), the policies (each distinct policy object once), then
 * one spec per operation, or one for all when they are alike.
 */
export function encodeBatch(ops: readonly BatchOp[], now: number | '' = '', encoding: '' | 't' = ''): { keys: string[]; args: (string | number)[] } {
  const command = batchCommand(ops, now, encoding);
  return { keys: command.slice(2, 2 + ops.length) as string[], args: command.slice(2 + ops.length) };
}

/**
 * The batch's whole command after EVALSHA — (sha), the number of keys, the keys, then
 * {@link encodeBatch}'s ARGV — written into one array sized up front: no arrays of keys,
 * specs and policies to copy into it per batch.
 */
function batchCommand(ops: readonly BatchOp[], now: number | '', encoding: '' | 't'): (string | number)[] {
  const n = ops.length;
  const command = new Array<string | number>(n + 10);
  command[0] = '';
  command[1] = n;
  let w = 2;
  for (let i = 0; i < n; i++) command[w++] = ops[i]!.key;
  command[w++] = now;
  command[w++] = encoding;
  const mAt = w++;
  // The policies, in order of first appearance (1-based indexes); whether every operation is alike.
  const first = ops[0]!.policy;
  w = pushPolicy(command, w, first);
  let m = 1;
  let index: Map<RatePolicy, number> | undefined;
  let alike = true;
  const o = ops[0]!;
  for (let i = 1; i < n; i++) {
    const e = ops[i]!;
    if (e.policy !== first) {
      index ??= new Map();
      if (!index.has(e.policy)) {
        w = pushPolicy(command, w, e.policy);
        index.set(e.policy, ++m);
      }
      alike = false;
    } else if (e.op !== o.op || e.x !== o.x || e.y !== o.y) {
      alike = false;
    }
  }
  command[mAt] = m;
  // Most batches are alike (cost 1, one maxWaitMs): then one spec says it for all.
  if (alike) {
    command[w++] = `${o.op}1:${o.x}:${o.y}`;
  } else {
    let last: BatchOp | undefined;
    let lastPi = 0;
    let spec = '';
    for (let i = 0; i < n; i++) {
      const e = ops[i]!;
      const pi = e.policy === first ? 1 : index!.get(e.policy)!;
      if (last === undefined || pi !== lastPi || e.op !== last.op || e.x !== last.x || e.y !== last.y) spec = `${e.op}${pi}:${e.x}:${e.y}`;
      command[w++] = spec;
      last = e;
      lastPi = pi;
    }
  }
  command.length = w;
  return command;
}

/**
 * The one-operation script's ARGV (rate-scripts.ts, RATE_ONE_SCRIPT) for `op`: its policy and
 * its spec as flat arguments, then the encoding and `now` when a test passes one.
 */
export function encodeOne(op: BatchOp, now?: number, encoding: '' | 't' = ''): (string | number)[] {
  const args = oneCommand(op, encoding).slice(3);
  if (now !== undefined) args.push(...(encoding === '' ? ['', now] : [now]));
  return args;
}

/** The one-operation script's whole command after EVALSHA: (sha), 1, the key, then {@link encodeOne}'s ARGV. */
function oneCommand(op: BatchOp, encoding: '' | 't'): (string | number)[] {
  const p = op.policy;
  const command =
    p.algorithm === 'sliding-window'
      ? ['', 1, op.key, ALGORITHM_CODE[p.algorithm], p.limit, p.windowMs, 0, op.op, op.x, op.y]
      : ['', 1, op.key, ALGORITHM_CODE[p.algorithm], p.rate, p.perMs, p.burst, op.op, op.x, op.y];
  // The encoding only when it is text: the usual call carries nothing it does not need.
  if (encoding !== '') command.push(encoding);
  return command;
}

/** Write `p` as the script takes a policy (4 arguments) at `w`; returns the index after. */
function pushPolicy(out: (string | number)[], w: number, p: RatePolicy): number {
  out[w] = ALGORITHM_CODE[p.algorithm];
  if (p.algorithm === 'sliding-window') {
    out[w + 1] = p.limit;
    out[w + 2] = p.windowMs;
    out[w + 3] = 0;
  } else {
    out[w + 1] = p.rate;
    out[w + 2] = p.perMs;
    out[w + 3] = p.burst;
  }
  return w + 4;
}
