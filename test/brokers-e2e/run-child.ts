// Start, watch and end the child consumer of the proofs.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export interface ChildArgs {
  readonly broker: string;
  readonly name: string;
  readonly out: string;
  readonly concurrency: number;
  readonly batch?: number;
  readonly handlerMs: number;
  readonly fixedPrefetch?: number;
  readonly redeliverMs?: number;
}

export interface Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
}

export function startChild(args: ChildArgs): Child {
  const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, JSON.stringify(args)], { stdio: ['ignore', 'ignore', 'pipe'], env: process.env });
  let err = '';
  proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, exited, stderr: () => err };
}

export function processedIds(out: string): number[] {
  if (!existsSync(out)) return [];
  return readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').map(Number);
}

export interface StatLine {
  readonly t: number;
  /** A full collection ran just before this line (once a second). */
  readonly gc: boolean;
  readonly rss: number;
  readonly heap: number;
  readonly received: number;
  readonly acked: number;
  readonly inFlight: number;
  readonly buffered: number;
  readonly held: number;
  /** The most held at once so far, read at every take. */
  readonly peakHeld: number;
}

export function stats(out: string): StatLine[] {
  const f = `${out}.stats`;
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as StatLine);
}

/** Poll until `check` holds; throws with `what` (and the child's stderr) after `ms`. */
export async function waitFor(what: string, check: () => boolean, ms: number, child?: Child): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${child ? `; child stderr: ${child.stderr()}` : ''}`);
    if (child !== undefined && child.proc.exitCode !== null) throw new Error(`child exited (${child.proc.exitCode}) while waiting for ${what}: ${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
