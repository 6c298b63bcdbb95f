// A Content-Length that is a list (RFC 9110 section 8.6: `3, 3` — equal values a recipient may
// accept as one or refuse; different values it must refuse). node:http's parser refuses every
// list as 'Invalid character in Content-Length', which the answer passed on: a client told its
// header was malformed when it sent a list. The answer now says it is a list, equal or not.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawExchange } from './raw-client.js';

afterEach(cleanup);

const post = (contentLength: string, body: string): string => `POST /x HTTP/1.1\r\nHost: gw\r\nContent-Length:${contentLength}\r\nConnection: close\r\n\r\n${body}`;

describe('a Content-Length list', () => {
  it('is refused 400 with a detail naming the list, equal values or different, and nothing is forwarded', async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const gw = await startInProcess(oneRoute(up.url, '2s'));
    const cases = [
      [' 3, 3', 'abc', 'equal'],
      [' 3,3', 'abc', 'equal'],
      ['  3 ,\t3 , 3 ', 'abc', 'equal'],
      [' 3, 4', 'abcd', 'different'],
      [' 4,3', 'abcd', 'different'],
    ] as const;
    for (const [value, body, kind] of cases) {
      const r = await rawExchange(gw.url, post(value, body));
      expect(r.status, value).toBe(400);
      const problem = JSON.parse(r.body) as { reason: string; detail: string };
      expect(problem.reason, value).toBe('duplicate_content_length');
      expect(problem.detail, value).toMatch(kind === 'equal' ? /Content-Length header is a list of equal values/ : /Content-Length header is a list of different values/);
      expect(problem.detail, value).not.toMatch(/invalid character/i);
    }
    // A value that is no number at all is still malformed, not a list.
    const bad = await rawExchange(gw.url, post(' 3, x', 'abc'));
    expect(JSON.parse(bad.body)).toMatchObject({ status: 400, reason: 'bad_content_length' });
    expect(seen).toEqual([]);
    expect(gw.status().badRequests).toMatchObject({ duplicate_content_length: cases.length, bad_content_length: 1 });
  });
});
