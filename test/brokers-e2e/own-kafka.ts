// A Kafka of the test's own (own-jvm.ts: killed by PID, started again on the same ports and
// data). addBroker() joins a second node (a broker only) to its cluster, to be killed: what it
// alone holds then has no leader.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { accepts, OwnJvm } from './own-jvm.js';

/** How long OwnKafka.start() may take: the script's own bounds (a format, then up to KAFKA_START_SECONDS, 120 s, for the port) with room for a busy host. A hook that starts one waits longer, so the start's own error is what it reports. */
export const OWN_KAFKA_START_MS = 290_000;

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

export class OwnKafka extends OwnJvm {
  readonly #extra: ChildProcess[] = [];

  /**
   * Start one (the script resolves the jars once into its cache; a start takes tens of seconds,
   * minutes beside a CPU hog: two JVMs, the format and the broker). `authorizer`: with ACLs
   * (kafka.sh KAFKA_AUTHORIZER). Within OWN_KAFKA_START_MS, else rejects — and a start that
   * failed or was cut short stops the JVM it launched (the script wrote its PID) instead of
   * leaving it running after the test.
   */
  static async start(o: { authorizer?: boolean } = {}): Promise<OwnKafka> {
    const { dir, port, pid, argv } = await OwnJvm.launch('kafka', o.authorizer === true ? { KAFKA_AUTHORIZER: '1' } : {}, OWN_KAFKA_START_MS);
    return new OwnKafka('kafka', dir, port, pid, argv);
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

  override async dispose(): Promise<void> {
    for (const c of this.#extra) await killChild(c);
    await super.dispose();
  }
}
