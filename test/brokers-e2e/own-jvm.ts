// A JVM broker of the test's own, started by scripts/brokers/<name>.sh in a state folder of its
// own (SLUICE_BROKER_STATE), so it can be killed by PID and started again on the same ports and
// data — which the shared brokers (KAFKA_BROKERS, SQS_ENDPOINT) are not ours to do. The restart
// runs the very command line the script ran (read from /proc).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';

export type JvmBroker = 'kafka' | 'elasticmq';

export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => (s.destroy(), resolve(false)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class OwnJvm {
  #pid: number;

  protected constructor(
    readonly broker: JvmBroker,
    readonly dir: string,
    readonly port: number,
    pid: number,
    protected readonly argv: readonly string[],
  ) {
    this.#pid = pid;
  }

  /**
   * Run the script's `start` with `env` added, within `timeoutMs`; the folder, port, PID and
   * command line of what it started. A start that failed or was cut short stops the JVM it
   * launched (the script wrote its PID) instead of leaving it running after the test.
   */
  protected static async launch(broker: JvmBroker, env: Readonly<Record<string, string>>, timeoutMs: number): Promise<{ dir: string; port: number; pid: number; argv: string[] }> {
    const script = fileURLToPath(new URL(`../../scripts/brokers/${broker}.sh`, import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), `sluice-${broker}-`));
    const all = { ...process.env, ...env, SLUICE_BROKER_STATE: dir };
    try {
      await promisify(execFile)('bash', [script, 'start'], { env: all, timeout: timeoutMs });
      const port = Number(readFileSync(join(dir, broker, 'port'), 'utf8'));
      const pid = Number(readFileSync(join(dir, broker, 'pid'), 'utf8'));
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      return { dir, port, pid, argv };
    } catch (err) {
      await promisify(execFile)('bash', [script, 'stop'], { env: all, timeout: 30_000 }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Where the script keeps its configuration, PID and logs. */
  get state(): string {
    return join(this.dir, this.broker);
  }

  /** SIGKILL by PID; resolves once it is gone. */
  async kill(): Promise<void> {
    if (!alive(this.#pid)) return;
    process.kill(this.#pid, 'SIGKILL');
    const end = Date.now() + 20_000;
    while (alive(this.#pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  }

  /** The same command line again (same ports, same data); resolves once its port accepts. */
  async restart(): Promise<void> {
    if (alive(this.#pid)) return;
    const log = openSync(join(this.state, 'restart.log'), 'a');
    const child = spawn(this.argv[0]!, this.argv.slice(1), { stdio: ['ignore', log, log] });
    this.#pid = child.pid!;
    const end = Date.now() + 120_000;
    while (!(await accepts(this.port))) {
      if (!alive(this.#pid) || Date.now() > end) throw new Error(`${this.broker} did not listen again on ${this.port} (see ${this.state}/restart.log)`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Start one in beforeAll (within `startMs`), dispose of it in afterAll — even when the start was
 * still under way as beforeAll timed out; the broker, for the tests.
 */
export function ownJvmForFile<T extends OwnJvm>(start: () => Promise<T>, startMs: number): () => T {
  let own: T | undefined;
  let starting: Promise<T> | undefined;
  beforeAll(async () => {
    starting = start();
    own = await starting;
  }, startMs + 10_000);
  afterAll(async () => {
    await starting?.then((k) => k.dispose(), () => undefined);
  }, 60_000);
  return () => {
    if (own === undefined) throw new Error('the broker of this file did not start (see beforeAll)');
    return own;
  };
}
