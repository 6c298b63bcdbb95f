/** The proxy listener's settings from the config, applied at the start and again at every reload (moved out of gateway.ts). */
import type { Server } from 'node:http';
import type { ConnectionLimit } from './connection-limit.js';
import { connectionCap, openFileLimit } from './file-limit.js';
import type { Logger } from './logger.js';
import type { LoopSaturation } from './loop-saturation.js';
import type { RefusalPacer } from './refusal-pacer.js';
import type { ResolvedConfig } from './resolved-config.js';
import { headSockets } from './route-table.js';

export function applyServerLimits(server: Server, c: ResolvedConfig, pacer: RefusalPacer, loop: LoopSaturation, logger: Logger, connections: ConnectionLimit): void {
  pacer.configure(c.server);
  if (loop.threshold !== c.server.pauseRefusedLoad) loop.threshold = c.server.pauseRefusedLoad;
  server.headersTimeout = c.server.headersTimeoutMs;
  server.requestTimeout = c.server.requestTimeoutMs;
  server.keepAliveTimeout = c.server.keepAliveTimeoutMs;
  // Within what the process may open, with room for its upstream and admin connections (file-limit.ts).
  const files = openFileLimit();
  const upstreamSockets = [...c.upstreams.values()].reduce((n, u) => n + u.maxSockets + headSockets(u.maxSockets), 0);
  const cap = connectionCap(c.server.maxConnections, upstreamSockets, files);
  if (cap < c.server.maxConnections) {
    logger.warn('server.maxConnections is more than this process can open: client connections capped', { maxConnections: c.server.maxConnections, openFiles: files, upstreamSockets, cap });
  }
  connections.apply(server, cap);
  // node:http keeps only the first 2,000 header lines by default and silently drops the rest —
  // a Content-Length or Transfer-Encoding past them would go unseen (hostile finding F5). The
  // head's size (maxHeaderSize) bounds the count instead.
  server.maxHeadersCount = 0;
}
