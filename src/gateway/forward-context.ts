// What the forwarder needs of the gateway around it (proxy.ts), apart from the request.
import type { ServerResponse } from 'node:http';
import type { ProxyHeader } from '../http/forwarded.js';
import type { TrustCheck } from '../http/trusted-proxies.js';
import type { MemoryBudget } from './memory-budget.js';
import type { ReadWatch } from './read-watch.js';
import type { ConcurrencyGate } from '../concurrency/concurrency-gate.js';
import type { SlowReaders } from './slow-readers.js';
import type { UpstreamFailure } from './upstream-failures.js';

export interface ForwardContext {
  readonly trusted: TrustCheck | undefined;
  /** The header trusted proxies write (`proxyHeader`); the other is rebuilt from it (forward-headers.ts). @default 'x-forwarded-for' */
  readonly proxyHeader?: ProxyHeader;
  /** Request headers dropped unless the peer is trusted (lowercase; forward-headers.ts). */
  readonly stripped: ReadonlySet<string>;
  /** Response bytes held per client ahead of what it read (`server.responseBuffer`). */
  readonly responseBuffer: number;
  /** All responses' held bytes together (`server.responseMemory`). */
  readonly responseMemory: MemoryBudget;
  /** Clients with response bytes pending must keep up (`server.writeTimeout`, `server.minReadRate`), or are disconnected. */
  readonly readWatch: ReadWatch<ServerResponse>;
  /** An upstream failure happened (answered 502/504, or a response cut): for logs and counters. */
  readonly onUpstreamFailure: (kind: UpstreamFailure, error: string | undefined) => void;
  /** A slow client: its response outgrew the buffer (the upstream waits for it, the slot held), it was cut for its slot, or for not reading. */
  readonly onSlowReader: (what: 'held' | 'cut' | 'write-timeout') => void;
  /** Responses waiting for their clients yield their slots and upstream connections to requests that want them (slow-readers.ts). */
  readonly slowReaders?: SlowReaders;
  /** The concurrency gate whose slot an admitted request of this route holds (its policy's), if any. */
  readonly slotGate?: ConcurrencyGate;
}
