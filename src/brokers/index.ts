/** `sluice/brokers`: what every broker adapter shares — the consumer on the streams layer, the failure policy, lag, the producer throttle and the autoscaling signal. No broker client is imported here. */
export type { BrokerKind, Delivery, Settlement } from './delivery.js';
export { DeliveryBase } from './delivery.js';
export type { BrokerSource } from './source.js';
export { BrokerUnavailableError } from './broker-error.js';
export { brokerPublisher } from './broker-publisher.js';
export { BrokerConsumer, CONSUMER_DEFAULTS } from './broker-consumer.js';
export type { BrokerConsumerOptions, BrokerConsumerStats, Handler } from './broker-consumer.js';
export { FailurePolicy, FAILURE_POLICY_DEFAULTS, describeError } from './failure-policy.js';
export type { FailureDecision, FailurePolicyOptions } from './failure-policy.js';
export { PrefetchWindow, PREFETCH_DEFAULTS } from './prefetch-window.js';
export type { PrefetchOptions } from './prefetch-window.js';
export { LagMonitor } from './lag-monitor.js';
export type { LagMonitorOptions, LagReading, LagSource } from './lag-monitor.js';
export { ProducerThrottle } from './producer-throttle.js';
export type { ProducerThrottleOptions, ProducerThrottleStats } from './producer-throttle.js';
export { desiredConsumers } from './desired-consumers.js';
export type { DesiredConsumersInput } from './desired-consumers.js';
