/** Where and with what a run was made: machine, runtime, peer versions. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly platform: string;
  readonly node: string;
  readonly v8: string;
  readonly exposeGc: boolean;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine skews figures. */
  readonly loadAverage: readonly number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    exposeGc: typeof globalThis.gc === 'function',
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A package's version from its own package.json under node_modules (read as a file: some
 * peers' `exports` maps do not expose `./package.json`).
 */
export function packageVersion(name: string): string {
  try {
    const json = JSON.parse(readFileSync(`${root}node_modules/${name}/package.json`, 'utf8')) as { version?: string };
    return json.version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

export function ownVersion(): string {
  const json = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
  return json.version;
}

/** Short commit id of the working tree, with `+dirty` when src/ has uncommitted changes. */
export function gitRevision(run: (cmd: string) => string): string {
  try {
    const rev = run('git rev-parse --short HEAD').trim();
    const dirty = run('git status --porcelain -- src').trim() !== '';
    return dirty ? `${rev}+dirty` : rev;
  } catch {
    return 'unknown';
  }
}
