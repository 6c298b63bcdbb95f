/**
 * Backpressure at the transport for refused clients: a keep-alive connection that was just
 * answered 429/503 + Retry-After is not read again until that Retry-After has passed
 * (capped). Its next request waits in the kernel's socket buffer, then the TCP window
 * closes on the sender — the seeds' transport-level backpressure — and the event loop
 * spends nothing on a client that re-sends at once. An honest client, who waits
 * Retry-After anyway, loses nothing.
 *
 * Why it is needed: a refusal costs the single event loop tens of µs (parse, write, a
 * syscall). With N clients re-sending the instant they are refused, one loop turn takes N
 * times that, and an admitted request's response — the event that gives its slot back —
 * waits behind the whole turn: goodput fell to a quarter at 2,000 connections (issue 9).
 * Paced, a refused connection costs one refusal per pause instead of one per round trip —
 * for a client that does not pipeline: a pause stops new reads, not requests one read already
 * parsed. Those are handled around the pacer: while it is engaged a refusal with requests
 * pipelined behind it closes the connection (request-handler.ts, hostile finding F24).
 *
 * Three refinements, each measured (issue 9, `npm run bench:gateway`):
 * - only while the loop is saturated (`saturated()`, loop-saturation.ts): with room on the
 *   loop a refusal is cheap, and pausing a connection that carries many independent requests
 *   (a pool, an open-loop load) stalls all of them — always-on pacing took open-loop 8x
 *   goodput to 38/s (bench/results/gateway-27e8a91-always-on-pausing.md) — and, once engaged,
 *   held while it holds paused connections (a low load then is the pausing's own doing);
 * - each pause is jittered down to 3/4 of its length at random, so connections refused in
 *   the same instant do not all come back in the same instant;
 * - connections come back at most `resumePerTurn` per loop turn (setImmediate batches): a
 *   thousand pauses ending together would otherwise be read, parsed and refused in one turn
 *   while admitted requests' responses — the events that give slots back — wait behind them.
 *
 * A pause for a capacity refusal may end early (`wake`): the paused connections hold the
 * demand the gate turned away, in their kernel buffers, so when the gate's queue runs short
 * the gateway reads the longest-paused of them again rather than leave a service slot idle
 * until some pause runs out (closed loop, 2,000 connections: slots idled a third of the time,
 * issue 9). An honest client, who waits its Retry-After, has sent nothing: waking it reads
 * nothing. A rate refusal's pause is not woken: its end is when the client's units are there.
 * And a capacity refusal's pause follows that line (`capacityWait`): behind a line longer than
 * `maxPauseMs` it lasts the line's length, up to `lineCapMs` — at 10,000 connections on 50
 * slots the line was ~5 s, and 1 s pauses brought each connection back to be refused again
 * four times before its turn (bench/results/pace-a36404c-busy.md).
 *
 * Node's HTTP parser reads the socket's handle directly (`socket.pause()` does not stop
 * it), so the handle's own readStop/readStart are used; a socket without them (a
 * test's duplex) is not paced. A connection through a trusted proxy is never paused: it
 * carries other clients' requests too.
 */
import type { Socket } from 'node:net';
import type { TrustCheck } from '../http/trusted-proxies.js';
import { isTrusted } from '../http/trusted-proxies.js';
import { GateLines, RefusalRefill } from './refusal-refill.js';
import type { Rooms } from './refusal-refill.js';

/**
 * How late a pause may end: its timer fires a loop turn late, and the connection is read
 * again in a later turn still (resumePerTurn), ms.
 */
export const RESUME_LATENESS_MS = 2;

/**
 * Below this many requests waiting for admission, a permit that ends wakes one connection
 * paused for a capacity refusal (`permitEnded`): its request, waiting in the kernel's buffer,
 * reaches the queue before the slot after next frees.
 */
export const REFILL_BELOW = 8;

const CAPACITY_REASONS: ReadonlySet<string> = new Set(['concurrency', 'queue_full', 'queue_timeout']);

/** A capacity refusal: the gate may have room again before its pause runs out (`wake`). */
export function isCapacityRefusal(reason: string): boolean {
  return CAPACITY_REASONS.has(reason);
}

/** The window the served rate (`lineMs`) is counted over, ms: the last whole one and the current one. */
const SERVED_WINDOW_MS = 500;

