// An upstream that answers with bytes that are not an HTTP response (a garbage status line,
// a malformed header, broken chunking) is not an upstream that could not be reached: the
// client is answered 502 `upstream_invalid_response`, counted apart from connect failures
// (/status counters.upstreamInvalid, /metrics sluice_upstream_failures_total{reason}) and
// logged with what undici's parser found. Before, all of it was 502 `upstream_unreachable`.
// In process, on loopback, against an upstream that writes raw bytes.
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/index.js';
import { cleanup, deadPort, metricSample, oneRoute, onCleanup } from './helpers.js';
import { rawConversation } from './raw-client.js';
import { rawUpstream } from './raw-upstream.js';

afterEach(cleanup);

const H = 'Host: gw\r\n';
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

const INVALID: Record<string, string> = {
  '/status-line': 'HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok',
  '/not-http': 'SSH-2.0-OpenSSH_9.6\r\n\r\n',
  '/header': 'HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 2\r\n\r\nok',
  '/chunk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
  '/lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok',
  '/status-099': 'HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nok',
  // Above 599 (RFC 9110 section 15: invalid; a client SHOULD read it as a 5xx): relayed as it was until hostile-13.
  '/status-600': 'HTTP/1.1 600 High\r\nContent-Length: 2\r\n\r\nok',
  '/status-999': 'HTTP/1.1 999 Higher\r\nContent-Length: 2\r\n\r\nok',
  // A control character in the reason phrase: undici reads it, node:http will not write it (hostile-10: the client got a silent close).
  '/reason-ctl': 'HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\n\r\nok',
  // A transfer coding besides chunked (hostile-11): the gzip bytes went out as a 200's content, their coding unsaid.
  '/gzip-chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  '/gzip-alone': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok',
  // chunked and a no-break space (0xA0), no OWS (session 18): undici does not take the chunking off, and
  // the gateway, trimming it to `chunked` (String.prototype.trim strips 0xA0), relayed `2\r\nok\r\n0...` as the content.
  '/chunked-nbsp': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\xa0\r\n\r\n2\r\nok\r\n0\r\n\r\n',
};

async function gatewayLogging(up: string): Promise<{ url: string; logs: { msg: string; fields: Record<string, unknown> }[]; gw: Awaited<ReturnType<typeof startGateway>> }> {
  const logs: { msg: string; fields: Record<string, unknown> }[] = [];
  const keep = (fields: Record<string, unknown>, msg: string): void => void logs.push({ msg, fields });
  const gw = await startGateway({ ...oneRoute(up, '5s'), log: { level: 'debug' } }, { logger: { debug: keep, info: keep, warn: keep, error: keep } });
  onCleanup(() => gw.close());
  return { url: gw.url, logs, gw };
}

describe('an upstream answering with an invalid HTTP response', () => {
  it('is 502 upstream_invalid_response, counted and logged apart from a connect failure', async () => {
    const up = await rawUpstream(INVALID);
    const { url, logs, gw } = await gatewayLogging(up.url);
    for (const path of Object.keys(INVALID)) {
      const { text, open } = await rawConversation(url, `GET ${path} HTTP/1.1\r\n${H}\r\n`);
      expect(open, path).toBe(false);
      expect(statuses(text), path).toEqual([502]);
      expect(text, path).toMatch(/"reason":"upstream_invalid_response"/);
      expect(text, path).toMatch(/\r\nconnection: close\r\n/i);
    }
    expect(up.seen).toEqual(Object.keys(INVALID));
    const n = Object.keys(INVALID).length;
    expect(gw.status().counters).toMatchObject({ upstreamInvalid: n, upstreamErrors: 0, upstreamTimeouts: 0 });
    const failures = logs.filter((l) => l.msg === 'upstream failure');
    expect(failures).toHaveLength(n);
    for (const l of failures) {
      expect(l.fields).toMatchObject({ reason: 'upstream_invalid_response' });
      expect(String(l.fields['error'])).toMatch(/does not match the HTTP\/1\.1 protocol|CONTENT_LENGTH_MISMATCH|a status of (?:99|600|999)|a control character in the reason phrase|a transfer coding other than chunked/);
    }
    const text = (await gw.metrics()) ?? '';
    expect(metricSample(text, 'sluice_upstream_failures_total', { reason: 'upstream_invalid_response' })).toBe(n);
    expect(metricSample(text, 'sluice_upstream_failures_total', { reason: 'upstream_unreachable' })).toBe(0);
  });

  it('a transfer coding stated where no body comes (a HEAD, a 304: what the GET would have) is relayed', async () => {
    const up = await rawUpstream({ '/head': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', '/304': 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip, chunked\r\n\r\n' });
    const { url, gw } = await gatewayLogging(up.url);
    expect(statuses((await rawConversation(url, `HEAD /head HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)).text)).toEqual([200]);
    expect(statuses((await rawConversation(url, `GET /304 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)).text)).toEqual([304]);
    expect(gw.status().counters).toMatchObject({ upstreamInvalid: 0 });
  });

  it('a connect failure is still 502 upstream_unreachable', async () => {
    const { url, logs, gw } = await gatewayLogging(`http://127.0.0.1:${await deadPort()}`);
    const { text } = await rawConversation(url, `GET / HTTP/1.1\r\n${H}\r\n`);
    expect(statuses(text)).toEqual([502]);
    expect(text).toMatch(/"reason":"upstream_unreachable"/);
    expect(gw.status().counters).toMatchObject({ upstreamInvalid: 0, upstreamErrors: 1 });
    expect(logs.find((l) => l.msg === 'upstream failure')?.fields).toMatchObject({ reason: 'upstream_unreachable' });
    expect(metricSample((await gw.metrics()) ?? '', 'sluice_upstream_failures_total', { reason: 'upstream_unreachable' })).toBe(1);
  });

  it('a response whose head passed but whose chunking breaks after some of its body went out is cut, and counted invalid', async () => {
    const up = await rawUpstream({ '/late': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n' });
    const { url, gw } = await gatewayLogging(up.url);
    const { text, open } = await rawConversation(url, `GET /late HTTP/1.1\r\n${H}\r\n`);
    expect(open).toBe(false);
    expect(statuses(text)).toEqual([200]);
    expect(text).not.toMatch(/\r\n0\r\n\r\n$/);
    expect(gw.status().counters).toMatchObject({ upstreamInvalid: 1 });
  });
});
