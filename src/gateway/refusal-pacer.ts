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
 * Paced, a refused connection costs one refusal per pause instead of one per round trip.
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

export class RefusalPacer {
  /** Longest pause, ms; 0 turns pacing off. */
  maxPauseMs: number;
  readonly #paused = new Map<Socket, NodeJS.Timeout>();
  /** Sockets with a close listener of ours: one each, however often paused. */
  readonly #watched = new WeakSet<Socket>();
  #total = 0;

  constructor(maxPauseMs: number) {
    this.maxPauseMs = maxPauseMs;
  }

  /** Connections not being read now. */
  get paused(): number {
    return this.#paused.size;
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
    if (socket === null || this.maxPauseMs === 0) return;
    if (trusted !== undefined && isTrusted(trusted, socket.remoteAddress ?? '')) return;
    this.pause(socket, retryAfterMs);
  }

  /** Stop reading `socket` for `min(retryAfterMs, maxPauseMs)` ms. */
  pause(socket: Socket, retryAfterMs: number): void {
    const ms = Math.min(retryAfterMs, this.maxPauseMs);
    if (!(ms > 0) || socket.destroyed) return;
    const handle = handleOf(socket);
    if (handle === undefined) return;
    const old = this.#paused.get(socket);
    if (old !== undefined) clearTimeout(old);
    else handle.readStop();
    if (!this.#watched.has(socket)) {
      this.#watched.add(socket);
      socket.once('close', () => this.#forget(socket));
    }
    this.#total++;
    const t = setTimeout(() => this.resume(socket), ms);
    t.unref();
    this.#paused.set(socket, t);
  }

  /** Read `socket` again now (a no-op for one not paused). */
  resume(socket: Socket): void {
    const t = this.#paused.get(socket);
    if (t === undefined) return;
    clearTimeout(t);
    this.#paused.delete(socket);
    if (!socket.destroyed) handleOf(socket)?.readStart();
  }

  /** Read every paused connection again (drain: what they sent is answered, with Connection: close). */
  resumeAll(): void {
    for (const s of [...this.#paused.keys()]) this.resume(s);
  }

  #forget(socket: Socket): void {
    const t = this.#paused.get(socket);
    if (t === undefined) return;
    clearTimeout(t);
    this.#paused.delete(socket);
  }
}