/**
 * How long to pause a connection a rate limit refused: until its units are there
 * (`retryAfterMs`, which carries the clock's timer slack for a client sleeping on its own
 * timers), but never past the moment the bucket is full again (`fullInMs`, the refusal's
 * `resetMs`) less the lateness of a resume: from then on each ms asleep is rate the client
 * was entitled to and nobody can take — the bucket throws the tokens away, and when all of
 * the key's connections are asleep, the admitted rate falls under the limit. 0: do not
 * pause. The cap is tested in test/gateway/refusal-pacing.test.ts.
 */
export function ratePauseMs(retryAfterMs: number, fullInMs: number | undefined): number {
  const cap = fullInMs === undefined ? retryAfterMs : Math.min(retryAfterMs, fullInMs - RESUME_LATENESS_MS);
  return cap >= 1 ? cap : 0;
}

/** The part of a libuv stream handle used here. */
interface ReadableHandle {
  readStop(): number;
  readStart(): number;
}

export function handleOf(socket: Socket): ReadableHandle | undefined {
  const h = (socket as unknown as { _handle?: Partial<ReadableHandle> | null })._handle;
  return h != null && typeof h.readStop === 'function' && typeof h.readStart === 'function' ? (h as ReadableHandle) : undefined;
}

export interface RefusalPacerOptions {
  /** Whether pausing is wanted now (the loop is saturated). @default () => true */
  readonly saturated?: () => boolean;
  /** Uniform random in [0, 1) for the jitter. @default Math.random */
  readonly random?: () => number;
  /** Most connections read again per loop turn. @default 64 */
  readonly resumePerTurn?: number;
  /** Monotonic ms, for the served rate (`lineMs`). @default performance.now */
  readonly now?: () => number;
  /** `lineCapMs`. @default maxPauseMs */
  readonly lineCapMs?: number;
}

export class RefusalPacer {
  /** Longest pause, ms; 0 turns pacing off. */
  maxPauseMs: number;
  /**
   * Longest pause of a capacity refusal behind a line longer than `maxPauseMs` (`capacityWait`),
   * ms; no longer than `maxPauseMs` when less. @default maxPauseMs (the line does not lengthen pauses)
   */
  lineCapMs: number;
  readonly #paused = new Map<Socket, NodeJS.Timeout | null>();
  /** Paused for a capacity refusal: may be read again before the pause runs out (`wake`), oldest pause first. */
  readonly #wakeable = new Set<Socket>();
  #woken = 0;
  /** The wakeable connections of each gate that refused them (a key of `pause`), oldest first: `wakeFor`. */
  readonly #lines = new GateLines(() => this.#refill?.arm());
  #refill: RefusalRefill | undefined;
  /** Permits ended in the current and the last window (`served`): the rate the line moves at. */
  #servedNow = 0;
  #servedLast = 0;
  #windowStart = 0;
  readonly #now: () => number;
  /** Sockets with a close listener of ours: one each, however often paused. */
  readonly #watched = new WeakSet<Socket>();
  readonly #saturated: () => boolean;
  readonly #random: () => number;
  readonly #resumePerTurn: number;
  /** Pauses that ended, waiting for their turn to be read again (FIFO). */
  #due: Socket[] = [];
  #dueHead = 0;
  #resuming: NodeJS.Immediate | undefined;
  #total = 0;
  /** Pauses of a connection paused before (`repaused`), pauses run out (`ranOut`), refusals while not engaged (`unpaced`). */
  #repaused = 0;
  #ranOut = 0;
  #unpaced = 0;

  constructor(maxPauseMs: number, options: RefusalPacerOptions = {}) {
    this.maxPauseMs = maxPauseMs;
    this.lineCapMs = options.lineCapMs ?? maxPauseMs;
    this.#saturated = options.saturated ?? ((): boolean => true);
    this.#random = options.random ?? Math.random;
    this.#resumePerTurn = options.resumePerTurn ?? 64;
    this.#now = options.now ?? ((): number => performance.now());
    this.#windowStart = this.#now();
  }

  /**
   * The server's settings (at start and on a reload): `maxPauseMs` is `server.pauseRefused`;
   * `lineCapMs` half the keep-alive timeout and of the header timeout, as `pauseRefused` is
   * capped (validate-server.ts: a paused connection must not be closed, or answered 408, for
   * time the gateway kept it waiting), never less than `pauseRefused`. The defaults: 1 s, 2.5 s.
   */
  configure(server: { readonly pauseRefusedMs: number; readonly keepAliveTimeoutMs: number; readonly headersTimeoutMs: number }): void {
    this.maxPauseMs = server.pauseRefusedMs;
    this.lineCapMs = Math.max(server.pauseRefusedMs, Math.min(server.keepAliveTimeoutMs, server.headersTimeoutMs) / 2);
  }

