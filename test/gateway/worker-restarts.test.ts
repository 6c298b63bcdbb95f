// WorkerRestarts (worker-restarts.ts) on an injected clock: the backoff doubles from 1 s to its
// 30 s cap; a failure is logged once per cause, not once per try; a start after failures is
// logged with how long the worker was down; the failing workers are listed for /status. The
// real processes: worker-start-failure.test.ts.
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/gateway/logger.js';
import { RESTART_CAP_MS, WorkerRestarts, restartDelayMs } from '../../src/gateway/worker-restarts.js';

function setup() {
  const logs: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const log = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void logs.push({ level, msg, fields });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  let now = Date.parse('2026-12-05T12:00:00Z');
  const restarts = new WorkerRestarts(logger, () => now);
  return { logs, restarts, advance: (ms: number) => void (now += ms) };
}

describe('WorkerRestarts', () => {
  it('backs off 1 s, 2 s, 4 s ... up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100, 10_000].map(restartDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
    expect(RESTART_CAP_MS).toBe(30_000);
  });

  it('logs a failure once per cause, whatever the tries; lists it; logs the start after it, and forgets it', () => {
    const { logs, restarts, advance } = setup();
    const delays = [];
    for (let i = 0; i < 10; i++) {
      delays.push(restarts.failed(0, 'worker 0 exited before it listened (code 3, signal null)'));
      advance(delays.at(-1)!);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000]);
    expect(restarts.failed(0, 'spawn EAGAIN')).toBe(30_000); // another cause: logged too, the backoff goes on
    expect(restarts.failed(1, 'worker 1 exited before it listened (code 3, signal null)')).toBe(1_000);
    expect(logs.filter((l) => l.level === 'error').map((l) => [l.fields['worker'], l.fields['error'], l.fields['tries']])).toEqual([
      [0, 'worker 0 exited before it listened (code 3, signal null)', 1],
      [0, 'spawn EAGAIN', 11],
      [1, 'worker 1 exited before it listened (code 3, signal null)', 1],
    ]);
    expect(restarts.snapshot()).toEqual([
      { worker: 0, tries: 11, since: '2026-12-05T12:00:00.000Z', error: 'spawn EAGAIN' },
      { worker: 1, tries: 1, since: expect.any(String) as unknown, error: 'worker 1 exited before it listened (code 3, signal null)' },
    ]);
    restarts.started(0);
    expect(logs.at(-1)).toMatchObject({ level: 'info', msg: 'worker started again after failed starts', fields: { worker: 0, failedTries: 11 } });
    expect(restarts.snapshot().map((f) => f.worker)).toEqual([1]);
    // A later failure of worker 0 starts a new streak: logged again, from 1 s.
    expect(restarts.failed(0, 'spawn EAGAIN')).toBe(1_000);
    expect(logs.filter((l) => l.level === 'error')).toHaveLength(4);
    // A worker that never failed starts without a line.
    const before = logs.length;
    restarts.started(2);
    expect(logs).toHaveLength(before);
  });
});
