/** The options and seams of a SlotLease (slot-lease.ts): what it is told, and what it tells. */
import type { SlotGate } from '../concurrency/slot-reclaimer.js';

/**
 * What the gate does while the store is away: refuse (`refuseMs`, its Retry-After), or admit up
 * to `limit` — less, with `others` (what the other holders admit in all meanwhile), the leases
 * the others held above it at the store's last answer: their work on those runs on.
 */
export type StoreAway = { readonly refuseMs: number } | { readonly limit: number; readonly others?: number };

/**
 * Work holding slots of a gate that could give them up for callers elsewhere (the gateway's
 * slow readers, slow-readers.ts). The lease tells the store how many (SlotUse), and gives them
 * up when the store asks (watchSlots' `onYield`): callers wait at another holder and none is free.
 */
export interface SlotYielder {
  /** Slots of `gate` whose work could give them up now, and those being given up (ended, their end not yet complete). */
  yieldable(gate: SlotGate): { readonly now: number; readonly freeing: number };
  /** Give up `n` more slots of `gate` (the work that could give them up longest first); how many were. */
  yieldSlots(gate: SlotGate, n: number): number;
}

export interface SlotLeaseOptions {
  /** The store's name for this limit (the same in every process). */
  readonly name: string;
  /** The shared limit. */
  readonly limit: number;
  /** Slots asked for at start: this process's expected share. */
  readonly initial: number;
  /** Most slots asked for in one call. */
  readonly batch: number;
  /** Tick period, ms. */
  readonly tickMs: number;
  /** A store call failed (it is retried next tick). */
  readonly onError?: (err: unknown) => void;
  /** What could give slots of the gate up for callers of other holders (the store asks: watchSlots' `onYield`). */
  readonly yielder?: SlotYielder;
}
