export { compose, ComposedGate } from './compose.js';
export type { ComposeOptions } from './compose.js';
export { run } from './run.js';
export type { RunOptions } from './run.js';
