// The gateway logs through a pino logger as it is: pino's (fields, msg) order, pino's own
// level and line format.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { JsonLogger, quickConfig, startGateway } from '../../src/gateway/index.js';

function collector(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const lines = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines };
}

describe('the gateway with a pino logger', () => {
  it('writes its lines through pino: fields merged, msg as the message, pino levels', async () => {
    const upstream = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const out = collector();
    const logger = pino({ level: 'debug', base: { app: 'edge' } }, out.stream);
    const gw = await startGateway(quickConfig({ upstream: origin, port: 0, host: '127.0.0.1', adminPort: false }), { logger });
    try {
      expect((await fetch(`${gw.url}/`)).status).toBe(200);
    } finally {
      await gw.close();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
    const listening = out.lines().find((l) => l['msg'] === 'listening');
    expect(listening).toMatchObject({ level: 30, app: 'edge', url: gw.url, routes: 1 });
    expect(typeof listening?.['time']).toBe('number'); // pino's epoch ms, not the JSON logger's ISO string
  });

  it('a JsonLogger given as the logger is used as it is', async () => {
    const upstream = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const written: string[] = [];
    const gw = await startGateway(quickConfig({ upstream: origin, port: 0, host: '127.0.0.1', adminPort: false }), { logger: new JsonLogger('info', (l) => written.push(l)) });
    await gw.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    const listening = written.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'listening');
    expect(listening).toMatchObject({ level: 'info', url: gw.url });
  });
});
