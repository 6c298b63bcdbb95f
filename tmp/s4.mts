import { SQSClient, CreateQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
const c = new SQSClient({ endpoint: process.env.SQS_ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const { QueueUrl } = await c.send(new CreateQueueCommand({ QueueName: 'probe-size' }));
for (const n of [10, 11, 13]) {
  const attrs = Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }]));
  try { await c.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x', MessageAttributes: attrs })); console.log(n, 'ok'); } catch (e) { console.log(n, e.name, e.message, e.$metadata?.httpStatusCode); }
}
for (const n of [1048000, 1048576]) {
  try { await c.send(new SendMessageCommand({ QueueUrl, MessageBody: 'é'.repeat(n/2) })); console.log(n, 'ok'); } catch (e) { console.log(n, e.name, e.message); }
}
