/** `sluice/kafka`: a Kafka consumer group as a demand-driven source (fetches sized to the room demand left, pause/resume per partition, commit after processing) and a producer bounded by acks (kafkajs is an optional peer). */
export { KafkaSource } from './kafka-source.js';
export { KAFKA_SOURCE_DEFAULTS } from './kafka-options.js';
export type { KafkaSourceOptions, KafkaSourceStats } from './kafka-options.js';
export { FetchBudget, RECORD_OVERHEAD } from './fetch-budget.js';
export type { FetchBudgetOptions } from './fetch-budget.js';
export { KafkaProducer } from './kafka-producer.js';
export type { KafkaProducerOptions } from './kafka-producer.js';
export type { KafkaAuthOptions } from './kafka-auth.js';
export { OffsetTracker } from './offset-tracker.js';
