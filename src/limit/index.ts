/**
 * Adaptive concurrency limits: algorithms that turn latency and drop samples into a limit.
 * A {@link ConcurrencyGate} created with `algorithm` enforces it.
 */
export type { LimitAlgorithm, LimitSample } from './algorithm.js';
export type { BoundsOptions } from './bounds.js';
export { AimdLimit, AIMD_DEFAULTS } from './aimd.js';
export type { AimdOptions, AimdState } from './aimd.js';
export { VegasLimit, VEGAS_DEFAULTS } from './vegas.js';
export type { VegasOptions, VegasState } from './vegas.js';
export { Gradient2Limit, GRADIENT2_DEFAULTS } from './gradient2.js';
export type { Gradient2Options, Gradient2State } from './gradient2.js';
export { WindowedLimit, WINDOWED_DEFAULTS } from './windowed.js';
export type { WindowedOptions, WindowedState } from './windowed.js';
