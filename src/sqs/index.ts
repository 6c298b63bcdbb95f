/** `sluice/sqs`: an SQS queue as a demand-driven source (receive ≤ 10 by demand, visibility extended while processing, delete after), and a bounded producer (@aws-sdk/client-sqs is an optional peer). */
export { SqsSource } from './sqs-source.js';
export type { SqsSourceOptions } from './sqs-source.js';
export type { SqsConnectionOptions } from './sqs-connection.js';
export { SqsProducer } from './sqs-producer.js';
export type { SqsProducerOptions } from './sqs-producer.js';
