import { SQSClient, CreateQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
const c = new SQSClient({ endpoint: process.env.SQS_ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const { QueueUrl } = await c.send(new CreateQueueCommand({ QueueName: 'probe-size' }));
for (const n of [300000, 1048576, 1048577, 1100000]) {
  try { await c.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(n) })); console.log(n, 'ok'); } catch (e) { console.log(n, e.name, e.message); }
}
