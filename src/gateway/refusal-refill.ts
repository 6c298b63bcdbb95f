/**
 * Free slots are filled from the connections paused for a capacity refusal, whatever freed them
 * (issue 9, workers). The pacer wakes one paused connection when a permit ends (`permitEnded`),
 * but slots also come free with no permit ending: a worker's lease grows (the other worker's
 * demand ended, or its share came back), a woken connection had nothing to send (a client that
 * waits its Retry-After) or went away, a queued caller left. Each such slot then sat idle, its
 * would-be requests waiting in paused connections' kernel buffers, until a pause ran out (up to
 * `lineCapMs`, 2.5 s by default) — or until some other permit of that gate ended, and a gate with
 * nothing in flight has none to end: a worker whose every connection was paused served nobody.
 *
 * So, every `tickMs` while any connection is paused for a capacity refusal and no permit ended
 * since the last tick, each gate's free slots (`rooms`: limit − in flight − queued) that were free
 * at the last tick too wake as many of the connections that gate refused, the longest-paused
 * first, less every connection woken since the last tick began (a woken connection's request is
 * read in a later loop turn than its wake; until then the slot it is for still looks free). Only
 * at a quiet gate: while permits end, each end wakes one (`permitEnded`) and the line moves by
 * itself. Woken at every tick that found a slot free, under a closed loop of 500 connections on one
 * worker — slots free for a moment, between a response and the next grant, hundreds of times a
 * second — the wakes doubled and goodput fell by 5-15% (8 of 8 pairs against main;
 * bench/results/closed-refill-vs-092652d-busy.md). Keyed by gate: a policy with room never wakes
 * the connections another policy refused (each would only be refused again).
 */
import type { Socket } from 'node:net';
import type { RouteTable } from './route-table.js';

/** The gates' free slots now: [gate, limit − in flight − queued]. */
export type Rooms = () => Iterable<readonly [key: object, room: number]>;

/** A route table's concurrency gates and their free slots (`Rooms`). */
export function* gateRooms(table: RouteTable): Generator<readonly [object, number]> {
  for (const p of table.policies.values()) {
    const g = p.admission.concurrency;
    if (g !== undefined) yield [g, g.limit - g.inFlight - g.queued];
  }
}

/** Refill period, ms. */
export const REFILL_MS = 5;

/** What the refill asks of the pacer. */
interface Wakes {
  readonly wakeable: number;
  /** Connections woken so far, by any path. */
  readonly woken: number;
  wakeFor(key: object, n: number): number;
}

export class RefusalRefill {
  readonly #pacer: Wakes;
  readonly #rooms: Rooms;
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** The pacer's `woken` when the last tick began. */
  #mark = 0;
  /** Each gate's free slots at the last tick. */
  #was = new Map<object, number>();
  /** A permit ended since the last tick. */
  #ended = false;
  #woken = 0;

  constructor(pacer: Wakes, rooms: Rooms, tickMs = REFILL_MS) {
    this.#pacer = pacer;
    this.#rooms = rooms;
    this.#tickMs = tickMs;
  }

  /** Connections woken for free slots so far. */
  get woken(): number {
    return this.#woken;
  }

  /** A connection was paused for a capacity refusal: tick until none is. */
  arm(): void {
    if (this.#timer !== undefined) return;
    this.#mark = this.#pacer.woken;
    this.#timer = setInterval(() => this.tick(), this.#tickMs);
    this.#timer.unref();
  }

  /** A permit ended (the pacer woke one connection for its slot, when the queue is short). */
  permitEnded(): void {
    this.#ended = true;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** At a quiet gate, wake as many of its paused connections as it had free slots at two ticks, less those woken since the last began; how many. */
  tick(): number {
    if (this.#pacer.wakeable === 0) {
      this.stop();
      this.#was.clear();
      return 0;
    }
    const recent = this.#pacer.woken - this.#mark;
    this.#mark = this.#pacer.woken;
    const was = this.#was;
    this.#was = new Map();
    if (this.#ended) {
      this.#ended = false;
      return 0;
    }
    let woken = 0;
    for (const [key, room] of this.#rooms()) {
      if (room > 0) this.#was.set(key, room);
      const n = Math.min(room, was.get(key) ?? 0) - recent;
      if (n > 0) woken += this.#pacer.wakeFor(key, n);
    }
    this.#woken += woken;
    return woken;
  }
}

const NONE: ReadonlySet<Socket> = new Set();

/** The connections paused for a capacity refusal, per gate that refused them, oldest first; `onAdd` at each. */
export class GateLines {
  readonly #lines = new Map<object, Set<Socket>>();
  readonly #lineOf = new Map<Socket, object>();
  readonly #onAdd: () => void;

  constructor(onAdd: () => void) {
    this.#onAdd = onAdd;
  }

  /** The connections `key` refused, oldest first (none: an empty set). */
  get(key: object): ReadonlySet<Socket> {
    return this.#lines.get(key) ?? NONE;
  }

  add(socket: Socket, key: object): void {
    let line = this.#lines.get(key);
    if (line === undefined) this.#lines.set(key, (line = new Set()));
    line.add(socket);
    this.#lineOf.set(socket, key);
    this.#onAdd();
  }

  /** The connections `from` refused are `to`'s to wake from now on (a reload handed `from`'s place to `to`), after its own. */
  move(from: object, to: object): void {
    const line = this.#lines.get(from);
    if (line === undefined || from === to) return;
    this.#lines.delete(from);
    for (const s of line) {
      this.#lineOf.delete(s);
      this.add(s, to);
    }
  }

  delete(socket: Socket): void {
    const key = this.#lineOf.get(socket);
    if (key === undefined) return;
    this.#lineOf.delete(socket);
    const line = this.#lines.get(key)!;
    line.delete(socket);
    if (line.size === 0) this.#lines.delete(key);
  }
}
