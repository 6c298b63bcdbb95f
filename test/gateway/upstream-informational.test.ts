// An upstream that sends an interim (1xx) response before its final one. RFC 9110 section
// 15.2: a client must read past any number of them, even unasked. undici reads a 102 or a 103
// Early Hints and hands it on: the gateway relays it to an HTTP/1.1 client (never to an
// HTTP/1.0 one), then the final response (until upin21 it dropped every 1xx). But at a
// status of 100 undici (7.x, client-h1.js: its PR #201) destroys the upstream connection
// before the gateway sees anything — an unsolicited `100 Continue`, which the gateway never
// asks for (it does not forward Expect), cannot be read past: the client is told 502 with
// exactly that, not a generic "invalid response". In process, on loopback, against an
// upstream that writes raw bytes.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess } from './helpers.js';
import { rawConversation } from './raw-client.js';
import { rawUpstream } from './raw-upstream.js';

afterEach(cleanup);

const H = 'Host: gw\r\n';
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
const final = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal';
const next = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext';

describe('an upstream interim response before the final one', () => {
  for (const [name, interim, relayed] of [
    ['102 Processing', 'HTTP/1.1 102 Processing\r\n\r\n', [102]],
    ['103 Early Hints', 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n', [103]],
    ['two 103s', 'HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\n\r\n', [103, 103]],
  ] as const) {
    it(`${name}: relayed to an HTTP/1.1 client before the final response, and the connection serves on`, async () => {
      const up = await rawUpstream({ '/x': interim + final, '/next': next });
      const gw = await startInProcess(oneRoute(up.url, '5s'));
      const { text, open } = await rawConversation(gw.url, `GET /x HTTP/1.1\r\n${H}\r\nGET /next HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      expect(open).toBe(false);
      expect(statuses(text)).toEqual([...relayed, 200, 200]);
      expect(text).toMatch(/\r\n\r\nfinalHTTP\/1\.1 200 /);
      // Each as it came: its status line, its fields (Link), an empty line.
      expect(text.startsWith(interim)).toBe(true);
      expect(text.endsWith('next')).toBe(true);
      expect(gw.status().counters).toMatchObject({ upstreamErrors: 0, upstreamInvalid: 0 });
    });

    it(`${name}: never to an HTTP/1.0 client (RFC 9110 section 15.2): it gets the final response alone`, async () => {
      const up = await rawUpstream({ '/x': interim + final });
      const gw = await startInProcess(oneRoute(up.url, '5s'));
      const { text } = await rawConversation(gw.url, `GET /x HTTP/1.0\r\n${H}\r\n`);
      expect(statuses(text)).toEqual([200]);
      expect(text).not.toMatch(/link:/i);
      expect(text.endsWith('final')).toBe(true);
    });
  }

  for (const [name, interim] of [
    ['100 Continue', 'HTTP/1.1 100 Continue\r\n\r\n'],
    ['100 Continue then 103', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\n'],
  ] as const) {
    it(`${name}: 502 upstream_invalid_response saying so (undici cannot read past a 100), and the connection closes after it`, async () => {
      const up = await rawUpstream({ '/x': interim + final, '/next': next });
      const gw = await startInProcess(oneRoute(up.url, '5s'));
      const { text, open } = await rawConversation(gw.url, `GET /x HTTP/1.1\r\n${H}\r\nGET /next HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      expect(open).toBe(false);
      expect(statuses(text)).toEqual([502]);
      expect(text).toMatch(/"reason":"upstream_invalid_response"/);
      expect(text).toContain('The upstream sent 100 Continue before its final response');
      expect(gw.status().counters).toMatchObject({ upstreamInvalid: 1, upstreamErrors: 0 });
      // The next request on a new connection reaches the upstream again.
      const again = await rawConversation(gw.url, `GET /next HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      expect(statuses(again.text)).toEqual([200]);
    });
  }
});
