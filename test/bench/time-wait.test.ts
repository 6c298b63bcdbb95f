// The bench's wait for sockets in TIME_WAIT (bench/lib/time-wait.ts): /proc/net/tcp's state
// column read right, and the wait bounded, loud, and skipped when the range is not crowded.
import { describe, expect, it } from 'vitest';
import { countTimeWait, settleTimeWait } from '../../bench/lib/time-wait.js';

const table = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0000000000000000 100 0 0 10 0',
  '   1: 0100007F:C350 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000',
  '   2: 0100007F:C351 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000',
  '   3: 0100007F:C352 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 2 1 0000000000000000 20 4 30 10 -1',
  '',
].join('\n');

describe('sockets in TIME_WAIT', () => {
  it('are counted by the state column (06), not by a 06 elsewhere in the line', () => {
    expect(countTimeWait(table)).toBe(2);
    expect(countTimeWait(table.replaceAll(' 06 ', ' 01 '))).toBe(0);
  });

  it('a crowded range is waited out until under the floor, with a loud line before and after', async () => {
    const counts = [28_000, 20_000, 5_000, 150];
    const lines: string[] = [];
    const r = await settleTimeWait({ startAbove: 7_000, count: () => counts.shift(), log: (l) => lines.push(l), sleep: async () => undefined });
    expect(r).toEqual({ before: 28_000, after: 150, waitedMs: 3000 });
    expect(lines[0]).toMatch(/^ {2}!! 28000 sockets in TIME_WAIT/);
    expect(lines[1]).toMatch(/TIME_WAIT down to 150 after 3 s/);
  });

  it('the wait is bounded, and says the next row is suspect', async () => {
    const lines: string[] = [];
    const r = await settleTimeWait({ startAbove: 7_000, maxMs: 5_000, count: () => 27_000, log: (l) => lines.push(l), sleep: async () => undefined });
    expect(r.waitedMs).toBe(5000);
    expect(lines[1]).toMatch(/^ {2}!! still 27000 sockets in TIME_WAIT after 5 s/);
  });

  it('below the threshold, or where there is no /proc, nothing waits and nothing is said', async () => {
    const lines: string[] = [];
    expect(await settleTimeWait({ startAbove: 7_000, count: () => 2_000, log: (l) => lines.push(l) })).toEqual({ before: 2_000, after: 2_000, waitedMs: 0 });
    expect(await settleTimeWait({ count: () => undefined, log: (l) => lines.push(l) })).toEqual({ before: undefined, after: undefined, waitedMs: 0 });
    expect(lines).toEqual([]);
  });
});
