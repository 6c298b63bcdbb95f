// What the forwarder needs of the gateway around it (proxy.ts), apart from the request: built
// once per route (request-handler.ts asks for it), since routes are rebuilt on reload.
import type { ServerResponse } from 'node:http';
import type { ProxyHeader } from '../http/forwarded.js';
import type { TrustCheck } from '../http/trusted-proxies.js';
import type { MemoryBudget } from './memory-budget.js';
import { ReadWatch } from './read-watch.js';
import type { ConcurrencyGate } from '../concurrency/concurrency-gate.js';
import { countSlowReader } from './slow-readers.js';
import type { SlowReaders } from './slow-readers.js';
import { failureReason } from './upstream-failures.js';
import type { UpstreamFailure } from './upstream-failures.js';
import { KernelProgress } from './socket-progress.js';
import type { GatewayCounters } from './gateway-counters.js';
import type { Logger } from './logger.js';
import type { RejectionLog } from './rejection-log.js';
import type { LiveRoute, RouteTable } from './route-table.js';

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
  /** A request was sent again, its kept-alive upstream connection having closed under it (`error`): for counts and logs. */
  readonly onUpstreamResend: (error: string) => void;
  /** A slow client: its response outgrew the buffer (the upstream waits for it, the slot held), it was cut for its slot, or for not reading. */
  readonly onSlowReader: (what: 'held' | 'cut' | 'write-timeout') => void;
  /** Responses waiting for their clients yield their slots and upstream connections to requests that want them (slow-readers.ts). */
  readonly slowReaders?: SlowReaders;
  /** The concurrency gate whose slot an admitted request of this route holds (its policy's), if any. */
  readonly slotGate?: ConcurrencyGate;
}

/** What building a route's ForwardContext needs of the gateway (request-handler.ts's HandlerState). */
export interface ForwardingState {
  readonly table: RouteTable;
  readonly responseMemory: MemoryBudget;
  readonly slowReaders?: SlowReaders;
  readonly counters: GatewayCounters;
  readonly slowReaderCuts: RejectionLog;
  readonly logger: Logger;
}

/** What clients have taken of their responses: one probe for the process (socket-progress.ts). */
const kernelProgress = new KernelProgress();

/** Per route table, one watch of slow readers (its settings are the table's config). */
const readWatches = new WeakMap<RouteTable, ReadWatch<ServerResponse>>();

function readWatch(table: RouteTable): ReadWatch<ServerResponse> {
  let watch = readWatches.get(table);
  if (watch === undefined) {
    const server = table.config.server;
    watch = new ReadWatch<ServerResponse>({ windowMs: server.writeTimeoutMs, minBytesPerS: server.minReadRate, probe: kernelProgress });
    readWatches.set(table, watch);
  }
  return watch;
}

/** Per route, built once: what forwarding needs of the gateway (routes are rebuilt on reload). */
const forwardContexts = new WeakMap<LiveRoute, ForwardContext>();

export function forwardContext(state: ForwardingState, route: LiveRoute): ForwardContext {
  let ctx = forwardContexts.get(route);
  if (ctx === undefined) forwardContexts.set(route, (ctx = buildForwardContext(state, route)));
  return ctx;
}

function buildForwardContext(state: ForwardingState, route: LiveRoute): ForwardContext {
  const table = state.table;
  return {
    trusted: table.trusted,
    ...(table.config.proxyHeader !== undefined ? { proxyHeader: table.config.proxyHeader } : {}),
    stripped: table.stripped,
    responseBuffer: table.config.server.responseBuffer,
    responseMemory: state.responseMemory,
    readWatch: readWatch(table),
    ...(state.slowReaders !== undefined ? { slowReaders: state.slowReaders } : {}),
    ...(route.policy?.admission.concurrency !== undefined ? { slotGate: route.policy.admission.concurrency } : {}),
    onSlowReader: (what) => countSlowReader(state.counters, state.slowReaderCuts, route.config.name, what),
    onUpstreamFailure: (kind, error) => {
      if (kind === 'timeout') state.counters.upstreamTimeouts++;
      else if (kind === 'invalid') state.counters.upstreamInvalid++;
      else state.counters.upstreamErrors++;
      state.logger.debug('upstream failure', { route: route.config.name, upstream: route.upstream.config.name, reason: failureReason(kind), error });
    },
    onUpstreamResend: (error) => {
      state.counters.upstreamResends++;
      state.logger.debug('upstream request sent again', { route: route.config.name, upstream: route.upstream.config.name, error });
    },
  };
}
