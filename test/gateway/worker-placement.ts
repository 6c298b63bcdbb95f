// Connections placed on a chosen worker of a 2-worker gateway: which worker a connection lands
// on is the kernel's choice, so each is told apart by the workers' open connections in /status,
// and one that landed on the wrong worker is closed and another opened.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { expect } from 'vitest';
import { get, onCleanup, within } from './helpers.js';

export interface WorkerView {
  readonly index: number;
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
  /** Each worker's open connections, by index. */
  const opened = async (): Promise<number[]> => {
    const by: number[] = [0, 0];
    for (const w of (await view()).workers) by[w.index] = w.status?.connections.open ?? 0;
    return by;
  };
  const place = async (not: number): Promise<{ s: Socket; worker: number }> => {
    for (let tries = 0; tries < 200; tries++) {
      const before = await opened();
      const s = open();
      let worker = -1;
      expect(
        await within(30_000, async () => {
          worker = (await opened()).findIndex((n, i) => n > before[i]!);
          return worker >= 0;
        }, 50),
      ).toBe(true);
      if (worker !== not) return { s, worker };
      s.destroy();
      expect(await within(30_000, async () => (await opened())[worker] === before[worker], 50)).toBe(true);
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
