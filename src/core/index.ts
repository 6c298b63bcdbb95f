/**
 * The core as the rest of the package imports it: the public part (./public.js, which is what
 * `sluice/core` exports) and the option checkers every layer validates its options with.
 */
export * from './public.js';
export { optBoolean, optFunction, optInt, optNumber, optOneOf, optRecord, argInt, argNumber, underOption } from './options.js';
export { nearestKey, optionKeys, optKnownKeys } from './option-keys.js';
export type { OptionKeyMap } from './option-keys.js';
export { optTenantKeys } from './shown-key.js';
