// Which absolute-form targets name this gateway (own-target.ts), judged without a listener: a
// gateway on port 80 is the case, and a test cannot count on binding it.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { foreignScheme, ownAbsolute } from '../../src/gateway/own-target.js';

/** A request as the handler sees it: only the address and port its connection reached matter here. */
function reached(localAddress: string, localPort: number): IncomingMessage {
  return { socket: { localAddress, localPort } } as unknown as IncomingMessage;
}

describe('absolute-form targets naming this gateway', () => {
  it('on port 80, with the default port left out or written, is its own (hostile-19: refused as foreign_target before)', () => {
    const req = reached('10.0.0.5', 80);
    for (const url of ['http://10.0.0.5/x?q=1', 'http://10.0.0.5:80/x?q=1', 'HTTP://10.0.0.5/x?q=1']) {
      expect(ownAbsolute(url, '10.0.0.5:80', req), url).toEqual({ authority: '10.0.0.5:80', target: '/x?q=1' });
    }
    // A listener on every address, reached at one of them.
    expect(ownAbsolute('http://10.0.0.5', '127.0.0.1:80', req)).toEqual({ authority: '10.0.0.5:80', target: '/' });
    expect(ownAbsolute('http://[2001:db8::1]/x', '127.0.0.1:80', reached('2001:db8::1', 80))).toEqual({ authority: '[2001:db8::1]:80', target: '/x' });
  });

  it('another port, another host, or the default port of a gateway not on 80, is foreign', () => {
    const req = reached('10.0.0.5', 80);
    for (const url of ['http://10.0.0.5:8080/x', 'http://10.0.0.6/x', 'http://evil.example/x']) expect(ownAbsolute(url, '10.0.0.5:80', req), url).toBeUndefined();
    expect(ownAbsolute('http://10.0.0.5/x', '10.0.0.5:8080', reached('10.0.0.5', 8080))).toBeUndefined();
    expect(ownAbsolute('http://10.0.0.5:8080/x', '10.0.0.5:8080', reached('10.0.0.5', 8080))).toEqual({ authority: '10.0.0.5:8080', target: '/x' });
  });

  it("https:// naming a plain listener on 443 by its default port is 421 foreign_scheme; https:// to a gateway on 80 is another origin's", () => {
    expect(foreignScheme('https://10.0.0.5/x', '10.0.0.5:443', reached('10.0.0.5', 443))).toMatchObject({ status: 421, reason: 'foreign_scheme' });
    expect(foreignScheme('https://10.0.0.5/x', '10.0.0.5:80', reached('10.0.0.5', 80))).toBeUndefined();
    expect(foreignScheme('https://10.0.0.5:80/x', '10.0.0.5:80', reached('10.0.0.5', 80))).toMatchObject({ status: 421 });
  });
});
