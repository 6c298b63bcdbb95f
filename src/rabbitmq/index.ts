/** `sluice/rabbitmq`: a RabbitMQ queue as a demand-driven source, and a producer held back by publisher confirms and connection.blocked (amqplib is an optional peer). */
export { RabbitmqSource } from './rabbitmq-source.js';
export { ATTEMPT_HEADER, ERROR_HEADER } from './rabbitmq-delivery.js';
export type { RabbitmqSourceOptions } from './rabbitmq-source.js';
export { RabbitmqProducer } from './rabbitmq-producer.js';
export type { RabbitmqProducerOptions, RabbitmqProducerStats } from './rabbitmq-producer.js';
