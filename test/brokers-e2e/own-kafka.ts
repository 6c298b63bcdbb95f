// A Kafka of the test's own, started by scripts/brokers/kafka.sh in a state folder of its own
// (SLUICE_BROKER_STATE), so it can be killed by PID and started again on the same ports and
// data — which the shared broker (KAFKA_BROKERS) is not ours to do. The restart runs the very
// command line the script ran (read from /proc).
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SCRIPT = fileURLToPath(new URL('../../scripts/brokers/kafka.sh', import.meta.url));

function accepts(port: number): Promise<boolean> {
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

export class OwnKafka {
  #pid: number;
  #child: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    pid: number,
    private readonly argv: readonly string[],
  ) {
    this.#pid = pid;
  }

  /** Start one (the script resolves the jars once into its cache; a start takes tens of seconds). */
  static async start(): Promise<OwnKafka> {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-kafka-'));
    const { stdout } = await promisify(execFile)('bash', [SCRIPT, 'start'], { env: { ...process.env, SLUICE_BROKER_STATE: dir }, timeout: 240_000 });
    const port = Number(/KAFKA_BROKERS=127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
    const pid = Number(readFileSync(join(dir, 'kafka', 'pid'), 'utf8'));
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    return new OwnKafka(dir, port, pid, argv);
  }

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  /** SIGKILL by PID; resolves once it is gone. */
  async kill(): Promise<void> {
    if (!alive(this.#pid)) return;
    process.kill(this.#pid, 'SIGKILL');
    const end = Date.now() + 20_000;
    while (alive(this.#pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    this.#child = undefined;
  }

  /** The same command line again (same ports, same data); resolves once its port accepts. */
  async restart(): Promise<void> {
    if (alive(this.#pid)) return;
    const log = openSync(join(this.dir, 'kafka', 'restart.log'), 'a');
    this.#child = spawn(this.argv[0]!, this.argv.slice(1), { stdio: ['ignore', log, log] });
    this.#pid = this.#child.pid!;
    const end = Date.now() + 120_000;
    while (!(await accepts(this.port))) {
      if (!alive(this.#pid) || Date.now() > end) throw new Error(`kafka did not listen again on ${this.port} (see ${this.dir}/kafka/restart.log)`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
