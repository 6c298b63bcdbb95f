import { SQSClient, CreateQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
const c = new SQSClient({ endpoint: process.env.SQS_ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const { QueueUrl } = await c.send(new CreateQueueCommand({ QueueName: 'probe-size' }));
for (const [n, attr] of [[262145, 0], [262144, 1], [262000, 200],[262000, 144],[262000, 137], [262000, 136], [262000, 130], [100, 300000]]) {
  try { await c.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(n), MessageAttributes: attr ? { a: { DataType: 'String', StringValue: 'y'.repeat(attr) } } : undefined })); console.log(n, attr, 'ok'); } catch (e) { console.log(n, attr, e.name, e.message); }
}
