/**
 * Client connections within what the process may open (hostile finding F25). Every client
 * connection is a file descriptor, and so is every upstream connection, the admin listener's,
 * the log's. `server.maxConnections` (10 000 by default) above the process's limit (`ulimit
 * -n`: 1 024 is common) never engages: idle connections take every descriptor, and then
 * nothing can be opened — the admin listener's connections are reset (/healthz fails), the
 * upstream's fail (502s, which a breaker counts as the upstream's failures). So the cap on
 * client connections leaves room: a fixed reserve for the process itself, and the upstream
 * sockets (`maxSockets`, summed) up to half of what is left, and the connections over the cap
 * that linger after their 503 (connection-limit.ts).
 *
 * The limit is read from /proc/self/limits (Linux); elsewhere it is not known and the
 * configured value stands.
 */
import { readFileSync } from 'node:fs';
import { REFUSING } from './connection-limit.js';

/** Descriptors kept for the process itself: listeners, the admin's connections (ADMIN_MAX_CONNECTIONS, 24, at most), logs, IPC, a store. */
const RESERVE = 32;

/** The soft limit on open files of this process; undefined where it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m === null || m[1] === 'unlimited' ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * Client connections the process can hold beside `upstreamSockets` upstream connections
 * under a limit of `files` descriptors: `configured`, or less (at least 1) when it does not fit.
 */
export function connectionCap(configured: number, upstreamSockets: number, files: number | undefined): number {
  if (files === undefined) return configured;
  const room = files - RESERVE - REFUSING;
  const fits = room - Math.min(upstreamSockets, Math.floor(room / 2));
  return Math.max(1, Math.min(configured, fits));
}
