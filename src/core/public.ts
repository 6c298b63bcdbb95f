/**
 * `sluice/core` (and the core part of `sluice`): the contract a user of the library sees —
 * clocks, errors, the gate/permit/rejection types, events, and the base a custom gate builds on.
 * The option checkers (optNumber, optKnownKeys, …) are not here: they are the library's own
 * helpers, imported inside the package through ./index.js, and their signatures may change.
 */
export { systemClock, VirtualClock, flushMicrotasks } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { SluiceError, InvalidOptionError, InvalidArgumentError, RejectedError, AbortedError, ClosedError, StreamRuleError, MissingDependencyError, isSluiceError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { REJECTION_REASONS } from './types.js';
export type { Admission, AdmissionContext, Gate, GateStats, Outcome, Permit, PolicyFacts, Rejection, RejectionReason } from './types.js';
export { diagnosticsChannels, EventHub } from './events.js';
export type { AdmitEvent, DropEvent, GateEvent, GateListener, RejectEvent, ReleaseEvent } from './events.js';
export { GateBase, GatePermit, isPromise, readContext, waitDeadline, abortError, rejectionError } from './gate-base.js';
export type { GateOptions } from './gate-base.js';
export { TIMER_MAX_MS } from './clock.js';
export { shownKey, storedKey } from './shown-key.js';
export type { TenantKeys } from './shown-key.js';
