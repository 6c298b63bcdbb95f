// A nats-server (JetStream) of the test's own, on a free loopback port with its store in a temp
// folder: killed by PID and started again on the same port and store, which the shared server
// (NATS_URL) is not ours to do. With CI=true a missing nats-server fails the run; otherwise its
// tests are skipped with one loud line.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { freePort, haveServerBinary, OwnServer } from '../redis/servers.js';

export function haveNatsServer(): boolean {
  return haveServerBinary('nats-server', 'OWN-NATS TESTS');
}

export class OwnNats extends OwnServer {
  private constructor(port: number) {
    super(port, mkdtempSync(join(tmpdir(), 'sluice-nats-')));
  }

  static async start(): Promise<OwnNats> {
    const n = new OwnNats(await freePort());
    await n.start();
    return n;
  }

  get servers(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * Start it on its port and store. `jetstream: false`: a server that answers clients but not the
   * JetStream API (503 no responders) — what a restarting server or cluster is until JetStream is up.
   */
  async start({ jetstream = true }: { readonly jetstream?: boolean } = {}): Promise<void> {
    if (this.child !== undefined) return;
    this.child = spawn('nats-server', [...(jetstream ? ['-js'] : []), '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.dir], { stdio: 'ignore' });
    const end = Date.now() + 10_000;
    for (;;) {
      try {
        await (await connect({ servers: this.servers, reconnect: false })).close();
        return;
      } catch (err) {
        if (Date.now() > end) throw new Error(`nats-server on port ${this.port} did not answer within 10 s`, { cause: err });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
