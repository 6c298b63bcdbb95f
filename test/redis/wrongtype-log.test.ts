// A key of another type under the store's keyPrefix (hostile-ops): WRONGTYPE is not an outage
// (onStoreError does not hide it, docs/errors.md), so each request of the route is answered
// 500 admission_failed — and each wrote an error line of its own, a line per request under
// load. Now the first failure of a route and error is logged at once and the rest of that
// second as one line with its count, as refusals are.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get } from '../gateway/helpers.js';
import { sharedRedis, until } from './servers.js';
import { countOf, poisonedGateway } from './wrongtype.js';

const svc = await sharedRedis();
afterEach(cleanup);

describe.skipIf(!svc.up)('a key of another type under the keyPrefix', () => {
  it('40 requests answered 500: one error line at once, the others counted in one more', async () => {
    const { gw, from } = await poisonedGateway(svc.url);
    const statuses = [];
    for (let i = 0; i < 40; i++) statuses.push((await get(`${gw.url}/`)).status);
    expect(statuses).toEqual(Array(40).fill(500));
    const failed = (): Record<string, unknown>[] =>
      gw.lines
        .slice(from)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((o) => o['msg'] === 'admission failed');
    // The count's line comes at the end of its second (a bound, not a figure).
    expect(await until(() => failed().reduce((n, o) => n + countOf(o), 0) >= 40, 10_000)).toBe(true);
    const lines = failed();
    expect(lines.length).toBeLessThan(10);
    expect(String(lines[0]!['error'])).toContain('WRONGTYPE');
    expect(lines.reduce((n, o) => n + countOf(o), 0)).toBe(40);
  }, 60_000);

  // The count of the last second was written by a timer that the drain did not wait for: a
  // gateway stopped within a second of its last failures lost their count (one line at once,
  // the other 39 never written). Its drain now writes every burst log's last count.
  it('stopped within the second: the last burst\'s count is in the log before "stopped"', async () => {
    const { gw, from } = await poisonedGateway(svc.url);
    for (let i = 0; i < 40; i++) expect((await get(`${gw.url}/`)).status).toBe(500);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    const logged = gw.lines.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>);
    const failed = logged.filter((o) => o['msg'] === 'admission failed');
    expect(failed.reduce((n, o) => n + countOf(o), 0)).toBe(40);
    expect(failed.map((o) => [o['route'], String(o['error']).includes('WRONGTYPE')])).toEqual(failed.map(() => ['route-0', true]));
    // Written by the drain, before its last line.
    expect(logged.findIndex((o) => o['msg'] === 'stopped')).toBeGreaterThan(logged.lastIndexOf(failed.at(-1)!));
  }, 60_000);
});
