/**
 * The parent's half of the protocol in ipc.ts: fork a server process, wait until it
 * listens, open and close measurement windows, and stop it by its PID (SIGTERM, then
 * SIGKILL after a grace period).
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { ChildMessage, ReadyMessage, Reply, Request } from './ipc.js';

/** Node flags a child needs to run `file`: a TypeScript file needs tsx's loader (tests, `npm start`). */
export function execArgvFor(file: string): string[] {
  if (!file.endsWith('.ts')) return [];
  let tsx = 'tsx';
  try {
    tsx = import.meta.resolve('tsx');
  } catch {
    // resolved by Node from the working directory instead
  }
  return ['--import', tsx];
}

export class ServerChild {
  readonly child: ChildProcess;
  readonly ready: Promise<ReadyMessage>;
  readonly #pending = new Map<number, (r: Reply) => void>();
  #nextId = 1;
  #exited: Promise<void>;

  /** `execArgv`: further Node flags for the child (a profiler's). */
  constructor(file: string, args: readonly string[], options: { readonly name: string; readonly startTimeoutMs?: number; readonly execArgv?: readonly string[] }) {
    this.child = fork(file, [...args], { execArgv: [...execArgvFor(file), ...(options.execArgv ?? [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    const name = options.name;
    this.ready = new Promise<ReadyMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: did not start within ${options.startTimeoutMs ?? 20_000} ms`)), options.startTimeoutMs ?? 20_000);
      this.child.on('message', (m: ChildMessage) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve(m);
        } else if (m.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(`${name}: ${m.message}`));
        } else {
          this.#pending.get(m.id)?.(m);
          this.#pending.delete(m.id);
        }
      });
      this.child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name}: exited (${signal ?? `code ${code}`}) before it was ready`));
        for (const resolvePending of this.#pending.values()) resolvePending({ type: 'reply', id: -1 });
        this.#pending.clear();
      });
    });
    // A failed start is reported by whoever awaits `ready`; never an unhandled rejection here.
    this.ready.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  request(type: Request['type']): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise<Reply>((resolve) => {
      if (this.child.exitCode !== null || !this.child.connected) return resolve({ type: 'reply', id });
      this.#pending.set(id, resolve);
      this.child.send({ type, id } satisfies Request);
    });
  }

  /** Stop the child by its PID: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        if (this.child.exitCode === null && this.child.signalCode === null) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort on the way out (an exit handler): SIGKILL if still running. */
  kill(): void {
    const pid = this.child.pid;
    if (pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
