// The admin listener and absolute-form targets (RFC 9112 section 3.2.2: a server must accept
// them), as the proxy listener takes them: one naming the admin listener's own address is served
// as its path; one for another host is refused 400 `foreign_target`, one for its address in
// another scheme 421 `foreign_scheme`, each with its reason. Before, every absolute-form target
// was a 404 "not found: try /healthz, …" — for the very path it named.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawConversation } from './raw-client.js';

afterEach(cleanup);

describe('the admin listener: absolute-form targets', () => {
  it('serves one naming its own address as its path, and refuses another host or scheme with the reason', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const authority = new URL(gw.adminUrl).host;
    const ask = async (target: string): Promise<string> => (await rawConversation(gw.adminUrl, `GET ${target} HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`)).text;
    // Before: 404 'not found: try /healthz, /readyz, /status, /metrics, /dashboard'.
    expect(await ask(`http://${authority}/healthz`)).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok\n$/);
    expect(await ask(`HTTP://${authority.toUpperCase()}/status?x=1`)).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\{\n {2}"state": "serving"/);
    expect(await ask(`http://${authority}/nope`)).toMatch(/^HTTP\/1\.1 404 /);
    const foreign = await ask('http://example.com/status');
    expect(foreign).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(foreign).toMatch(/\r\n\r\nforeign_target: Absolute-form request targets for other hosts are refused: the admin listener answers for its own address only \(send the path alone: GET \/status\)\.\n$/);
    const scheme = await ask(`https://${authority}/status`);
    expect(scheme).toMatch(/^HTTP\/1\.1 421 Misdirected Request\r\n/);
    expect(scheme).toMatch(/\r\n\r\nforeign_scheme: The target names this gateway's address with the scheme https:, which this listener does not serve/);
  });
});
