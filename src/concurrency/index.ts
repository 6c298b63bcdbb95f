export { ConcurrencyGate, CONCURRENCY_DEFAULTS } from './concurrency-gate.js';
export type { ConcurrencyOptions } from './concurrency-gate.js';
export type { PartitionOption } from './partition.js';