  /** An admitted request's permit ended: the line of paused capacity refusals moves on by one. */
  served(): void {
    this.#roll();
    this.#servedNow++;
  }

  /**
   * An admitted request's permit ended, with `queued` requests waiting for admission: counted
   * (`served`), and if the queue runs short, the longest-paused capacity refusal is read again.
   */
  permitEnded(queued: number): void {
    this.served();
    this.#refill?.permitEnded();
    if (queued < REFILL_BELOW && this.#wakeable.size > 0) this.wake(1);
  }

  /**
   * A capacity refusal now, its gate having said come back in `retryS`: how long its connection
   * is paused, and the Retry-After that says so. While pausing is engaged the pause follows the
   * line (`lineMs`, where the refused connection stands): `maxPauseMs` for a line shorter than
   * that, the line's length for a longer one, at most `lineCapMs`; Retry-After is the pause in
   * whole seconds when that is longer than the gate's own (an honest client, who waits it, is
   * never held by the pause). Not engaged: the gate's Retry-After, and no pause (`refused`).
   */
  capacityWait(retryS: number): { readonly retryS: number; readonly pauseMs: number } {
    if (!this.engaged) return { retryS, pauseMs: retryS * 1000 };
    const line = Math.min(this.lineMs(), Math.max(this.lineCapMs, this.maxPauseMs));
    const s = Math.max(retryS, Math.ceil(line / 1000));
    return { retryS: s, pauseMs: Math.min(s * 1000, Math.max(this.maxPauseMs, line)) };
  }

  /**
   * How long the line of connections paused for a capacity refusal takes to be served at the
   * rate permits ended lately, ms: where a newly refused connection stands. 0 with no line, or
   * with nothing served for a whole window.
   */
  lineMs(): number {
    this.#roll();
    const n = this.#wakeable.size;
    const elapsed = this.#now() - this.#windowStart;
    const rate = (this.#servedLast + this.#servedNow) / (SERVED_WINDOW_MS + elapsed);
    return n === 0 || !(rate > 0) ? 0 : n / rate;
  }

  #roll(): void {
    const now = this.#now();
    if (now - this.#windowStart < SERVED_WINDOW_MS) return;
    // A whole window or more since: the last window is the one that just closed, or empty.
    this.#servedLast = now - this.#windowStart < 2 * SERVED_WINDOW_MS ? this.#servedNow : 0;
    this.#servedNow = 0;
    this.#windowStart = now;
  }

  /** Connections not being read now. */
  get paused(): number {
    return this.#paused.size;
  }

  /** Whether a refusal now would pause its connection (on, and the loop saturated). */
  get engaged(): boolean {
    return this.maxPauseMs > 0 && this.#saturated();
  }

  /** Whether `socket` is paused by this pacer now. */
  holds(socket: Socket): boolean {
    return this.#paused.has(socket);
  }

  /** Pauses so far. */
  get total(): number {
    return this.#total;
  }

  /** Pauses ended early by `wake` so far. */
  get woken(): number {
    return this.#woken;
  }

  /** Pauses of a connection this pacer had paused before (the rest are first pauses). */
  get repaused(): number {
    return this.#repaused;
  }

  /** Pauses that ran their whole length: their connections read again by the timer, not by `wake`. */
  get ranOut(): number {
    return this.#ranOut;
  }

  /** Refusals `refused` was told of while pacing was on but not engaged (the loop not saturated): not paused. */
  get unpaced(): number {
    return this.#unpaced;
  }

  /** Paused connections `wake` may read again now. */
  get wakeable(): number {
    return this.#wakeable.size;
  }

  /**
   * A refusal was just written on `socket` telling the client to come back in `retryAfterMs`:
   * pause it, unless it comes from a trusted proxy (one connection, many clients). `wakeable`:
   * a capacity refusal, whose pause `wake` may end early — an object: the gate that refused it
   * (`wakeFor`, `refillFrom`).
   */
  refused(socket: Socket | null, retryAfterMs: number, trusted: TrustCheck | undefined, wakeable: boolean | object = false): void {
    if (socket === null || this.maxPauseMs === 0) return;
    if (!this.#saturated()) {
      this.#unpaced++;
      return;
    }
    if (trusted !== undefined && isTrusted(trusted, socket.remoteAddress ?? '')) return;
    this.pause(socket, retryAfterMs, wakeable);
  }

  /**
   * Read up to `n` connections paused for a capacity refusal again now, the longest-paused
   * first (the gate has room for what they hold); how many.
   */
  wake(n: number): number {
    return this.#wakeFrom(this.#wakeable, n);
  }

  /** `wake`, of the connections the gate `key` refused (`pause`'s `wakeable`) only. */
  wakeFor(key: object, n: number): number {
    return this.#wakeFrom(this.#lines.get(key), n);
  }

  /** A reload handed gate `from`'s place to `to` (limit-handover.ts): `to`'s free slots wake the connections `from` refused. */
  readonly rekey = (from: object, to: object): void => this.#lines.move(from, to);

  /** From now on, wake each gate's paused connections for its free slots, every few ms (refusal-refill.ts). */
  refillFrom(rooms: Rooms, tickMs?: number): void {
    this.#refill?.stop();
    this.#refill = new RefusalRefill(this, rooms, tickMs);
  }

  #wakeFrom(from: ReadonlySet<Socket>, n: number): number {
    let woken = 0;
    for (const s of from) {
      if (woken >= n) break;
      this.#unline(s);
      if (!this.#paused.has(s) || s.destroyed) continue;
      this.resume(s);
      woken++;
    }
    this.#woken += woken;
    return woken;
  }

  /**
   * Stop reading `socket` for `min(retryAfterMs, maxPauseMs)` ms — a capacity refusal's
   * (`wakeable`) up to `lineCapMs` when that is longer — less up to a quarter at random.
   */
  pause(socket: Socket, retryAfterMs: number, wakeable: boolean | object = false): void {
    const cap = wakeable !== false && this.maxPauseMs > 0 ? Math.max(this.maxPauseMs, this.lineCapMs) : this.maxPauseMs;
    const full = Math.min(retryAfterMs, cap);
    if (!(full > 0) || socket.destroyed) return;
    const ms = full * (1 - this.#random() / 4);
    const handle = handleOf(socket);
    if (handle === undefined) return;
    const old = this.#paused.get(socket);
    if (old !== undefined) {
      if (old !== null) clearTimeout(old);
    } else handle.readStop();
    if (!this.#watched.has(socket)) {
      this.#watched.add(socket);
      socket.once('close', () => void this.#forget(socket));
    } else this.#repaused++;
    this.#total++;
    // Re-added: the order of the set is the order of the pauses.
    this.#unline(socket);
    if (wakeable !== false) this.#wakeable.add(socket);
    if (typeof wakeable === 'object') this.#lines.add(socket, wakeable);
    const t = setTimeout(() => this.#ended(socket), ms);
    t.unref();
    this.#paused.set(socket, t);
  }

  /** A pause ran out: read the socket again in a later turn, `resumePerTurn` at a time. */
  #ended(socket: Socket): void {
    if (this.#paused.get(socket) === undefined) return;
    this.#paused.set(socket, null);
    this.#due.push(socket);
    this.#resuming ??= setImmediate(() => this.#resumeBatch());
  }

  #resumeBatch(): void {
    this.#resuming = undefined;
    let n = 0;
    while (this.#dueHead < this.#due.length && n < this.#resumePerTurn) {
      const s = this.#due[this.#dueHead++]!;
      if (this.#paused.get(s) !== null) continue; // resumed, closed or paused again meanwhile
      if (s.destroyed) {
        this.#forget(s);
        continue;
      }
      this.resume(s);
      this.#ranOut++;
      n++;
    }
    if (this.#dueHead < this.#due.length) this.#resuming = setImmediate(() => this.#resumeBatch());
    else {
      this.#due = [];
      this.#dueHead = 0;
    }
  }

  /** Read `socket` again now (a no-op for one not paused). */
  resume(socket: Socket): void {
    if (this.#forget(socket) && !socket.destroyed) handleOf(socket)?.readStart();
  }

  /** Read every paused connection again (drain: what they sent is answered, with Connection: close). */
  resumeAll(): void {
    for (const s of [...this.#paused.keys()]) this.resume(s);
  }

  /** Stop tracking `socket`'s pause; whether it was paused. */
  #forget(socket: Socket): boolean {
    const t = this.#paused.get(socket);
    if (t === undefined) return false;
    if (t !== null) clearTimeout(t);
    this.#paused.delete(socket);
    this.#unline(socket);
    return true;
  }

  #unline(socket: Socket): void {
    this.#wakeable.delete(socket);
    this.#lines.delete(socket);
  }
}
