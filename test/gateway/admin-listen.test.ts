// The admin listener's start: a failed listen ends what the listener owns; a successful one
// leaves no start-time error handler behind.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listenAdmin } from '../../src/gateway/admin-server.js';

describe('listenAdmin', () => {
  it('once listening, a later server error is not taken for a failed start (onClose is not called)', async () => {
    const server = createServer();
    let closed = 0;
    const admin = await listenAdmin(server, '127.0.0.1', 0, () => closed++);
    try {
      expect(server.listenerCount('error')).toBe(0);
      server.on('error', () => undefined);
      server.emit('error', new Error('later'));
      expect(closed).toBe(0);
    } finally {
      await admin.close();
    }
    expect(closed).toBe(1);
  });

  it('a port in use rejects and ends what the listener owns, once', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as AddressInfo).port;
    let closed = 0;
    try {
      await expect(listenAdmin(createServer(), '127.0.0.1', port, () => closed++)).rejects.toThrow(/EADDRINUSE/);
      expect(closed).toBe(1);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
