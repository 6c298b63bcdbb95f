import { SQSClient, CreateQueueCommand, SendMessageCommand, GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
const c = new SQSClient({ endpoint: process.env.SQS_ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const { QueueUrl } = await c.send(new CreateQueueCommand({ QueueName: 'probe-size' }));
console.log((await c.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes);
for (const [n, attr] of [[262144, 0], [262144 - 30, 40], [262144 - 60, 40], [262144-100, 40]]) {
  try { await c.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(n), MessageAttributes: attr ? { a: { DataType: 'String', StringValue: 'y'.repeat(attr) } } : undefined })); console.log(n, attr, 'ok'); } catch (e) { console.log(n, attr, e.name, e.message); }
}
try { await c.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { MaximumMessageSize: '1024' } })); console.log((await c.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['MaximumMessageSize'] }))).Attributes); } catch (e) { console.log('set', e.name, e.message); }
try { await c.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(2000) })); console.log('2000 ok'); } catch (e) { console.log(2000, e.name, e.message); }
