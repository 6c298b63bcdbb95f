/**
 * sluice — backpressure and overload control for Node.js.
 * The root export re-exports every layer without a heavy dependency; adapters live behind
 * their own subpaths.
 */
export * from './core/public.js';
export * from './discipline/public.js';
export * from './queue/index.js';
export * from './rate/index.js';
export * from './concurrency/index.js';
export * from './limit/index.js';
export * from './pressure/index.js';
export * from './breaker/index.js';
export * from './retry/index.js';
export * from './compose/index.js';
export * from './shared/index.js';
