// A stall of the event loop (a long synchronous run: a big JSON.parse, a GC pause, a CPU-bound
// handler) must not refuse the waiters it held as queue_timeout when the slots they waited for
// were freed during it. After the stall Node runs expired timers first, then reads the sockets:
// each waiter's deadline, passed during the stall, fired before the release already waiting in
// a socket (an upstream's answer) was read, and the waiter that release would have served was
// refused queue_timeout — the process's own lateness taken for the upstream's (as the Redis
// store's guard already avoids: store-guard.ts). A waiter whose slot was not freed is still
// refused when the loop comes back. Real loop, loopback socket; the stall is a busy wait.
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { Admission, Permit } from '../../src/core/index.js';

const open: (Server | Socket)[] = [];
afterEach(() => {
  for (const s of open.splice(0)) {
    if ('destroy' in s) s.destroy();
    else s.close();
  }
});

/** A connected pair on loopback: `release` runs when a byte written to `send` arrives. */
async function wire(release: () => void): Promise<Socket> {
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

function stall(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: the loop runs nothing else
  }
}

describe('a concurrency gate across a stalled event loop', () => {
  it('serves a waiter whose slot was freed during the stall (the release was waiting in a socket), and refuses the one whose slot was not', async () => {
    const gate = new ConcurrencyGate({ limit: 2, maxQueue: 10, maxWaitMs: 50 });
    const a = gate.admit() as Permit;
    expect(a.ok).toBe(true);
    const b = gate.admit() as Permit;
    expect(b.ok).toBe(true);
    const first = gate.admit() as Promise<Admission>;
    const second = gate.admit() as Promise<Admission>;
    const send = await wire(() => a.release('success'));
    // The upstream answers within the wait budget; the loop reads it only after the stall.
    // The stall in the check phase: the timers phase comes next, then the sockets are read.
    await new Promise<void>((r) =>
      setImmediate(() => {
        send.write('x');
        stall(200);
        r();
      }),
    );
    const [one, two] = await Promise.all([first, second]);
    expect(one.ok).toBe(true);
    expect(two.ok).toBe(false);
    if (!two.ok) expect(two.reason).toBe('queue_timeout');
    if (one.ok) one.release('success');
    b.release('success');
  });
});
