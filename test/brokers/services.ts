// Which brokers the tests can reach. Each URL comes from the environment (loopback defaults).
// With CI=true a missing broker fails the run; otherwise its tests are skipped with ONE loud
// line saying what to start.
import { connect } from 'node:net';

export interface Service {
  readonly name: string;
  readonly url: string;
  readonly up: boolean;
}

function probe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function service(name: string, envVar: string, fallback: string, start: string): Promise<Service> {
  const url = process.env[envVar] ?? fallback;
  const u = new URL(url.includes('://') ? url : `tcp://${url}`);
  const up = await probe(u.hostname, Number(u.port));
  if (!up) {
    const line = `${name} not reachable at ${url} (${envVar}): ${start}`;
    if (process.env.CI === 'true') throw new Error(`CI=true and ${line}`);
    console.warn(`\n!!! SKIPPING ${name} TESTS — ${line}\n`);
  }
  return { name, url, up };
}

export const rabbitmq = (): Promise<Service> => service('RabbitMQ', 'AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672', 'start RabbitMQ (apt-get install rabbitmq-server) or set AMQP_URL');
export const nats = (): Promise<Service> => service('NATS JetStream', 'NATS_URL', '127.0.0.1:4222', 'start nats-server -js or set NATS_URL');
export const redis = (): Promise<Service> => service('Redis', 'REDIS_URL', 'redis://127.0.0.1:6379', 'start redis-server or set REDIS_URL');
export const kafka = (): Promise<Service> => service('Kafka', 'KAFKA_BROKERS', '127.0.0.1:9092', 'run `eval "export $(bash scripts/brokers/kafka.sh start)"` or set KAFKA_BROKERS');
export const sqs = (): Promise<Service> => service('ElasticMQ (SQS)', 'SQS_ENDPOINT', 'http://127.0.0.1:9324', 'run `eval "export $(bash scripts/brokers/elasticmq.sh start)"` or set SQS_ENDPOINT');

/** A name no other test (or earlier run) uses. */
export function unique(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Poll `check` every 20 ms until true or `ms` passes; returns whether it became true. */
export async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** Delete a RabbitMQ source's queues: `queue`, its dead letters and its suspects (`<queue>.dead`, `<queue>.suspects`). */
export async function deleteRabbitQueues(ch: { deleteQueue(queue: string): Promise<unknown> }, queue: string): Promise<void> {
  for (const q of [queue, `${queue}.dead`, `${queue}.suspects`]) await ch.deleteQueue(q);
}
