/**
 * The messages between a load generator and a server process it forked (an upstream, a
 * gateway, or both): the child announces where it listens, then opens and closes
 * measurement windows on request. Shared by the demo and bench/gateway.ts.
 */
import type { ProcessWindow } from './process-meter.js';
import type { UpstreamWindow } from './upstream.js';

/** Child → parent, once listening. */
export interface ReadyMessage {
  readonly type: 'ready';
  /** Where load goes: the gateway (or proxy) when there is one, else the upstream. */
  readonly url: string;
  /** The upstream, when this process hosts it. */
  readonly upstreamUrl?: string;
  /** The gateway's admin listener, when there is one. */
  readonly adminUrl?: string;
}

export type Request = { readonly type: 'open'; readonly id: number } | { readonly type: 'close'; readonly id: number } | { readonly type: 'backlog'; readonly id: number };

/** Child → parent, the answer to a request of the same id. */
export interface Reply {
  readonly type: 'reply';
  readonly id: number;
  /** 'close': the process's window. */
  readonly process?: ProcessWindow;
  /** 'close': the upstream's window, when this process hosts it. */
  readonly upstream?: UpstreamWindow;
  /** 'backlog': requests queued or in service at the upstream (0 without one). */
  readonly backlog?: number;
}

export interface Failed {
  readonly type: 'failed';
  readonly message: string;
}

export type ChildMessage = ReadyMessage | Reply | Failed;
