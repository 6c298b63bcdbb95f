/** `sluice/redis-streams`: a Redis Streams consumer group as a demand-driven source (ioredis is an optional peer). */
export { RedisStreamsSource } from './redis-streams-source.js';
export type { ParkedEntry, RedisStreamsSourceOptions } from './redis-streams-source.js';
export { RedisStreamsProducer } from './redis-streams-producer.js';
export type { RedisStreamsProducerOptions } from './redis-streams-producer.js';
