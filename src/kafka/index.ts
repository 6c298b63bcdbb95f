/** `sluice/kafka`: a Kafka consumer group as a demand-driven source (pause/resume per partition, commit after processing) and a producer bounded by acks (kafkajs is an optional peer). */
export { KafkaSource } from './kafka-source.js';
export type { KafkaSourceOptions } from './kafka-source.js';
export { KafkaProducer } from './kafka-producer.js';
export type { KafkaProducerOptions } from './kafka-producer.js';
export { OffsetTracker } from './offset-tracker.js';
