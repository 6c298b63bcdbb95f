// A listener that cannot open, from startGateway (the library, not only the CLI): the error
// names the setting, the address and the port — node's own `listen EADDRINUSE: address
// already in use 127.0.0.1:9901` named neither the listener nor the option — and keeps
// node's code, so a caller can still tell EADDRINUSE from EACCES.
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/index.js';
import { cleanup, onCleanup, oneRoute, upstream } from './helpers.js';

afterEach(cleanup);

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

async function occupied(host: string): Promise<number> {
  const taken: Server = createServer();
  await new Promise<void>((r) => taken.listen(0, host, () => r()));
  onCleanup(() => new Promise<void>((r) => taken.close(() => r())));
  return (taken.address() as AddressInfo).port;
}

describe('startGateway on a port in use', () => {
  it('the proxy port: listen.port, the address and the port, code EADDRINUSE', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const port = await occupied('127.0.0.1');
    const start = startGateway(oneRoute(up.url, '2s', { listen: { host: '127.0.0.1', port }, admin: { port: 0 } }), { logger: silent });
    await expect(start).rejects.toThrow(new RegExp(`^listen\\.port: 127\\.0\\.0\\.1:${port} is in use \\(by another process, or this one\\), so the proxy listener cannot open it \\(EADDRINUSE\\)`));
    await expect(start).rejects.toMatchObject({ code: 'EADDRINUSE', listener: 'listen', port });
  });

  it("the admin port, equal to the proxy's on another address: admin.port, not listen.port", async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    // The proxy on 127.0.0.1:P is free; the admin listener's 127.0.0.2:P is taken.
    const port = await occupied('127.0.0.2');
    const config = oneRoute(up.url, '2s', { listen: { host: '127.0.0.1', port }, admin: { host: '127.0.0.2', port } });
    const start = startGateway(config, { logger: silent });
    await expect(start).rejects.toThrow(new RegExp(`^admin\\.port: 127\\.0\\.0\\.2:${port} is in use .*so the admin listener cannot open it \\(EADDRINUSE\\); pick another admin\\.port, or 0 for a free one$`));
    await expect(start).rejects.toMatchObject({ code: 'EADDRINUSE', listener: 'admin' });
  });
});
