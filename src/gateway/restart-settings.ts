/**
 * The settings a reload cannot change in a running gateway: its listeners, the size of a head
 * its HTTP parser accepts, its worker count and its store connection. A reload that changes
 * them is logged as needing a restart and serves on with the running ones — so a process that
 * starts later under the same gateway (a worker forked again after it died) must be given the
 * running ones too, not the reloaded file's: it would otherwise listen on the new address
 * beside the old one, or keep its limits in another Redis than its siblings (hostile-2 R1).
 */
import type { GatewayConfig, ServerConfig } from './config-types.js';
import type { ResolvedConfig } from './resolved-config.js';

/** The keys of `section` whose values differ in `next` and `running`, as `<section>.<key>`. */
function changedKeys<T extends object>(section: string, next: T, running: T): string[] {
  const keys = new Set([...Object.keys(next), ...Object.keys(running)]);
  const differs = (k: string): boolean => JSON.stringify((next as Record<string, unknown>)[k]) !== JSON.stringify((running as Record<string, unknown>)[k]);
  return [...keys].filter(differs).map((k) => `${section}.${k}`);
}

/**
 * The restart-only settings `next` changes from `running` (the config the gateway started with,
 * not the last reload's: a change reloaded once and then undone needs no restart), each listener
 * setting by its own key — what a reload logs as `needsRestart`. Until gateway-edges a changed
 * `admin.tenantKeys` was logged as `admin`, which did not say that the dashboard goes on
 * showing tenant keys as before.
 */
export function restartNeeded(next: ResolvedConfig, running: ResolvedConfig): string[] {
  const restart = [...changedKeys('listen', next.listen, running.listen), ...changedKeys('admin', next.admin, running.admin)];
  if (next.server.maxHeaderSize !== running.server.maxHeaderSize) restart.push('server.maxHeaderSize');
  if (next.server.workers !== running.server.workers) restart.push('server.workers');
  if (JSON.stringify(next.store) !== JSON.stringify(running.store)) restart.push('store');
  return restart;
}

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

/**
 * `c` listening on `port` where it asks for any port (`listen.port: 0`, the default's not): with
 * workers the primary chooses the port once (shared-listener.ts's choosePort) and every worker
 * binds it — one forked again after every worker died too, which with port 0 bound another one
 * (the port the user was given gone for good). A reload asking for any port again keeps it.
 */
export function withPinnedPort(c: GatewayConfig, port: number | undefined): GatewayConfig {
  return port === undefined || c.listen?.port !== 0 ? c : { ...c, listen: { ...c.listen, port } };
}
