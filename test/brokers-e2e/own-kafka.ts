// A Kafka of the test's own, started by scripts/brokers/kafka.sh in a state folder of its own
// (SLUICE_BROKER_STATE), so it can be killed by PID and started again on the same ports and
// data — which the shared broker (KAFKA_BROKERS) is not ours to do. The restart runs the very
// command line the script ran (read from /proc). addBroker() joins a second node (a broker
// only) to its cluster, to be killed: what it alone holds then has no leader.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SCRIPT = fileURLToPath(new URL('../../scripts/brokers/kafka.sh', import.meta.url));

/** How long OwnKafka.start() may take: the script's own bounds (a format, then up to KAFKA_START_SECONDS, 120 s, for the port) with room for a busy host. A hook that starts one waits longer, so the start's own error is what it reports. */
export const OWN_KAFKA_START_MS = 290_000;

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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

export class OwnKafka {
  #pid: number;
  #child: ChildProcess | undefined;
  readonly #extra: ChildProcess[] = [];

  private constructor(
    readonly dir: string,
    readonly port: number,
    pid: number,
    private readonly argv: readonly string[],
  ) {
    this.#pid = pid;
  }

  /**
   * Start one (the script resolves the jars once into its cache; a start takes tens of seconds,
   * minutes beside a CPU hog: two JVMs, the format and the broker). `authorizer`: with ACLs
   * (kafka.sh KAFKA_AUTHORIZER). Within OWN_KAFKA_START_MS, else rejects — and a start that
   * failed or was cut short stops the JVM it launched (the script wrote its PID) instead of
   * leaving it running after the test.
   */
  static async start(o: { authorizer?: boolean } = {}): Promise<OwnKafka> {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-kafka-'));
    const env = { ...process.env, SLUICE_BROKER_STATE: dir, ...(o.authorizer === true ? { KAFKA_AUTHORIZER: '1' } : {}) };
    try {
      const { stdout } = await promisify(execFile)('bash', [SCRIPT, 'start'], { env, timeout: OWN_KAFKA_START_MS });
      const port = Number(/KAFKA_BROKERS=127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
      const pid = Number(readFileSync(join(dir, 'kafka', 'pid'), 'utf8'));
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      return new OwnKafka(dir, port, pid, argv);
    } catch (err) {
      await promisify(execFile)('bash', [SCRIPT, 'stop'], { env, timeout: 30_000 }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  /** Its SASL PLAIN listener (user sluice, password sluice-secret). */
  get saslBrokers(): string[] {
    return [`127.0.0.1:${readFileSync(join(this.dir, 'kafka', 'sasl-port'), 'utf8').trim()}`];
  }

  /**
   * A second node of this cluster, a broker only (node id 2), on a port and log folder of its
   * own, with the first's settings otherwise; resolves once its port accepts. kill() it and
   * the partitions only it holds have no leader.
   */
  async addBroker(): Promise<{ nodeId: number; kill: () => Promise<void> }> {
    const state = join(this.dir, 'kafka');
    const port = await freePort();
    const logDirs = join(state, 'broker2');
    mkdirSync(logDirs, { recursive: true });
    const own: Record<string, string> = { 'process.roles': 'broker', 'node.id': '2', listeners: `PLAINTEXT://127.0.0.1:${port}`, 'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`, 'log.dirs': logDirs };
    const first = readFileSync(join(state, 'server.properties'), 'utf8').split('\n').filter((l) => !Object.keys(own).some((k) => l.startsWith(`${k}=`)));
    const props = join(state, 'broker2.properties');
    writeFileSync(props, [...first, ...Object.entries(own).map(([k, v]) => `${k}=${v}`)].join('\n'));
    const clusterId = /cluster\.id=(\S+)/.exec(readFileSync(join(state, 'data', 'meta.properties'), 'utf8'))?.[1] ?? '';
    const cp = this.argv[this.argv.indexOf('-cp') + 1]!;
    await promisify(execFile)(this.argv[0]!, ['-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props], { timeout: 60_000 });
    const log = openSync(join(state, 'broker2.log'), 'a');
    const child = spawn(this.argv[0]!, [...this.argv.slice(1, -1), props], { stdio: ['ignore', log, log] });
    this.#extra.push(child);
    const end = Date.now() + 120_000;
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`the second kafka broker did not listen on ${port} (see ${state}/broker2.log)`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return { nodeId: 2, kill: () => killChild(child) };
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
    for (const c of this.#extra) await killChild(c);
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
