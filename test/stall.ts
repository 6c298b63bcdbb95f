// A stall of the event loop, with a release waiting in a socket: after a busy wait Node runs
// expired timers first, then reads the sockets. The stalled-loop tests (concurrency, queue,
// redis) check that a waiter whose deadline passed during the stall is served by the release
// that came during it, not refused by its own late timer.
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterEach, expect } from 'vitest';
import type { Admission, Gate, Permit } from '../src/core/index.js';

const open: (Server | Socket)[] = [];

/** Close what `wire` opened after each test of the file that calls it. */
export function closeWires(): void {
  afterEach(() => {
    for (const s of open.splice(0)) {
      if ('destroy' in s) s.destroy();
      else s.close();
    }
  });
}

/** A connected pair on loopback: `release` runs when a byte written to the returned socket arrives. */
export async function wire(release: () => void): Promise<Socket> {
  const server = createServer((s) => {
    open.push(s);
    s.on('data', release);
  });
  open.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const send = connect((server.address() as AddressInfo).port, '127.0.0.1');
  open.push(send);
  await new Promise<void>((r) => send.once('connect', () => r()));
  // Let the server side accept it before the stall.
  await new Promise((r) => setTimeout(r, 20));
  return send;
}

/** Busy-wait `ms`: the loop runs nothing else. */
export function stall(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

/**
 * Write one byte to `send` and stall the loop `ms` in the check phase: the timers phase comes
 * next (every deadline passed during the stall is due), then the sockets are read.
 */
export function sendThenStall(send: Socket, ms: number): Promise<void> {
  return new Promise<void>((r) =>
    setImmediate(() => {
      send.write('x');
      stall(ms);
      r();
    }),
  );
}

/**
 * `gate` (limit 2, a wait budget well under 200 ms) across a 200 ms stall: with both slots
 * taken and two waiters, a release sent before the stall serves the first waiter; the second
 * is refused queue_timeout when the loop comes back.
 */
export async function servesTheFreedWaiter(gate: Gate): Promise<void> {
  const a = (await gate.admit()) as Permit;
  const b = (await gate.admit()) as Permit;
  expect(a.ok && b.ok).toBe(true);
  const send = await wire(() => a.release('success'));
  const first = gate.admit() as Promise<Admission>;
  const second = gate.admit() as Promise<Admission>;
  // The release comes within the wait budget; the loop reads it only after the stall.
  await sendThenStall(send, 200);
  const [one, two] = await Promise.all([first, second]);
  expect(one.ok).toBe(true);
  expect(two.ok).toBe(false);
  if (!two.ok) expect(two.reason).toBe('queue_timeout');
  if (one.ok) one.release('success');
  b.release('success');
}
