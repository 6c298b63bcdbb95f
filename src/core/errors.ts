/**
 * sluice errors. Each has a stable `code` (never reused once retired; see docs/errors.md),
 * a `name`, and a brand registered with `Symbol.for`, so `instanceof` and
 * {@link isSluiceError} work across two copies of the package in one process.
 */
import type { PolicyFacts, Rejection, RejectionReason } from './types.js';

const kBrand = Symbol.for('sluice.error');

export type ErrorCode =
  | 'SLUICE_ERR_INVALID_OPTION'
  | 'SLUICE_ERR_INVALID_ARGUMENT'
  | 'SLUICE_ERR_REJECTED'
  | 'SLUICE_ERR_ABORTED'
  | 'SLUICE_ERR_CLOSED'
  | 'SLUICE_ERR_GATEWAY_CONFIG'
  | 'SLUICE_ERR_STREAM_RULE'
  | 'SLUICE_ERR_BROKER_UNAVAILABLE'
  | 'SLUICE_ERR_BROKER_QUEUE_DELETED'
  | 'SLUICE_ERR_BROKER_REFUSED'
  | 'SLUICE_ERR_HANDLER_TIMEOUT'
  | 'SLUICE_ERR_DEAD_LETTER_TOO_LARGE'
  | 'SLUICE_ERR_LEASE_LOST'
  | 'SLUICE_ERR_STORE_UNAVAILABLE'
  | 'SLUICE_ERR_STORE_WRONGTYPE'
  | 'SLUICE_ERR_MISSING_DEPENDENCY';

export class SluiceError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, kBrand, { value: true });
  }

  override get name(): string {
    return 'SluiceError';
  }

  /** Brand check instead of prototype identity: survives duplicated packages. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value);
  }
}

function isBranded(value: unknown): value is SluiceError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kBrand] === true;
}

function hasCode(value: unknown, code: ErrorCode): boolean {
  return isBranded(value) && value.code === code;
}

/** An option given at construction is out of range, of the wrong type, or contradicts another. */
export class InvalidOptionError extends SluiceError {
  readonly option: string;
  /** What the option takes (the message's "expected ..."). */
  readonly expected: string;
  /** The value given (or, when it must not be shown, the description that stood for it). */
  readonly received: unknown;
  /**
   * `receivedAs`: the words for the value instead of the value itself (a secret: "a number (not
   * shown)"); `received` is then that description, never the value.
   */
  constructor(option: string, expected: string, received: unknown, receivedAs?: string) {
    super('SLUICE_ERR_INVALID_OPTION', `${option}: expected ${expected}, received ${receivedAs ?? describe(received)}`);
    this.option = option;
    this.expected = expected;
    this.received = received;
  }
  override get name(): string {
    return 'InvalidOptionError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, 'SLUICE_ERR_INVALID_OPTION');
  }
}

/** An argument of a call (an admission context's cost, priority, ...) is invalid. Nothing was admitted. */
export class InvalidArgumentError extends SluiceError {
  readonly argument: string;
  constructor(argument: string, expected: string, received: unknown) {
    super('SLUICE_ERR_INVALID_ARGUMENT', `${argument}: expected ${expected}, received ${describe(received)}`);
    this.argument = argument;
  }
  override get name(): string {
    return 'InvalidArgumentError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, 'SLUICE_ERR_INVALID_ARGUMENT');
  }
}

/** A gate refused admission. Carries the same fields as the {@link Rejection} value. */
export class RejectedError extends SluiceError {
  readonly reason: RejectionReason;
  readonly retryAfterMs: number;
  readonly gate: string;
  readonly facts: PolicyFacts | undefined;
  /** The rejection's {@link Rejection.detail}, also in the message. */
  readonly detail: string | undefined;
  constructor(rejection: Rejection) {
    checkRejection(rejection, 'new RejectedError()');
    const after = Number.isFinite(rejection.retryAfterMs) ? `retry after ${Math.ceil(rejection.retryAfterMs)} ms` : 'retrying will not help';
    const why = rejection.detail === undefined ? '' : `: ${rejection.detail}`;
    super('SLUICE_ERR_REJECTED', `${rejection.gate}: rejected (${rejection.reason})${why}; ${after}`);
    this.detail = rejection.detail;
    this.reason = rejection.reason;
    this.retryAfterMs = rejection.retryAfterMs;
    this.gate = rejection.gate;
    this.facts = rejection.facts;
  }
  override get name(): string {
    return 'RejectedError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, 'SLUICE_ERR_REJECTED');
  }
}

