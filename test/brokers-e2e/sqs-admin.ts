// What the SQS tests share: ElasticMQ's address (SQS_ENDPOINT), test credentials, and a client of
// the test's own (destroyed after the file) to look at and clean up queues.
import { DeleteQueueCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll } from 'vitest';
import { sqs } from '../brokers/services.js';

export const svc = await sqs();
export const endpoint = svc.url;
export const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
export const client = new SQSClient({ endpoint, region: 'us-east-1', credentials });
afterAll(() => client.destroy());

export const urlOf = async (q: string): Promise<string> => (await client.send(new GetQueueUrlCommand({ QueueName: q }))).QueueUrl!;

/** Delete a queue and its dead-letter queue, whichever exist. */
export async function cleanup(queue: string): Promise<void> {
  for (const q of [queue, `${queue}-dead`]) await client.send(new DeleteQueueCommand({ QueueUrl: await urlOf(q) })).catch(() => undefined);
}
