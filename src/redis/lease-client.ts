/**
 * One process's leases of one shared concurrency limit: the ids it holds in Redis, and the
 * three calls of the lease script (acquire, renew, release), each under the store's guard.
 * Lease ids are `<holder>#<n>`, the holder unique per process and limit.
 */
import { hostname } from 'node:os';
import { hashTag } from './keys.js';
import { LEASE_COMMAND } from './lease-scripts.js';
import { replyNumber } from './redis-rate-store.js';
import type { StoreLink } from './store-link.js';

export interface LeaseAnswer {
  /** Leases granted, renewed or released by the call. */
  readonly n: number;
  /** Other processes that want slots now (their callers wait). */
  readonly othersWanting: number;
  /** Leases held by everyone after the call. */
  readonly used: number;
  /** Ids that expired before their renewal and found no room: no longer held. */
  readonly lost: readonly string[];
}

export class LeaseClient {
  readonly holder: string;
  readonly limit: number;
  readonly ttlMs: number;
  readonly #link: StoreLink;
  readonly #keys: [string, string];
  /** Ids held, oldest first. */
  readonly held: string[] = [];
  #seq = 0;

  constructor(link: StoreLink, base: string, name: string, limit: number, ttlMs: number) {
    this.#link = link;
    this.limit = limit;
    this.ttlMs = ttlMs;
    const tag = hashTag(name);
    this.#keys = [`${base}${tag}:leases`, `${base}${tag}:want`];
    this.holder = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
  }

  /** The sorted set of leases (for tests and operators: ZCARD is the slots in use). */
  get key(): string {
    return this.#keys[0];
  }

  /** Ask for `n` more slots, saying this process wants `want`. The granted ids join `held`. */
  async acquire(n: number, want: number): Promise<LeaseAnswer> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(`${this.holder}#${++this.#seq}`);
    const a = await this.#call('a', want, ids);
    for (let i = 0; i < a.n; i++) this.held.push(ids[i]!);
    return a;
  }

  /**
   * Renew every held lease; lost ones leave `held`. `inUse`: how many of them have work running
   * on them — those come back in Redis even if the limit is full there (their leases vanished:
   * a FLUSHALL, an eviction, a failover), since that work runs whether Redis counts it or not.
   */
  async renew(want: number, inUse = 0): Promise<LeaseAnswer> {
    const a = await this.#call('n', want, [Math.min(inUse, this.held.length), ...this.held]);
    if (a.lost.length > 0) {
      const lost = new Set(a.lost);
      for (let i = this.held.length - 1; i >= 0; i--) if (lost.has(this.held[i]!)) this.held.splice(i, 1);
    }
    return a;
  }

  /** Give back `n` held slots (newest first); they leave `held` at once, whether or not Redis hears of it. */
  release(n: number, want: number): Promise<LeaseAnswer> {
    const ids = this.held.splice(Math.max(0, this.held.length - n), n);
    return this.#call('r', want, ids);
  }

  async #call(op: 'a' | 'n' | 'r', want: number, ids: (string | number)[]): Promise<LeaseAnswer> {
    const r = (await this.#link.script(LEASE_COMMAND, this.#keys, [op, this.limit, this.ttlMs, this.holder, want, ...ids])) as unknown[];
    return { n: replyNumber(r[0]), othersWanting: replyNumber(r[1]), used: replyNumber(r[2]), lost: r.slice(3).map(String) };
  }
}
