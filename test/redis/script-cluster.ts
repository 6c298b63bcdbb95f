// A Redis Cluster of scripts/redis/cluster.sh (3 masters on free ports, state in a temp folder of
// the describe block's own), started before its tests and stopped by PID after; and the tenants
// whose keys land on each master.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { keySlot } from '../../src/redis/keys.js';
import { root } from '../gateway/helpers.js';

export interface ScriptCluster {
  /** The masters' ports, node 0 first. */
  readonly ports: () => number[];
  /** The script's state folder (pid.<i>, n<i>/nodes.conf). */
  readonly dir: string;
  /** Node `i`'s PID, as the script's `stop` will kill it. */
  readonly pid: (i: number) => number;
}

/** Start the cluster before the block's tests (cluster-require-full-coverage off when `fullCoverage` is false); stop it after. */
export function useScriptCluster(name: string, fullCoverage = true): ScriptCluster {
  const state = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  const dir = join(state, 'c');
  const env = { ...process.env, SLUICE_REDIS_CLUSTER_STATE: dir };
  const script = join(root, 'scripts/redis/cluster.sh');
  let ports: number[] = [];
  beforeAll(() => {
    execFileSync('bash', [script, 'start'], { env, encoding: 'utf8', timeout: 60_000 });
    ports = readFileSync(join(dir, 'ports'), 'utf8').trim().split(/\s+/).map(Number);
    if (!fullCoverage) for (const p of ports) execFileSync('redis-cli', ['-p', String(p), 'config', 'set', 'cluster-require-full-coverage', 'no'], { encoding: 'utf8' });
  }, 90_000);
  afterAll(() => {
    execFileSync('bash', [script, 'stop'], { env, encoding: 'utf8' });
    rmSync(state, { recursive: true, force: true });
  });
  return { ports: () => ports, dir, pid: (i) => Number(readFileSync(join(dir, `pid.${i}`), 'utf8')) };
}

/**
 * `perMaster` tenants (`t0`, `t1`, …) for each master of `ports`, by the slot of their Redis key
 * (`keyOf`) in the cluster's slot map; and the port owning a tenant.
 */
export async function tenantsByMaster(ports: readonly number[], keyOf: (tenant: string) => string, perMaster: number): Promise<{ tenants: string[]; ownerOf: (tenant: string) => number | undefined }> {
  const seed = new Redis(ports[0]!, '127.0.0.1');
  const owners = new Map<number, number>();
  try {
    for (const [lo, hi, [, port]] of (await seed.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][]) for (let s = lo; s <= hi; s++) owners.set(s, port);
  } finally {
    seed.disconnect();
  }
  const ownerOf = (t: string): number | undefined => owners.get(keySlot(keyOf(t)));
  const tenants = ports.flatMap((port) => Array.from({ length: 400 }, (_x, i) => `t${i}`).filter((t) => ownerOf(t) === port).slice(0, perMaster));
  return { tenants, ownerOf };
}
