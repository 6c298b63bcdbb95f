// An abort that comes after its request's answer completed (a client that leaves once the
// upstream is done, its response still being written to it) does not touch the connection: the
// pool frees it for the next request, and undici's abort is not called. Only a request still in
// flight retires its connection (upstream-abort-reconnect.test.ts). Checked at the trip's level,
// with a pool that records what it is told.
import type { Client, Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { OnConnection, Trip } from '../../src/gateway/upstream-trip.js';
import type { PoolHandler, TripPool } from '../../src/gateway/upstream-trip.js';

function recordingPool(): TripPool & { told: string[] } {
  const told: string[] = [];
  return {
    told,
    connections: 1,
    served: () => void told.push('served'),
    freed: () => void told.push('freed'),
    retire: () => void told.push('retire'),
    cutConnect: () => (told.push('cutConnect'), false),
    sendAgain: () => false,
    unqueue: () => void told.push('unqueue'),
  };
}

describe('an abort after the answer completed', () => {
  it('is nothing: the connection is freed, not retired, and undici is not asked to abort', () => {
    const pool = recordingPool();
    let handlerAbort: ((err?: Error) => void) | undefined;
    const handler: PoolHandler = { onConnect: (abort) => void (handlerAbort = abort), onHeaders: () => true, onData: () => true, onComplete: () => undefined, onError: () => undefined };
    const trip = new Trip(pool, { method: 'GET', path: '/' } as Dispatcher.DispatchOptions, handler, 60_000);
    const on = new OnConnection(trip, { stats: { connected: true } } as unknown as Client, undefined);
    const undiciAborts: unknown[] = [];
    on.onConnect((err) => void undiciAborts.push(err));
    on.onHeaders(200, [], () => undefined, 'OK');
    on.onComplete(null);
    handlerAbort!(new Error('client closed'));
    on.timeOut(new Error('late deadline'));
    expect(undiciAborts).toEqual([]);
    expect(pool.told).toEqual(['served', 'freed']);
  });

  it('one before the answer completed retires the connection', () => {
    const pool = recordingPool();
    let handlerAbort: ((err?: Error) => void) | undefined;
    const handler: PoolHandler = { onConnect: (abort) => void (handlerAbort = abort), onHeaders: () => true, onData: () => true, onComplete: () => undefined, onError: () => undefined };
    const trip = new Trip(pool, { method: 'GET', path: '/' } as Dispatcher.DispatchOptions, handler, 60_000);
    const on = new OnConnection(trip, { stats: { connected: true } } as unknown as Client, undefined);
    on.onConnect((err) => on.onError(err as Error));
    on.onHeaders(200, [], () => undefined, 'OK');
    handlerAbort!(new Error('client closed'));
    expect(pool.told).toEqual(['retire']);
  });
});