/** The caller's AbortSignal fired while it waited. `cause` is the signal's reason. */
export class AbortedError extends SluiceError {
  constructor(what: string, cause: unknown) {
    super('SLUICE_ERR_ABORTED', `${what}: aborted by the caller's signal`, { cause });
  }
  override get name(): string {
    return 'AbortedError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, 'SLUICE_ERR_ABORTED');
  }
}

/** The gate or queue was closed; pending and later calls settle with this error. */
export class ClosedError extends SluiceError {
  constructor(what: string) {
    super('SLUICE_ERR_CLOSED', `${what}: closed`);
  }
  override get name(): string {
    return 'ClosedError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, 'SLUICE_ERR_CLOSED');
  }
}

/**
 * A Reactive Streams rule was broken (`sluice/streams`): `request(0)`, a second subscriber
 * of a single-subscriber publisher, a source emitting past demand, a subscriber that threw.
 * `rule` is the specification's number ('3.9', '1.1', ...), as docs/streams.md states them.
 */
export class StreamRuleError extends SluiceError {
  readonly rule: string;
  constructor(rule: string, message: string, options?: ErrorOptions) {
    super('SLUICE_ERR_STREAM_RULE', `§${rule} ${message}`, options);
    this.rule = rule;
  }
  override get name(): string {
    return 'StreamRuleError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, 'SLUICE_ERR_STREAM_RULE');
  }
}

/**
 * A feature needs an optional peer package that is not installed (the gateway's `ajv`, `yaml`
 * and `undici`: the library installs with no dependencies). Nothing was started.
 */
export class MissingDependencyError extends SluiceError {
  /** The package that could not be loaded. */
  readonly dependency: string;
  /** The command that installs what the feature needs. */
  readonly install: string;
  constructor(dependency: string, feature: string, install: string, options?: ErrorOptions) {
    super('SLUICE_ERR_MISSING_DEPENDENCY', `${feature} needs the package ${JSON.stringify(dependency)}, which is not installed: ${install}`, options);
    this.dependency = dependency;
    this.install = install;
  }
  override get name(): string {
    return 'MissingDependencyError';
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, 'SLUICE_ERR_MISSING_DEPENDENCY');
  }
}

/**
 * Throws InvalidArgumentError unless `rejection` has what a RejectedError reads (a reason and a
 * gate of strings, a retryAfterMs >= 0): the class and rejectionError() are exported for custom
 * gates, and a wrong value would otherwise surface as a TypeError from inside or a message of
 * "undefined: rejected (undefined)".
 */
export function checkRejection(rejection: Rejection, call: string): void {
  const r = rejection as Partial<Rejection> | null;
  if (typeof r !== 'object' || r === null) throw new InvalidArgumentError('rejection', `a Rejection (an object with reason, gate and retryAfterMs) for ${call}`, rejection);
  if (typeof r.reason !== 'string') throw new InvalidArgumentError('rejection.reason', `a rejection reason string for ${call}`, r.reason);
  if (typeof r.gate !== 'string') throw new InvalidArgumentError('rejection.gate', `a string for ${call}`, r.gate);
  if (typeof r.retryAfterMs !== 'number' || !(r.retryAfterMs >= 0)) throw new InvalidArgumentError('rejection.retryAfterMs', `a number >= 0 for ${call}`, r.retryAfterMs);
}

export function isSluiceError(value: unknown): value is SluiceError {
  return isBranded(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return 'an object';
}
