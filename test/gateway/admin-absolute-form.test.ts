// The admin listener and absolute-form targets (RFC 9112 section 3.2.2: a server must accept
// them). The admin listener serves its own paths whatever Host names (a name, the address a NAT
// or a container's published port shows the client), so an absolute-form target's authority is
// ignored as Host is: `GET http://localhost:9901/status` is /status. Until upstream (session 28)
// only a target naming the address the connection reached was (24acc6e); `localhost` or any
// other name was 400 foreign_target; before 24acc6e every one was 404. A scheme other than http
// is 421 `foreign_scheme` (this listener serves plain http); userinfo 400 `bad_target`.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawConversation } from './raw-client.js';

afterEach(cleanup);

describe('the admin listener: absolute-form targets', () => {
  it('serves the path of one naming any host, and refuses another scheme or userinfo with the reason', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const authority = new URL(gw.adminUrl).host;
    const port = new URL(gw.adminUrl).port;
    const ask = async (target: string): Promise<string> => (await rawConversation(gw.adminUrl, `GET ${target} HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`)).text;
    expect(await ask(`http://${authority}/healthz`)).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok\n$/);
    expect(await ask(`HTTP://${authority.toUpperCase()}/status?x=1`)).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\{\n {2}"state": "serving"/);
    // Before: 400 foreign_target for a name, or another address or port.
    expect(await ask(`http://localhost:${port}/status`)).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\{\n {2}"state": "serving"/);
    expect(await ask('http://gateway.example:19901/healthz')).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok\n$/);
    expect(await ask(`http://localhost:${port}/metrics`)).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*sluice_/);
    expect(await ask(`http://localhost:${port}`)).toMatch(/^HTTP\/1\.1 404 /);
    expect(await ask(`http://${authority}/nope`)).toMatch(/^HTTP\/1\.1 404 /);
    const scheme = await ask(`https://localhost:${port}/status`);
    expect(scheme).toMatch(/^HTTP\/1\.1 421 Misdirected Request\r\n/);
    expect(scheme).toMatch(/\r\n\r\nforeign_scheme: The target has the scheme https:, which this listener does not serve \(it serves plain http\): send the path alone \(GET \/status\)\.\n$/);
    const userinfo = await ask(`http://user:secret@${authority}/status`);
    expect(userinfo).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\nbad_target: The request target has userinfo \(user@host\), which HTTP forbids \(RFC 9110 section 4\.2\.4\)\.\n$/);
  });
});
