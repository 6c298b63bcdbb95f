/**
 * The settings a reload cannot change in a running gateway: its listeners, the size of a head
 * its HTTP parser accepts, its worker count and its store connection. A reload that changes
 * them is logged as needing a restart and serves on with the running ones — so a process that
 * starts later under the same gateway (a worker forked again after it died) must be given the
 * running ones too, not the reloaded file's: it would otherwise listen on the new address
 * beside the old one, or keep its limits in another Redis than its siblings (hostile-2 R1).
 */
import type { GatewayConfig, ServerConfig } from './config-types.js';

/** `next` with the restart-only settings of `running`. */
export function withRunningRestartSettings(next: GatewayConfig, running: GatewayConfig): GatewayConfig {
  const { listen: _l, admin: _a, store: _s, server: nextServer, ...rest } = next;
  const { maxHeaderSize: _m, workers: _w, ...reloadable } = nextServer ?? {};
  const server: ServerConfig = {
    ...reloadable,
    ...(running.server?.maxHeaderSize === undefined ? {} : { maxHeaderSize: running.server.maxHeaderSize }),
    ...(running.server?.workers === undefined ? {} : { workers: running.server.workers }),
  };
  return {
    ...rest,
    ...(running.listen === undefined ? {} : { listen: running.listen }),
    ...(running.admin === undefined ? {} : { admin: running.admin }),
    ...(running.store === undefined ? {} : { store: running.store }),
    ...(nextServer === undefined && running.server === undefined ? {} : { server }),
  };
}
