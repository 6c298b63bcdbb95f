// A server on the store's port that sends bytes without end and no reply a Redis would give
// (something else than Redis on the port; a stream served there): ioredis buffers a reply
// that never ends for as long as the bytes come, and nothing dropped the connection — any byte
// counted as an answer to the ready check (silent-server.ts), so the connection stayed in
// 'connect' for good. The gateway behind `--store` grew to 3.2 GB in 40 s (hostile2).
import type { Socket } from 'node:net';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/redis/index.js';
import { freePort, until } from './servers.js';

describe('a server that floods the connection with no reply', () => {
  let store: RedisStore | undefined;
  const taken: Socket[] = [];
  let closed = 0;
  let server: ReturnType<typeof createServer> | undefined;
  afterAll(async () => {
    await store?.close();
    for (const s of taken) s.destroy();
    server?.close();
  });

  it('has its connection dropped after a bounded number of bytes, and is named', async () => {
    const port = await freePort();
    // '+' opens a simple string; no CRLF ever ends it.
    const chunk = Buffer.alloc(64 * 1024, 0x2b);
    server = createServer((s) => {
      taken.push(s);
      s.on('error', () => undefined);
      s.on('close', () => void (closed += 1));
      const pump = (): void => {
        while (!s.destroyed && s.write(chunk));
        if (!s.destroyed) s.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', () => r()));
    store = await RedisStore.connect({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500, timeoutMs: 200, probeMs: 100 });
    expect(store.health).toBe('fallback');
    expect(await until(() => closed > 0, 10_000)).toBe(true);
    expect(store.lastError).toMatch(/bytes came and no reply/);
  });
});
