// red21: /status `pipeline.waiting` (the requests parsed and waiting behind another, all
// connections together — MAX_WAITING cuts deep pipeliners against it) kept one for ever each time
// a request refused by the handler (a bad path) was pipelined behind one in flight, and requests
// after it: the refusal's Connection: close was missed (set as a header, it leaves node's
// shouldKeepAlive true), so the next one was handled on a closing connection, its response
// never sent nor closed, and the one behind it waited for ever.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream, within } from './helpers.js';
import { rawConversation } from './raw-client.js';

afterEach(cleanup);

describe('pipeline waiting count (red21)', () => {
  it('returns to 0 once the connection is done, a refusal pipelined behind a request in flight included', async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(req.url ?? '');
      setTimeout(() => res.end(`ok ${req.url ?? ''}`), 20);
    });
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    for (let i = 0; i < 3; i++) {
      const text = (await rawConversation(gw.url, 'GET /a HTTP/1.1\r\nHost: gw\r\n\r\nGET /%zz HTTP/1.1\r\nHost: gw\r\n\r\nGET /b HTTP/1.1\r\nHost: gw\r\n\r\nGET /last HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n', 10_000)).text;
      expect([...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))).toEqual([200, 400]);
    }
    // Nothing after the refusal reaches the upstream (RFC 9112 section 9.6).
    expect(seen).toEqual(['/a', '/a', '/a']);
    expect(await within(10_000, () => gw.status().pipeline.waiting === 0)).toBe(true);
  });
});
