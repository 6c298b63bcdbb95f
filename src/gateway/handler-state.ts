// What a request needs of the gateway (request-handler.ts), apart so that the files it uses may name it.
import type { Socket } from 'node:net';
import type { BadRequests } from './bad-requests.js';
import type { BurstLogs } from './burst-logs.js';
import type { GatewayCounters } from './gateway-counters.js';
import type { Logger } from './logger.js';
import type { MemoryBudget } from './memory-budget.js';
import type { RefusalPacer } from './refusal-pacer.js';
import type { RouteTable } from './route-table.js';
import type { SlowReaders } from './slow-readers.js';

/** What a request needs of the gateway; `table` is swapped whole on reload. */
export interface HandlerState extends BurstLogs {
  table: RouteTable;
  draining: boolean;
  /** Requests waiting for admission now. */
  queued: number;
  /** Of those, how many wait under each policy, by its name (waiting-count.ts; `sluice_requests_waiting`); a name leaves at 0. */
  readonly waiting: Map<string, number>;
  readonly logger: Logger;
  readonly counters: GatewayCounters;
  /** Requests refused for what they are (bad-requests.ts). */
  readonly badRequests: BadRequests;
  /** Refused keep-alive connections are not read until their Retry-After (refusal-pacer.ts). */
  readonly pacer: RefusalPacer;
  /** Responses waiting for slow clients, per upstream: they yield their connections (slow-readers.ts). */
  readonly slowReaders?: SlowReaders;
  /** Requests pipelined on a connection wait their turn (pipeline-limit.ts); how many wait, per socket. */
  readonly pipeline?: { backlog(socket: Socket): number; admitting(socket: Socket, waiting: boolean): void; readonly waiting?: number; readonly holding?: number };
  /** `host:port` of the proxy listener: the only authority an absolute-form target may name. */
  ownHost: string;
  /** Request bodies read before admission (`server.bodyMemory`). */
  readonly bodyMemory: MemoryBudget;
  /** Response bytes held ahead of slow clients (`server.responseMemory`). */
  readonly responseMemory: MemoryBudget;
}
