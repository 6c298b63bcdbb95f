/** `sluice/jetstream`: a NATS JetStream pull consumer as a demand-driven source, and a producer bounded by publish acks (@nats-io/jetstream and @nats-io/transport-node are optional peers). */
export { JetstreamSource } from './jetstream-source.js';
export type { JetstreamSourceOptions } from './jetstream-source.js';
export { JetstreamProducer } from './jetstream-producer.js';
export type { JetstreamProducerOptions } from './jetstream-producer.js';
