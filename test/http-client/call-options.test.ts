// The per-call settings (fetch's third argument) are checked like every option: before, a
// misspelt key (`deadline` for `deadlineMs`) was ignored, so the call ran with no deadline,
// and `idempotent: 'yes'` was taken as true (a non-idempotent POST retried on a string).
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/http-client/index.js';
import { startServer } from './helpers.js';
import type { TestServer } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('HttpClient.fetch per-call settings', () => {
  it('an unknown key is refused naming it and the key it is near, and the request never goes out', async () => {
    server = await startServer((_req, res) => res.end('ok'));
    const client = createClient();
    const err = await client.fetch(server.url, {}, { deadline: 50 } as never).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SLUICE_ERR_INVALID_OPTION', option: 'deadline', received: 50 });
    expect(String(err)).toContain('"deadlineMs"');
    expect(server.hits).toHaveLength(0);
    client.close();
  });

  it('idempotent that is not a boolean is refused with what it received', async () => {
    server = await startServer((_req, res) => res.end('ok'));
    const client = createClient();
    const err = await client.fetch(server.url, { method: 'POST', body: 'x' }, { idempotent: 'yes' } as never).catch((e: unknown) => e);
    expect(err).toMatchObject({ option: 'idempotent', expected: 'a boolean', received: 'yes' });
    expect(server.hits).toHaveLength(0);
    client.close();
  });

  it('a call given an array for its settings is refused; the settings it knows still work', async () => {
    server = await startServer((_req, res) => res.end('ok'));
    const client = createClient();
    await expect(client.fetch(server.url, {}, [] as never)).rejects.toMatchObject({ code: 'SLUICE_ERR_INVALID_ARGUMENT' });
    const r = await client.fetch(server.url, {}, { idempotent: false, deadlineMs: 10_000, priority: 1 });
    expect(await r.text()).toBe('ok');
    expect(server.hits).toHaveLength(1);
    client.close();
  });
});
