// Failed admissions (a store key of another type, WRONGTYPE): what /status and /metrics read
// of them, on an injected clock; the log per burst; and the primary's merge of its workers'.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { burstLogs } from '../../src/gateway/burst-logs.js';
import { AdmissionFailures, FAILING_MS, failureReasonOf } from '../../src/gateway/admission-failures.js';
import type { Logger } from '../../src/gateway/logger.js';
import { mergeStatuses } from '../../src/gateway/status-merge.js';
import type { GatewayStatus } from '../../src/gateway/status.js';
import { StoreWrongTypeError } from '../../src/redis/store-errors.js';

function captured(): { logger: Logger; lines: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

describe('AdmissionFailures', () => {
  it('counts by route and reason, shows the last error, and is failing for 10 s after the last failure', () => {
    let now = 1_000_000;
    const { logger, lines } = captured();
    const f = new AdmissionFailures(logger, 1000, { now: () => now }, () => now);
    expect(f.status('api')).toEqual({ count: 0, failing: false });
    const wrong = new StoreWrongTypeError('sluice:{p}/r', new Error('WRONGTYPE Operation against a key holding the wrong kind of value'));
    for (let i = 0; i < 3; i++) f.failed('api', wrong);
    now += 5;
    f.failed('api', new Error('boom'));
    expect(f.status('api')).toEqual({ count: 4, failing: true, reason: 'error', lastError: 'Error: boom', lastAt: new Date(now).toISOString() });
    expect([...f.series()]).toEqual([
      { route: 'api', reason: 'store_wrongtype', count: 3 },
      { route: 'api', reason: 'error', count: 1 },
    ]);
    now += FAILING_MS - 1;
    expect(f.status('api').failing).toBe(true);
    now += 1;
    expect(f.status('api')).toMatchObject({ count: 4, failing: false });
    // Logged: the first of each error at once, the rest at the flush, as error lines.
    expect(lines.map((l) => [l.level, l.msg, l.fields['count']])).toEqual([
      ['error', 'admission failed', 1],
      ['error', 'admission failed', 1],
    ]);
    f.flush();
    expect(lines.map((l) => l.fields['count'])).toEqual([1, 1, 2]);
    expect(lines[2]!.fields).toMatchObject({ route: 'api', error: String(wrong), status: 500, periodMs: 1000 });
  });

  it('a shadow policy\'s failure is logged, not counted (nothing was answered 500)', () => {
    const { logger, lines } = captured();
    const f = new AdmissionFailures(logger, 1000);
    f.shadowFailed('api', new Error('boom'));
    expect(f.status('api')).toEqual({ count: 0, failing: false });
    expect(lines.map((l) => l.msg)).toEqual(['shadow admission failed']);
  });

  it('failureReasonOf: a sluice error by its code, anything else "error"', () => {
    expect(failureReasonOf(new StoreWrongTypeError('k', new Error('WRONGTYPE')))).toBe('store_wrongtype');
    expect(failureReasonOf(new Error('x'))).toBe('error');
    expect(failureReasonOf('a string')).toBe('error');
  });

  it('failing is decided on the clock the gateway is given (burstLogs), lastAt shows the wall clock', () => {
    const clock = new VirtualClock();
    const { logger } = captured();
    const f = burstLogs(logger, clock).admissionFailures;
    const before = Date.now();
    f.failed('api', new Error('boom'));
    expect(f.status('api').failing).toBe(true);
    expect(Date.parse(f.status('api').lastAt!)).toBeGreaterThanOrEqual(before);
    clock.advance(FAILING_MS - 1);
    expect(f.status('api').failing).toBe(true);
    // Before: decided on Date.now, still failing 10 s later on the gateway's clock.
    clock.advance(1);
    expect(f.status('api')).toMatchObject({ count: 1, failing: false, lastError: 'Error: boom' });
    f.flush();
  });

  it('the primary\'s /status: the latest failure of any worker (its error, reason and time), counts summed, failing if any', () => {
    const w = (admissionFailures: Record<string, unknown>): GatewayStatus => ({ state: 'serving', routes: [{ name: 'api', admissionFailures }] }) as unknown as GatewayStatus;
    const old = { count: 2, failing: false, reason: 'error', lastError: 'Error: an hour ago', lastAt: '2026-12-04T10:00:00.000Z' };
    const now = { count: 3, failing: true, reason: 'store_wrongtype', lastError: 'WRONGTYPE now', lastAt: '2026-12-04T11:00:00.000Z' };
    const expected = { count: 5, failing: true, reason: 'store_wrongtype', lastError: 'WRONGTYPE now', lastAt: '2026-12-04T11:00:00.000Z' };
    // Before: worker 0's, whatever its age.
    expect(mergeStatuses([w(old), w(now)])!.routes[0]!.admissionFailures).toEqual(expected);
    expect(mergeStatuses([w(now), w(old)])!.routes[0]!.admissionFailures).toEqual(expected);
    expect(mergeStatuses([w({ count: 0, failing: false }), w(old), w(now)])!.routes[0]!.admissionFailures).toEqual(expected);
  });

  it('the primary\'s /status keeps the last error of a worker other than the first', () => {
    const w = (admissionFailures: Record<string, unknown>): GatewayStatus => ({ state: 'serving', routes: [{ name: 'api', admissionFailures }] }) as unknown as GatewayStatus;
    const merged = mergeStatuses([w({ count: 0, failing: false }), w({ count: 3, failing: true, reason: 'store_wrongtype', lastError: 'WRONGTYPE x', lastAt: 'T' })])!;
    expect(merged.routes[0]!.admissionFailures).toEqual({ count: 3, failing: true, reason: 'store_wrongtype', lastError: 'WRONGTYPE x', lastAt: 'T' });
  });
});
