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
 * So, every `tickMs` while any connection is paused for a capacity refusal, each gate's free
 * slots (`rooms`: limit − in flight − queued) wake as many of the connections that gate refused,
 * the longest-paused first. Connections woken at a tick whose requests have not been admitted by
 * the next are counted against the room then (a woken connection's request is read in the loop
 * turn after the wake, or arrives later from its client): the same free slot does not wake one
 * connection per tick. Keyed by gate: a policy with room never wakes the connections another
 * policy refused (each would only be refused again).
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
  wakeFor(key: object, n: number): number;
}

export class RefusalRefill {
  readonly #pacer: Wakes;
  readonly #rooms: Rooms;
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** Per gate, the connections woken at the last tick. */
  #last = new Map<object, number>();
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
    this.#timer = setInterval(() => this.tick(), this.#tickMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Wake, per gate, as many of its paused connections as it has free slots (less last tick's); how many. */
  tick(): number {
    if (this.#pacer.wakeable === 0) {
      this.stop();
      this.#last.clear();
      return 0;
    }
    const last = this.#last;
    this.#last = new Map();
    let woken = 0;
    for (const [key, room] of this.#rooms()) {
      const n = room - (last.get(key) ?? 0);
      if (n <= 0) continue;
      const k = this.#pacer.wakeFor(key, n);
      if (k > 0) this.#last.set(key, k);
      woken += k;
    }
    this.#woken += woken;
    return woken;
  }
}

/** The connections paused for a capacity refusal, per gate that refused them, oldest first; `onAdd` at each. */
export class GateLines {
  readonly #lines = new Map<object, Set<Socket>>();
  readonly #lineOf = new Map<Socket, object>();
  readonly #onAdd: () => void;

  constructor(onAdd: () => void) {
    this.#onAdd = onAdd;
  }

  get(key: object): ReadonlySet<Socket> | undefined {
    return this.#lines.get(key);
  }

  add(socket: Socket, key: object): void {
    let line = this.#lines.get(key);
    if (line === undefined) this.#lines.set(key, (line = new Set()));
    line.add(socket);
    this.#lineOf.set(socket, key);
    this.#onAdd();
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
