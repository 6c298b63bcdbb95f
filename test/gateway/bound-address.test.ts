// startGateway reports the address it bound, not a guess: 0.0.0.0 by default (every IPv4
// interface), the configured host otherwise; the admin listener on loopback.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quickConfig, startGateway } from '../../src/gateway/index.js';

let upstream: ReturnType<typeof createServer>;
let origin = '';
beforeAll(async () => {
  upstream = createServer((_req, res) => res.end('hello'));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

describe('the reported address', () => {
  it('by default: the wildcard bind, http://0.0.0.0:<port>; the admin listener on 127.0.0.1', async () => {
    const gw = await startGateway({ ...quickConfig({ upstream: origin, port: 0, adminPort: 0 }), log: { level: 'silent' } });
    try {
      expect(gw.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
      expect(gw.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const port = new URL(gw.url).port;
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello');
    } finally {
      await gw.close();
    }
  });

  it('a configured host is reported as bound', async () => {
    const gw = await startGateway({ ...quickConfig({ upstream: origin, port: 0, host: '127.0.0.1', adminPort: false }), log: { level: 'silent' } });
    try {
      expect(gw.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(gw.adminUrl).toBe('');
      expect(await (await fetch(`${gw.url}/`)).text()).toBe('hello');
    } finally {
      await gw.close();
    }
  });
});
