// httpoxy (CVE-2016-5385): a CGI-style upstream (PHP, Go's net/http/cgi, Python's wsgiref
// CGI handler) turns a request's `Proxy` header into HTTP_PROXY, which HTTP client libraries
// read as the proxy for their own outbound calls — a client's `Proxy: http://evil` would route
// the upstream's calls through it. No proxy or CDN sets it (it is no standard header), and the
// advice is to drop it at the edge whoever sent it (nginx: proxy_set_header Proxy ""). It was
// forwarded (hostile-6). In process, on loopback.
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawExchange } from './raw-client.js';

afterEach(cleanup);

describe('a Proxy request header (httpoxy)', () => {
  for (const trustProxy of [[], ['loopback']]) {
    it(`never reaches the upstream, in any case or underscore spelling (trustProxy: [${trustProxy.join()}])`, async () => {
      const seen: IncomingHttpHeaders[] = [];
      const up = await upstream((req, res) => {
        seen.push(req.headers);
        res.end('ok');
      });
      const gw = await startInProcess({ ...oneRoute(up.url, '5s'), trustProxy });
      for (const name of ['Proxy', 'proxy', 'PROXY', 'Proxy_']) {
        const a = await rawExchange(gw.url, `GET /x HTTP/1.1\r\nHost: gw\r\n${name}: http://evil.example:1\r\nX-Kept: yes\r\nConnection: close\r\n\r\n`);
        expect(a.status).toBe(200);
      }
      expect(seen).toHaveLength(4);
      for (const h of seen) {
        expect(h['x-kept']).toBe('yes');
        expect(Object.keys(h).filter((n) => n.startsWith('proxy'))).toEqual([]);
      }
    });
  }
});
