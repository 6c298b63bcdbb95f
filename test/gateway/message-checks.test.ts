import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { CHUNKED_NOT_FINAL, headBytes, messageVerdict, transferCodingVerdict } from '../../src/gateway/message-checks.js';

const req = (host: string): IncomingMessage => ({ httpVersion: '1.1', headers: { host }, rawHeaders: ['Host', host] }) as unknown as IncomingMessage;

describe('messageVerdict: the Host check remembers the last good value', () => {
  it('a bad Host is refused whatever came before it, and a good one passes again after it', () => {
    const seq = ['gw:8080', 'gw:8080', 'evil@gw', 'gw:8080', 'a b', 'evil@gw', '[::1]:80', 'gw/admin', 'gw:80x', '[::1]:80', '', 'gw:65535', 'gw:65536', '[::1]:99999', 'gw:00080', '[::1]'];
    expect(seq.map((h) => `${h} ${messageVerdict(req(h), 16_384)?.reason ?? 'ok'}`)).toEqual([
      'gw:8080 ok',
      'gw:8080 ok',
      'evil@gw bad_host',
      'gw:8080 ok',
      'a b bad_host',
      'evil@gw bad_host',
      '[::1]:80 ok',
      'gw/admin bad_host',
      'gw:80x bad_host',
      '[::1]:80 ok',
      ' ok',
      'gw:65535 ok',
      'gw:65536 bad_host',
      '[::1]:99999 bad_host',
      'gw:00080 ok',
      '[::1] ok',
    ]);
  });
});

describe('messageVerdict: a Host a URL parser refuses (hostile-13)', () => {
  // RFC 3986 lets a reg-name hold any percent-escape, but a WHATWG URL parser decodes them and
  // throws at a forbidden host code point: `gw%2fadmin` is the `gw/admin` refused above, and an
  // upstream that builds its links from X-Forwarded-Host (new URL(path, `http://${host}`)) fails.
  it('is refused bad_host; escapes the parser decodes to a host, and sub-delims, pass', () => {
    const refused = ['gw%2fadmin', 'a%20b', 'a%0d%0ab', 'gw%40evil', 'a%25', '%00', '%FF', '999.1.1.1', 'xn--a', '[v1.x]'];
    const passed = ['%41pi', 'Gw', "a'b", 'a!$&()*+;=b', 'a_b', 'a.', 'x:', '%C3%A9'];
    expect(refused.map((h) => `${h} ${messageVerdict(req(h), 16_384)?.reason ?? 'ok'}`)).toEqual(refused.map((h) => `${h} bad_host`));
    expect(passed.map((h) => `${h} ${messageVerdict(req(h), 16_384)?.reason ?? 'ok'}`)).toEqual(passed.map((h) => `${h} ok`));
  });
});

describe('transferCodingVerdict: RFC 9112 sorts a Transfer-Encoding (gateway-edges: every refusal was 501)', () => {
  const said = (te: string): string => {
    const v = transferCodingVerdict(te);
    return v === undefined ? 'ok' : `${v.status} ${v.reason}${v === CHUNKED_NOT_FINAL ? ' (not final)' : ''}`;
  };
  it('malformed values, a last coding other than plain chunked and chunked twice are 400; a coding before chunked is 501', () => {
    const cases: Record<string, string> = {
      chunked: 'ok',
      CHUNKED: 'ok',
      ' chunked\t': 'ok',
      ', chunked': 'ok',
      '': '400 bad_transfer_encoding',
      ' , ': '400 bad_transfer_encoding',
      '"chunked"': '400 bad_transfer_encoding',
      'chunked chunked': '400 bad_transfer_encoding',
      'chunked\xa0': '400 bad_transfer_encoding',
      'ch@nked, chunked': '400 bad_transfer_encoding',
      'gzip;q, chunked': '400 bad_transfer_encoding',
      gzip: '400 bad_transfer_encoding (not final)',
      xchunked: '400 bad_transfer_encoding (not final)',
      'chunked, gzip': '400 bad_transfer_encoding (not final)',
      'chunked;x=1': '400 bad_transfer_encoding (not final)',
      'chunked, chunked': '400 bad_transfer_encoding',
      'gzip, chunked': '501 unsupported_transfer_encoding',
      'gzip ; level="9 \\"x\\"" , chunked': '501 unsupported_transfer_encoding',
      'x-custom, gzip, chunked': '501 unsupported_transfer_encoding',
    };
    expect(Object.fromEntries(Object.keys(cases).map((te) => [te, said(te)]))).toEqual(cases);
  });
});

describe('headBytes: the head as forwarded, counted without building it', () => {
  it('is the byte length of the request line, each header line and the closing CRLF', () => {
    const heads: [string, string, string, string[]][] = [
      ['GET', '/', '1.1', ['Host', 'gw']],
      ['OPTIONS', '*', '1.0', []],
      ['DELETE', '/api/items/42?force=1', '1.1', ['Host', 'gw:8080', 'Accept', '*/*', 'X-Empty', '']],
    ];
    for (const [method, url, httpVersion, rawHeaders] of heads) {
      let head = `${method} ${url} HTTP/${httpVersion}\r\n`;
      for (let i = 0; i < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
      head += '\r\n';
      expect(headBytes({ method, url, httpVersion, rawHeaders } as unknown as IncomingMessage)).toBe(head.length);
    }
  });
});
