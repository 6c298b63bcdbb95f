/** The gateway's counters (`/status` `counters`; summed across workers: status-merge.ts). */
export interface GatewayCounters {
  requests: number;
  admitted: number;
  rejected: number;
  /** Upstream failures by kind (proxy.ts): no connection or one that broke (502 upstream_unreachable), silence (504 upstream_timeout), bytes that are not HTTP (502 upstream_invalid_response); a response cut mid-body counts too. */
  upstreamErrors: number;
  upstreamTimeouts: number;
  upstreamInvalid: number;
  /**
   * Requests sent to the upstream a second time: an idempotent one whose kept-alive connection,
   * idle STALE_IDLE_MS or more, closed under it before any answer (upstream-trip.ts).
   */
  upstreamResends: number;
  /** Request bodies refused before admission: too slow (408), too large (413), no memory for them (503). */
  bodyTimeouts: number;
  bodyTooLarge: number;
  bodyMemoryFull: number;
  /** Chunked request bodies refused 400 for chunks too small to be worth their cost (body-reader.ts). */
  bodyChunksTooSmall: number;
  /** Responses that outgrew their buffer ahead of a slow client: the upstream waited for the client, the request holding its slot. */
  slowReadersHeld: number;
  /** Such responses cut off (client disconnected, upstream request aborted) to give their slot to a request that wanted one (slow-readers.ts). */
  slowReadersCut: number;
  /** Clients disconnected for not keeping up with a pending response: nothing taken in a writeTimeout, or less than minReadRate over it. */
  writeTimeouts: number;
  /** Responses waiting for slow clients cut to give their upstream connection to a request waiting for one. */
  slowReadersYielded: number;
  /** Requests refused 503 `store_unavailable`: the store (Redis) was away and its failure mode refuses (`onStoreError: closed`). */
  storeUnavailable: number;
  /** Connections over `server.maxConnections` answered 503 `connections_full` (connection-limit.ts), and closed at accept without an answer (more of them lingering than it allows). */
  connectionsRefused: number;
  connectionsDropped: number;
  /** Connections closed (408) at headersTimeout without having sent a byte — a preconnect, a scanner, an idle flood: not bad requests, nothing was requested. */
  idleConnectionsClosed: number;
  /** Connections closed for pipelining: 16 or more of their requests waiting, with 20,000 waiting on all connections (pipeline-limit.ts MAX_WAITING). */
  pipelineCut: number;
  /** Reads of which the rest was held unparsed, the connection not read, because 16 requests waited on it (pipeline-feed.ts). */
  pipelineHeld: number;
  /** Requests that left the admission queue, never forwarded, because their client reset the connection (a FIN alone is a client still reading: its request is answered). */
  leftQueue: number;
  /** Requests never forwarded, outside the admission queue, because their client reset the connection: while their body was read, or before it was read at all (found when forwarding: request-handler.ts). */
  clientGone: number;
}

export function newCounters(): GatewayCounters {
  return { requests: 0, admitted: 0, rejected: 0, upstreamErrors: 0, upstreamTimeouts: 0, upstreamInvalid: 0, upstreamResends: 0, bodyTimeouts: 0, bodyTooLarge: 0, bodyMemoryFull: 0, bodyChunksTooSmall: 0, slowReadersHeld: 0, slowReadersCut: 0, writeTimeouts: 0, slowReadersYielded: 0, storeUnavailable: 0, leftQueue: 0, clientGone: 0, connectionsRefused: 0, connectionsDropped: 0, idleConnectionsClosed: 0, pipelineCut: 0, pipelineHeld: 0 };
}
