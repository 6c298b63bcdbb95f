// Connections placed on a chosen worker of a 2-worker gateway: which worker a connection lands
// on is the kernel's choice (the workers accept for themselves), and one that landed on the wrong
// worker is closed and another opened. Each is told apart by the process holding its accepted
// socket (Linux /proc: the socket's inode in /proc/net/tcp, then the worker pid from /status whose
// descriptors name it), not by a rise of a worker's open connections in /status: a connection
// closing on the same worker at the same moment cancelled that rise, and place() waited its 30 s.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { expect } from 'vitest';
import { get, onCleanup, within } from './helpers.js';

export interface WorkerView {
  readonly index: number;
  readonly pid: number;
  readonly status?: { readonly connections: { readonly open: number }; readonly counters: { readonly slowReadersHeld: number; readonly slowReadersCut: number } };
}
export interface View {
  readonly workers: readonly WorkerView[];
  readonly counters: { readonly slowReadersCut: number };
  readonly leases: Record<string, { readonly held: Record<string, number> }>;
}

export interface Placement {
  /** The primary's /status. */
  view(): Promise<View>;
  /** Open a connection and tell which worker took it; one on `not` is closed unused, and another opened. */
  place(not: number): Promise<{ s: Socket; worker: number }>;
  /** Worker `index`'s view. */
  worker(v: View, index: number): WorkerView | undefined;
  /** The slots of the lease pool `pool` (the first when undefined) that worker `index` holds. */
  heldBy(v: View, index: number, pool?: string): number;
}

export function placement(url: URL, adminUrl: string): Placement {
  const view = async (): Promise<View> => JSON.parse((await get(`${adminUrl}/status`)).body) as View;
  const sockets: Socket[] = [];
  onCleanup(async () => sockets.forEach((s) => s.destroy()));
  const open = (): Socket => {
    const s = connect(Number(url.port), url.hostname);
    s.on('error', () => undefined);
    sockets.push(s);
    return s;
  };
  const place = async (not: number): Promise<{ s: Socket; worker: number }> => {
    const pids = new Map((await view()).workers.map((w) => [w.pid, w.index] as const));
    for (let tries = 0; tries < 200; tries++) {
      const s = open();
      await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
      let worker = -1;
      expect(
        await within(30_000, () => {
          worker = acceptedBy(Number(url.port), s.localPort!, pids);
          return worker >= 0;
        }, 20),
        `no worker of ${JSON.stringify([...pids])} accepted the connection from port ${s.localPort}`,
      ).toBe(true);
      if (worker !== not) return { s, worker };
      s.destroy();
    }
    throw new Error('200 connections, all on one worker');
  };
  return {
    view,
    place,
    worker: (v, index) => v.workers.find((w) => w.index === index),
    heldBy: (v, index, pool) => {
      const p = pool === undefined ? Object.values(v.leases)[0] : v.leases[pool];
      return Object.entries(p?.held ?? {}).find(([h]) => h.startsWith(`worker-${index}-`))?.[1] ?? 0;
    },
  };
}

/** `ip:port` as /proc/net/tcp writes an IPv4 loopback address: 0100007F:1F90. */
const procAddress = (port: number): string => `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * The index of the worker (of `pids`, pid to index) holding the gateway's end of the loopback
 * connection from `clientPort` to `gatewayPort`; -1 while none does (not accepted yet).
 */
function acceptedBy(gatewayPort: number, clientPort: number, pids: ReadonlyMap<number, number>): number {
  const [local, remote] = [procAddress(gatewayPort), procAddress(clientPort)];
  // Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
  const row = readFileSync('/proc/net/tcp', 'utf8').split('\n').map((l) => l.trim().split(/\s+/)).find((c) => c[1] === local && c[2] === remote);
  const inode = row?.[9];
  if (inode === undefined || inode === '0') return -1;
  for (const [pid, index] of pids) {
    const dir = `/proc/${pid}/fd`;
    let fds: string[];
    try {
      fds = readdirSync(dir);
    } catch {
      continue; // exited
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`${dir}/${fd}`) === `socket:[${inode}]`) return index;
      } catch {
        // closed meanwhile
      }
    }
  }
  return -1;
}

/** Write `path` on `s` and read the answer: its head, and with a 200 its body up to `body`. */
export function answer(s: Socket, path: string, body: string): Promise<string> {
  return new Promise<string>((resolve) => {
    let text = '';
    s.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      if (text.includes('\r\n\r\n') && (!text.startsWith('HTTP/1.1 200') || text.endsWith(body))) resolve(text);
    });
    s.on('close', () => resolve(text));
    s.write(`GET ${path} HTTP/1.1\r\nHost: gw\r\n\r\n`);
  });
}
