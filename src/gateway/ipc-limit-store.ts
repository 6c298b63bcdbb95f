/**
 * A worker's {@link SharedLimitStore}: each call is a message to the primary (which holds
 * the host's {@link LeaseLedger}) and its answer. The channel is node:cluster's IPC with
 * `serialization: 'advanced'` (structured clone: `Infinity` survives). Calls in flight when
 * the channel closes reject: the worker is going away anyway.
 */
import type { RatePolicy } from '../rate/policy.js';
import type { SharedLimitStore, SlotGrant, SlotUse, TokenGrant, TokenTable } from '../shared/limit-store.js';

/** A worker's call to the primary's ledger. */
export type LeaseCall =
  | { readonly t: 'lease'; readonly id: number; readonly op: 'takeTokens'; readonly args: readonly [string, RatePolicy, number, number, (TokenTable | undefined)?] }
  | { readonly t: 'lease'; readonly id: number; readonly op: 'returnTokens'; readonly args: readonly [string, RatePolicy, number, (TokenTable | undefined)?] }
  | { readonly t: 'lease'; readonly id: number; readonly op: 'takeSlots'; readonly args: readonly [string, number, number, number?, SlotUse?] }
  | { readonly t: 'lease'; readonly id: number; readonly op: 'returnSlots'; readonly args: readonly [string, number] }
  | { readonly t: 'lease'; readonly id: number; readonly op: 'useTable'; readonly args: readonly [TokenTable, boolean] }
  | { readonly t: 'lease'; readonly id: number; readonly op: 'releaseSlots'; readonly args: readonly [string] };

/** The primary's side: a worker's call answered by its holder's view of the ledger. */
export async function answerLease(store: SharedLimitStore, m: LeaseCall): Promise<unknown> {
  switch (m.op) {
    case 'takeTokens':
      return store.takeTokens(...m.args);
    case 'returnTokens':
      return store.returnTokens(...m.args);
    case 'takeSlots':
      return store.takeSlots(...m.args);
    case 'returnSlots':
      return store.returnSlots(...m.args);
    case 'useTable':
      return store.useTable?.(...m.args);
    case 'releaseSlots':
      return store.releaseSlots?.(...m.args);
  }
}

/** The primary's answer. */
export interface LeaseReply {
  readonly t: 'lease-reply';
  readonly id: number;
  readonly result?: unknown;
  readonly error?: string;
}

/** The primary's word that another worker waits for slots of `name` (LeaseLedger.onWanted). */
export interface LeaseWanted {
  readonly t: 'lease-wanted';
  readonly name: string;
  readonly fairShare: number;
}

/** The primary's ask to give up slots of `name` held by slow readers, for requests waiting on another worker (LeaseLedger.onYield): a running total. */
export interface LeaseYield {
  readonly t: 'lease-yield';
  readonly name: string;
  readonly asked: number;
}

export class IpcLimitStore implements SharedLimitStore {
  readonly #send: (m: LeaseCall) => boolean;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #watched = new Map<string, { readonly onWanted: (fairShare: number) => void; readonly onYield: ((asked: number) => void) | undefined }>();
  #next = 1;
  #closed = false;

  /** `send` writes to the primary (a cluster worker's process.send), false when the channel is closed. */
  constructor(send: (m: LeaseCall) => boolean) {
    this.#send = send;
  }

  /** Feed a message from the primary; true when it was one of ours. */
  handle(m: unknown): boolean {
    const w = m as Partial<LeaseWanted> | null;
    if (w !== null && typeof w === 'object' && w.t === 'lease-wanted') {
      if (typeof w.name === 'string' && typeof w.fairShare === 'number') this.#watched.get(w.name)?.onWanted(w.fairShare);
      return true;
    }
    const y = m as Partial<LeaseYield> | null;
    if (y !== null && typeof y === 'object' && y.t === 'lease-yield') {
      if (typeof y.name === 'string' && typeof y.asked === 'number') this.#watched.get(y.name)?.onYield?.(y.asked);
      return true;
    }
    const r = m as Partial<LeaseReply> | null;
    if (r === null || typeof r !== 'object' || r.t !== 'lease-reply' || typeof r.id !== 'number') return false;
    const p = this.#pending.get(r.id);
    if (p === undefined) return true;
    this.#pending.delete(r.id);
    if (r.error !== undefined) p.reject(new Error(r.error));
    else p.resolve(r.result);
    return true;
  }

  takeTokens(key: string, policy: RatePolicy, min: number, max: number, table?: TokenTable): Promise<TokenGrant> {
    return this.#call({ t: 'lease', id: 0, op: 'takeTokens', args: [key, policy, min, max, table] }) as Promise<TokenGrant>;
  }

  returnTokens(key: string, policy: RatePolicy, n: number, table?: TokenTable): Promise<void> {
    return this.#call({ t: 'lease', id: 0, op: 'returnTokens', args: [key, policy, n, table] }) as Promise<void>;
  }

  takeSlots(name: string, limit: number, want: number, inUse?: number, use?: SlotUse): Promise<SlotGrant> {
    const args: readonly [string, number, number, number?, SlotUse?] = use !== undefined ? [name, limit, want, inUse ?? 0, use] : inUse === undefined ? [name, limit, want] : [name, limit, want, inUse];
    return this.#call({ t: 'lease', id: 0, op: 'takeSlots', args }) as Promise<SlotGrant>;
  }

  returnSlots(name: string, n: number): Promise<void> {
    return this.#call({ t: 'lease', id: 0, op: 'returnSlots', args: [name, n] }) as Promise<void>;
  }

  useTable(table: TokenTable, using: boolean): Promise<void> {
    return this.#call({ t: 'lease', id: 0, op: 'useTable', args: [table, using] }) as Promise<void>;
  }

  releaseSlots(name: string): Promise<void> {
    return this.#call({ t: 'lease', id: 0, op: 'releaseSlots', args: [name] }) as Promise<void>;
  }

  watchSlots(name: string, onWanted: (fairShare: number) => void, onYield?: (asked: number) => void): () => void {
    const w = { onWanted, onYield };
    this.#watched.set(name, w);
    return () => {
      if (this.#watched.get(name) === w) this.#watched.delete(name);
    };
  }

  /** The primary drops a worker's holdings when it exits; here only the calls in flight end. */
  close(): Promise<void> {
    this.#closed = true;
    this.#watched.clear();
    for (const p of this.#pending.values()) p.reject(new Error('the lease channel closed'));
    this.#pending.clear();
    return Promise.resolve();
  }

  #call(m: LeaseCall): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('the lease channel closed'));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        if (!this.#send({ ...m, id } as LeaseCall)) {
          this.#pending.delete(id);
          reject(new Error('the lease channel closed'));
        }
      } catch (err) {
        this.#pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }
}
