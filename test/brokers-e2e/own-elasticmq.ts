// An ElasticMQ of the test's own (own-jvm.ts: killed by PID, started again on the same port),
// keeping its queues and messages on disk (elasticmq.sh ELASTICMQ_PERSIST): what a consumer had
// not deleted when it was killed is there after the restart.
import { OwnJvm } from './own-jvm.js';

/** How long OwnElasticmq.start() may take: the script's own bound (ELASTICMQ_START_SECONDS, 90 s) with room for a busy host. */
export const OWN_ELASTICMQ_START_MS = 150_000;

export class OwnElasticmq extends OwnJvm {
  static async start(): Promise<OwnElasticmq> {
    const { dir, port, pid, argv } = await OwnJvm.launch('elasticmq', { ELASTICMQ_PERSIST: '1' }, OWN_ELASTICMQ_START_MS);
    return new OwnElasticmq('elasticmq', dir, port, pid, argv);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}
