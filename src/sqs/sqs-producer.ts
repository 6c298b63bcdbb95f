/**
 * An SQS producer: SendMessage, each awaited, at most `maxInFlight` unanswered, bounded
 * waiting, and the queue-depth-driven throttle first (SQS itself never pushes back).
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { BoundedProducerOptions } from '../brokers/bounded-producer.js';
import { BoundedProducer } from '../brokers/bounded-producer.js';
import { BrokerProducer } from '../brokers/broker-producer.js';
import { optionKeys } from '../core/index.js';
import type { SqsConnectionOptions } from './sqs-connection.js';
import { checkSqsConnection, queueUrl, sqsClient, sqsWhere } from './sqs-connection.js';
import { optKnownKeys } from '../core/index.js';
import { argOptions } from '../core/option-keys.js';

export interface SqsProducerOptions extends BoundedProducerOptions, SqsConnectionOptions {}

const SQS_PRODUCER_KEYS = optionKeys<SqsProducerOptions>({ maxInFlight: true, maxWaiting: true, throttle: true, endpoint: true, region: true, credentials: true, client: true, requestTimeoutMs: true });

export class SqsProducer extends BrokerProducer {
  readonly #client: SQSClient;
  readonly #owns: boolean;
  readonly #urls = new Map<string, Promise<string>>();

  constructor(options: SqsProducerOptions = {}) {
    argOptions('SqsProducer', options);
    optKnownKeys('SqsProducer', options, SQS_PRODUCER_KEYS);
    checkSqsConnection(options);
    super(new BoundedProducer(sqsWhere(options), options, 'SqsProducer', SQS_PRODUCER_KEYS));
    this.#client = sqsClient(options);
    this.#owns = options.client === undefined;
  }

  /** SendMessage to the named queue (created when missing); resolves with the message id. */
  send(queue: string, body: string, attributes: Readonly<Record<string, string>> = {}, signal?: AbortSignal): Promise<string> {
    return this.bounded(async () => {
      let url = this.#urls.get(queue);
      if (url === undefined) {
        url = queueUrl(this.#client, this.name, queue);
        url.catch(() => this.#urls.delete(queue));
        this.#urls.set(queue, url);
      }
      const attrs: Record<string, { DataType: string; StringValue: string }> = {};
      for (const [k, v] of Object.entries(attributes)) attrs[k] = { DataType: 'String', StringValue: v };
      const r = await this.#client.send(new SendMessageCommand({ QueueUrl: await url, MessageBody: body, ...(Object.keys(attrs).length > 0 ? { MessageAttributes: attrs } : {}) }), signal ? { abortSignal: signal } : {});
      return r.MessageId ?? '';
    }, signal);
  }

  protected closeClient(): Promise<void> {
    if (this.#owns) this.#client.destroy();
    return Promise.resolve();
  }

  protected destroyClient(): void {}
}
