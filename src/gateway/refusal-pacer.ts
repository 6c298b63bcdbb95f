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
 *   goodput to 38/s (bench/results/gateway-27e8a91-always-on-pausing.md);
 * - each pause is jittered down to 3/4 of its length at random, so connections refused in
 *   the same instant do not all come back in the same instant;
 * - connections come back at most `resumePerTurn` per loop turn (setImmediate batches): a
 *   thousand pauses ending together would otherwise be read, parsed and refused in one turn
 *   while admitted requests' responses — the events that give slots back — wait behind them.
 *
 * Node's HTTP parser reads the socket's handle directly (`socket.pause()` does not stop
 * it), so the handle's own readStop/readStart are used; a socket without them (a
 * test's duplex) is not paced. A connection through a trusted proxy is never paused: it
 * carries other clients' requests too.
 */
import type { Socket } from 'node:net';
import type { TrustCheck } from '../http/trusted-proxies.js';
import { isTrusted } from '../http/trusted-proxies.js';

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
}

export class RefusalPacer {
  /** Longest pause, ms; 0 turns pacing off. */
  maxPauseMs: number;
  readonly #paused = new Map<Socket, NodeJS.Timeout | null>();
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

  constructor(maxPauseMs: number, options: RefusalPacerOptions = {}) {
    this.maxPauseMs = maxPauseMs;
    this.#saturated = options.saturated ?? ((): boolean => true);
    this.#random = options.random ?? Math.random;
    this.#resumePerTurn = options.resumePerTurn ?? 64;
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

  /**
   * A refusal was just written on `socket` telling the client to come back in `retryAfterMs`:
   * pause it, unless it comes from a trusted proxy (one connection, many clients).
   */
  refused(socket: Socket | null, retryAfterMs: number, trusted: TrustCheck | undefined): void {
    if (socket === null || this.maxPauseMs === 0 || !this.#saturated()) return;
    if (trusted !== undefined && isTrusted(trusted, socket.remoteAddress ?? '')) return;
    this.pause(socket, retryAfterMs);
  }

  /** Stop reading `socket` for `min(retryAfterMs, maxPauseMs)` ms, less up to a quarter at random. */
  pause(socket: Socket, retryAfterMs: number): void {
    const full = Math.min(retryAfterMs, this.maxPauseMs);
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
    }
    this.#total++;
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
    return true;
  }
}
