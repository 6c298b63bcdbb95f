export { ConcurrencyGate, CONCURRENCY_DEFAULTS } from './concurrency-gate.js';
export type { ConcurrencyCommonOptions, ConcurrencyOptions, ReclaimAsk, SlotGate, SlotReclaimer } from './concurrency-gate.js';
export type { PartitionOption } from './partition.js';
