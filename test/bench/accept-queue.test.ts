// The closed loop's probe waits for the load generator's connections to be accepted
// (bench/gateway/accept-queue.ts): against a real listener whose process is too busy to
// accept, connections that the kernel completed but nobody accepted keep it waiting, and it
// starts once they are accepted. The listener is a child process whose event loop is held
// by a synchronous loop until a flag file appears: its connections sit in the accept queue.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listenerState, whenAccepted } from '../../bench/gateway/accept-queue.js';

const LISTENER = `
const { existsSync } = require('node:fs');
const flag = process.argv[1];
const server = require('node:net').createServer((s) => s.on('error', () => {}));
server.listen(0, '127.0.0.1', 64, () => {
  // A pipe's write is synchronous on Linux: the port is out before the hold, and the hold
  // starts before any poll phase could accept a connection.
  process.stdout.write(server.address().port + '\\n');
  // Held until the flag exists (at most 50 s): nothing is accepted meanwhile.
  const end = Date.now() + 50000;
  while (!existsSync(flag) && Date.now() < end);
});
`;

let child: ChildProcess | undefined;
let dir: string | undefined;
const sockets: Socket[] = [];

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  if (child?.pid !== undefined) process.kill(child.pid);
  child = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function busyListener(): Promise<{ port: number; release: () => void }> {
  dir = mkdtempSync(join(tmpdir(), 'accept-queue-'));
  const flag = join(dir, 'go');
  child = spawn(process.execPath, ['-e', LISTENER, flag], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child!.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child!.once('exit', () => reject(new Error('listener exited')));
  });
  return { port, release: () => writeFileSync(flag, '') };
}

/** `n` connections, each connected (the kernel's handshake), not necessarily accepted. */
async function open(port: number, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve());
      s.once('error', reject);
      sockets.push(s);
    })),
  );
}

const settledWithin = async <T>(p: Promise<T>, ms: number): Promise<boolean> => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('the probe waits for the generator\'s connections to be accepted', () => {
  it('not while they wait in the accept queue; once the listener has accepted them', async () => {
    const { port, release } = await busyListener();
    await open(port, 5);
    expect(await listenerState(port)).toEqual({ acceptQueue: 5, established: 5 });
    const waiting = whenAccepted(port, 5, 40_000, 20);
    expect(await settledWithin(waiting, 500)).toBe(false);
    release();
    const r = await waiting;
    expect(r.accepted).toBe(true);
    expect(await listenerState(port)).toEqual({ acceptQueue: 0, established: 5 });
  }, 60_000);

  it('its wait is bounded: it starts anyway, and says the connections were not all accepted', async () => {
    const { port, release } = await busyListener();
    await open(port, 3);
    const r = await whenAccepted(port, 3, 200, 20);
    expect(r.accepted).toBe(false);
    expect(r.waitedMs).toBeGreaterThanOrEqual(200);
    release();
  }, 60_000);

  it('fewer connections than the generator opens keep it waiting, even with the queue empty', async () => {
    const { port, release } = await busyListener();
    release();
    await open(port, 2);
    expect((await whenAccepted(port, 3, 300, 20)).accepted).toBe(false);
    expect((await whenAccepted(port, 2, 5_000, 20)).accepted).toBe(true);
  }, 60_000);
});
