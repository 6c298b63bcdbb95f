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
 * - pausing stops for a client address that shows it does not wait for its connections (a
 *   pool): while some of its connections are paused it opens new ones faster than it holds
 *   connections (more than `poolOpened` and more than twice the connections it had open when
 *   the second began; not in its first 3 s, a connect storm). A load balancer's or an HTTP
 *   client's pool carries independent requests: pausing one of its connections does not slow it, it
 *   only stalls the request behind the refusal, and the pool opens another connection
 *   instead — measured on this host (bench/results/gateway-5b3e90e-epyc-pool-collapse.md),
 *   an open-loop load through a 4,096-socket pool went to 0 goodput at 8x and 84% with a
 *   1 s p99 at 2x while pausing. The verdict holds `poolHoldMs` (renewed while the
 *   client keeps showing it); that address's paused connections are read again at once.
 *   A closed-loop client (wrk, a retry loop on one connection) opens none and stays paced.
 *   (A paused connection's close is no sign: the pacer does not read it, so a client's FIN or
 *   RST goes unseen until the pause ends, and the closes it does see are mostly the gateway's
 *   own — a refusal with Connection: close. Counting them as a client giving up judged wrk a
 *   pool at 2,000 connections: goodput 598/s against 1,933/s without that rule.)
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
  /** New connections within a second, while some are paused, that may make a client a pool. @default 64 */
  readonly poolOpened?: number;
  /** How long a client judged a pool is not paused, ms. @default 30000 */
  readonly poolHoldMs?: number;
  /** Clock for the pool windows, ms. @default performance.now */
  readonly now?: () => number;
}

/** What the pacer knows of one client address. */
interface Client {
  /** Its connections open now (those seen by `connected`). */
  open: number;
  /** Its connections paused now. */
  readonly paused: Set<Socket>;
  /** The current one-second window: start, connections open at its start, opened in it. */
  windowAt: number;
  openAtWindow: number;
  opened: number;
  /** Not paused until then (a pool). */
  poolUntil: number;
  /** When the pacer first saw it (since it last had nothing open). */
  readonly since: number;
}

/** New connections in a client's first 3 s are not counted towards a pool verdict. */
const STORM_GRACE_MS = 3000;

/** Most client addresses remembered; past it, addresses with nothing open or paused are dropped first. */
const MAX_CLIENTS = 100_000;

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
  readonly #clients = new Map<string, Client>();
  readonly #poolOpened: number;
  readonly #poolHoldMs: number;
  readonly #now: () => number;

  constructor(maxPauseMs: number, options: RefusalPacerOptions = {}) {
    this.maxPauseMs = maxPauseMs;
    this.#saturated = options.saturated ?? ((): boolean => true);
    this.#random = options.random ?? Math.random;
    this.#resumePerTurn = options.resumePerTurn ?? 64;
    this.#poolOpened = options.poolOpened ?? 64;
    this.#poolHoldMs = options.poolHoldMs ?? 30_000;
    this.#now = options.now ?? ((): number => performance.now());
  }

  /** Client addresses judged pools now (not paused). */
  get pools(): number {
    const now = this.#now();
    let n = 0;
    for (const c of this.#clients.values()) if (c.poolUntil > now) n++;
    return n;
  }

  /** Times a client address was judged a pool. */
  get poolVerdicts(): number {
    return this.#verdicts;
  }

  #verdicts = 0;

  /**
   * A client connection was accepted (the server's 'connection' event): counted for its
   * address, so that a client opening connections while its others are paused is seen.
   */
  connected(socket: Socket): void {
    const addr = socket.remoteAddress;
    if (addr === undefined) return;
    const c = this.#client(addr);
    this.#window(c);
    c.open++;
    // A client's first seconds are its connect storm (wrk opens thousands at once, retried SYNs
    // arrive a second or three later): not counted.
    if (c.paused.size > 0 && this.#now() - c.since >= STORM_GRACE_MS) {
      c.opened++;
      if (c.opened > this.#poolOpened && c.opened > 2 * c.openAtWindow) this.#pool(c);
    }
    socket.once('close', () => {
      c.open--;
      if (c.open <= 0 && c.paused.size === 0 && c.poolUntil <= this.#now()) this.#clients.delete(addr);
    });
  }

  #client(addr: string): Client {
    let c = this.#clients.get(addr);
    if (c === undefined) {
      if (this.#clients.size >= MAX_CLIENTS) this.#prune();
      c = { open: 0, paused: new Set(), windowAt: this.#now(), openAtWindow: 0, opened: 0, poolUntil: 0, since: this.#now() };
      this.#clients.set(addr, c);
    }
    return c;
  }

  /** Start a new one-second window for `c` if its current one is over. */
  #window(c: Client): void {
    const now = this.#now();
    if (now - c.windowAt < 1000) return;
    c.windowAt = now;
    c.openAtWindow = c.open;
    c.opened = 0;
  }

  /** Judge `c` a pool: not paused for poolHoldMs, its paused connections read again now. */
  #pool(c: Client): void {
    if (c.poolUntil <= this.#now()) this.#verdicts++;
    c.poolUntil = this.#now() + this.#poolHoldMs;
    for (const s of [...c.paused]) this.resume(s);
  }

  /** Drop addresses with nothing open or paused and no verdict in force (the map is bounded). */
  #prune(): void {
    const now = this.#now();
    for (const [addr, c] of this.#clients) if (c.paused.size === 0 && c.poolUntil <= now && c.open <= 0) this.#clients.delete(addr);
  }

  /** Whether `socket`'s client address is judged a pool now. */
  #isPool(socket: Socket): boolean {
    const addr = socket.remoteAddress;
    if (addr === undefined) return false;
    const c = this.#clients.get(addr);
    return c !== undefined && c.poolUntil > this.#now();
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
    if (this.#isPool(socket)) return;
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
    const addr = socket.remoteAddress;
    const c = addr === undefined ? undefined : this.#client(addr);
    c?.paused.add(socket);
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
    const addr = socket.remoteAddress;
    if (addr !== undefined) this.#clients.get(addr)?.paused.delete(socket);
    return true;
  }
}
