// server.workerStartTimeout's verdict (start-deadline.ts, used by primary.ts for each forked
// worker), against a real child process and its IPC channel. The case that matters: this loop
// comes back from a busy spell with the deadline passed and the worker's 'listening' message
// already in the channel. Node runs due timers before it reads I/O, so a verdict given in the
// timer killed a worker that listened and served; the verdict now waits for the channel's read.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StartDeadline } from '../../src/gateway/start-deadline.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A child that says 'hello', and on 'go' sends 'listening' (`listens`) and then creates `marker` once the message is written to the channel. */
async function worker(listens: boolean): Promise<{ child: ChildProcess; marker: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-start-deadline-'));
  dirs.push(dir);
  const marker = join(dir, 'sent');
  const script = join(dir, 'worker.mjs');
  writeFileSync(
    script,
    `import { writeFileSync } from 'node:fs';\n` +
      `process.on('message', (m) => { if (m === 'go' && ${listens}) process.send('listening', () => writeFileSync(${JSON.stringify(marker)}, '')); });\n` +
      `process.send('hello');\n`,
  );
  const child = fork(script, [], { stdio: 'ignore', serialization: 'advanced' });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the child exited (${code}) before its hello`)));
  });
  return { child, marker };
}

/** Block this loop (sleeping, not spinning) until `marker` exists, at most `ms`. */
function holdLoopUntil(marker: string, ms: number): boolean {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const until = Date.now() + ms;
  while (!existsSync(marker) && Date.now() < until) Atomics.wait(cell, 0, 0, 5);
  Atomics.wait(cell, 0, 0, 5); // and past the 1 ms deadline, whatever the clock's grain
  return existsSync(marker);
}

const settleTurns = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 200));

describe('StartDeadline (server.workerStartTimeout)', () => {
  it('a worker whose listening message is in the channel when the deadline passes is not killed', async () => {
    const { child, marker } = await worker(true);
    let hung = false;
    let listened = false;
    const deadline = new StartDeadline(1, () => (hung = true));
    child.on('message', (m) => {
      if (m !== 'listening') return;
      listened = true;
      deadline.settle();
    });
    // From the check phase: the next loop turn finds the deadline due and the message waiting.
    const written = await new Promise<boolean>((resolve) =>
      setImmediate(() => {
        child.send('go');
        resolve(holdLoopUntil(marker, 60_000));
      }),
    );
    expect(written).toBe(true);
    await settleTurns();
    expect(listened).toBe(true);
    expect(hung).toBe(false);
  }, 90_000);

  it('a worker that never says it listens is hung once the deadline passes; none with a timeout of 0', async () => {
    const { child } = await worker(false);
    let hung = 0;
    const deadline = new StartDeadline(50, () => hung++);
    const never = new StartDeadline(0, () => hung++);
    child.send('go');
    const until = Date.now() + 30_000;
    while (hung === 0 && Date.now() < until) await settleTurns();
    expect(hung).toBe(1);
    deadline.settle(); // after the verdict: nothing more
    never.settle();
    await settleTurns();
    expect(hung).toBe(1);
  }, 60_000);

  it('settled before the deadline (it listened, or it exited): no verdict', async () => {
    let hung = false;
    const deadline = new StartDeadline(20, () => (hung = true));
    deadline.settle();
    await settleTurns();
    expect(hung).toBe(false);
  });
});
