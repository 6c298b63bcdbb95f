// A refused client that pipelines (hostile finding F24): pausing its connection stops reading
// new bytes, but the requests it already pipelined — a whole read, hundreds of small requests —
// are parsed and waiting, and each would be refused in turn at full speed, one pause per
// refusal: 50 such connections took a well-behaved client's goodput on another route to 5%.
// While pausing is engaged, a refusal with requests pipelined behind it closes the connection
// (Connection: close): the backlog is not served, and the client must reconnect to send more.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawConversation } from './raw-client.js';

afterEach(cleanup);

/** Write `bytes` at once; everything read until the gateway closes the connection (or 5 s). */
const conversation = async (url: string, bytes: string): Promise<{ text: string; closed: boolean }> => {
  const { text, open } = await rawConversation(url, bytes);
  return { text, closed: !open };
};

const request = (key: string): string => `GET /x HTTP/1.1\r\nHost: gw\r\nx-key: ${key}\r\n\r\n`;
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

describe('pipelined requests behind a refusal', () => {
  it('while pausing is engaged: the refusal closes the connection, and the backlog is not served', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(
      oneRoute(up.url, '10s', {
        server: { pauseRefused: '2s', pauseRefusedLoad: 0 },
        policies: { perKey: { tenant: { header: 'x-key' }, rateLimits: [{ rate: '1/min', burst: 1 }] } },
        routes: [{ path: '/', policy: 'perKey' }],
      }),
    );
    expect((await get(gw.url, { headers: { 'x-key': 'a' } })).status).toBe(200);
    const { text, closed } = await conversation(gw.url, request('a').repeat(50));
    expect(closed).toBe(true);
    // The first is refused as it is parsed, before the rest are (nothing waits behind it yet);
    // the second finds the backlog, and its refusal closes the connection: 2 of 50 answered.
    expect(statuses(text)).toEqual([429, 429]);
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
    expect(gw.status().counters.rejected).toBe(2);
    // Admitted requests with others behind them are served in order, as ever.
    const served = await conversation(gw.url, `${request('b')}GET /x HTTP/1.1\r\nHost: gw\r\nx-key: c\r\nConnection: close\r\n\r\n`);
    expect(statuses(served.text)).toEqual([200, 200]);
  });

  it('with pausing off (as with room on the event loop: not engaged), every pipelined request is answered', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(
      oneRoute(up.url, '10s', {
        server: { pauseRefused: '0s' },
        policies: { perKey: { tenant: { header: 'x-key' }, rateLimits: [{ rate: '1/min', burst: 1 }] } },
        routes: [{ path: '/', policy: 'perKey' }],
      }),
    );
    expect((await get(gw.url, { headers: { 'x-key': 'a' } })).status).toBe(200);
    const { text } = await conversation(gw.url, `${request('a').repeat(4)}GET /x HTTP/1.1\r\nHost: gw\r\nx-key: a\r\nConnection: close\r\n\r\n`);
    expect(statuses(text)).toEqual([429, 429, 429, 429, 429]);
  });
});
