// A reload adds nothing to the listening server: the half-close handling (half-close.ts) was
// attached again at every reload, with the limits it re-applies — a 'request' listener on the
// server and an 'end' listener on every new connection per reload (hostile-10). After ten
// reloads each connection printed a MaxListenersExceededWarning to stderr, and each request
// and connection ran one more listener per reload for the life of the process.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneRoute, startInProcess, upstream, within } from './helpers.js';

afterEach(cleanup);

describe('reloads', () => {
  it('leave no listeners behind: no MaxListenersExceededWarning after twelve', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const up = await upstream((_req, res) => res.end('ok'));
      const config = oneRoute(up.url, '5s');
      const gw = await startInProcess(config);
      for (let i = 0; i < 12; i++) await gw.reload(config);
      for (let i = 0; i < 3; i++) expect(await get(gw.url)).toMatchObject({ status: 200, body: 'ok' });
      // Warnings are emitted on a later tick: give them a few.
      await within(200, () => warnings.length > 0);
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
