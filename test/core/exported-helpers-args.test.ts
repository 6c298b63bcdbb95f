// The helpers sluice/core exports for writing a gate (waitDeadline, abortError, rejectionError,
// new RejectedError), parseRetryAfter, new GatewayConfigError and new StageMeter, given what
// they do not take: each throws InvalidArgumentError naming the argument, what it takes and
// what it got — not a TypeError from inside ("Cannot read properties of undefined").
import { describe, expect, it } from 'vitest';
import { abortError, InvalidArgumentError, rejectionError, RejectedError, VirtualClock, waitDeadline } from '../../src/core/index.js';
import { GatewayConfigError } from '../../src/gateway/index.js';
import { parseRetryAfter } from '../../src/retry/index.js';
import { StageMeter } from '../../src/streams/index.js';

const loose = <T>(v: unknown): T => v as T;

function argError(call: () => unknown): string {
  try {
    call();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as Error).message;
  }
  throw new Error('taken without an error');
}

describe('sluice/core gate helpers', () => {
  it('waitDeadline names ctx, now and gateMaxWaitMs', () => {
    expect(argError(() => waitDeadline(loose(undefined), 0, 10))).toBe('ctx: expected an admission context (an object) for waitDeadline(), received undefined');
    expect(argError(() => waitDeadline(loose(null), 0, 10))).toBe('ctx: expected an admission context (an object) for waitDeadline(), received null');
    expect(argError(() => waitDeadline({}, loose('x'), 10))).toBe('now: expected a finite number for waitDeadline(), received "x"');
    expect(argError(() => waitDeadline({}, 0, loose(undefined)))).toBe('gateMaxWaitMs: expected a number >= 0 for waitDeadline(), received undefined');
    expect(waitDeadline({ maxWaitMs: 5 }, 100, 10)).toBe(105);
    expect(waitDeadline({ deadline: 103 }, 100, Infinity)).toBe(103);
  });
  it('abortError names what and signal', () => {
    expect(argError(() => abortError(loose(undefined), loose(undefined)))).toBe('what: expected a non-empty string for abortError(), received undefined');
    expect(argError(() => abortError('gate', loose(null)))).toBe('signal: expected an AbortSignal for abortError(), received null');
    expect(argError(() => abortError('gate', loose({ bogusKey: 1 })))).toBe('signal: expected an AbortSignal for abortError(), received an object');
    const c = new AbortController();
    c.abort('bye');
    expect(abortError('gate', c.signal).cause).toBe('bye');
  });
  it('rejectionError and new RejectedError name the rejection', () => {
    expect(argError(() => rejectionError(loose(undefined)))).toBe('rejection: expected a Rejection (an object with reason, gate and retryAfterMs) for rejectionError(), received undefined');
    expect(argError(() => rejectionError(loose(5)))).toBe('rejection: expected a Rejection (an object with reason, gate and retryAfterMs) for rejectionError(), received 5');
    expect(argError(() => new RejectedError(loose(null)))).toBe('rejection: expected a Rejection (an object with reason, gate and retryAfterMs) for new RejectedError(), received null');
    expect(argError(() => new RejectedError(loose({ bogusKey: 1 })))).toBe('rejection.reason: expected a rejection reason string for new RejectedError(), received undefined');
    expect(argError(() => new RejectedError(loose({ reason: 'quota', gate: 'g', retryAfterMs: 'soon' })))).toBe('rejection.retryAfterMs: expected a number >= 0 for new RejectedError(), received "soon"');
    expect(argError(() => new RejectedError(loose({ reason: 'quota', gate: 7, retryAfterMs: 1 })))).toBe('rejection.gate: expected a string for new RejectedError(), received 7');
    const e = new RejectedError({ ok: false, reason: 'quota', gate: 'g', retryAfterMs: 1500, facts: undefined });
    expect(e.message).toBe('g: rejected (quota); retry after 1500 ms');
  });
});

describe('parseRetryAfter', () => {
  it('names a now that is neither a Date nor a number', () => {
    expect(argError(() => parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', loose({ bogusKey: 1 })))).toBe('now: expected a Date or a number of epoch ms for parseRetryAfter(), received an object');
    expect(argError(() => parseRetryAfter('x', loose('today')))).toBe('now: expected a Date or a number of epoch ms for parseRetryAfter(), received "today"');
    // An unparsable header is still undefined, not an error: it comes from the peer, not the caller.
    expect(parseRetryAfter('x', Date.UTC(2026, 2, 1))).toBeUndefined();
    expect(parseRetryAfter(loose(5))).toBeUndefined();
  });
});

describe('new GatewayConfigError', () => {
  it('names file and issues', () => {
    expect(argError(() => new GatewayConfigError(loose(undefined), loose(undefined)))).toBe('file: expected a string for new GatewayConfigError(), received undefined');
    expect(argError(() => new GatewayConfigError('x', loose({ bogusKey: 1 })))).toBe('issues: expected an array of ConfigIssue ({ path, expected, found }) for new GatewayConfigError(), received an object');
    expect(argError(() => new GatewayConfigError('x', loose([null])))).toBe('issues[0]: expected a ConfigIssue ({ path, expected, found }) for new GatewayConfigError(), received null');
    expect(new GatewayConfigError('g.yaml', [{ path: 'port', expected: 'an integer', found: '"x"', line: 3 }]).message).toBe('g.yaml:3: port: expected an integer, found "x"');
  });
});

describe('new StageMeter', () => {
  it('names a clock that is no Clock', () => {
    expect(argError(() => new StageMeter('x', loose({ bogusKey: 1 })))).toBe('clock: expected a Clock (an object with now()) for new StageMeter(), received an object');
    expect(new StageMeter('x', new VirtualClock()).name).toBe('x');
  });
});
