// Tenant keys in Redis key names: an API key must not be readable by whoever can list Redis's
// keys. sluice/redis names keys as they are by default (the layout of earlier versions) and by
// their SHA-256 with `keyNames: 'hash'`; the gateway names them hashed unless `store.tenantKeys: raw`.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, oneRoute, startInProcess, upstream } from '../gateway/helpers.js';
import { keysUnder, sharedRedis, unique, useProcesses } from './servers.js';

const svc = await sharedRedis();
const { proc, prefix } = useProcesses(svc.url, 'kn');
afterEach(cleanup);

const SECRET = 'sk_live_9d3e21c07fab';
/** The hashed name of a key, computed here apart from sluice: namespace, '#', the whole SHA-256 in base64url. */
const hashedName = (key: string, ns: string): string => `${ns}#${createHash('sha256').update(key).digest('base64url')}`;
const policy = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 1, name: 'p' });

let raw: Redis;
beforeAll(() => {
  raw = new Redis(svc.url);
});
afterAll(() => raw?.disconnect());

describe.skipIf(!svc.up)('tenant keys in Redis key names', () => {
  it("sluice/redis: keyNames 'hash' names each key by its SHA-256 (an address as it is), one bucket per key; the default names it as it is", async () => {
    const store = await proc();
    const name = unique('hashed');
    const hashed = store.rateStore(name, { keyNames: 'hash' });
    expect((await hashed.consume(`key:${SECRET}`, policy, 1, 0, 0)).allowed).toBe(true);
    expect((await hashed.consume(`key:${SECRET}`, policy, 1, 0, 0)).allowed).toBe(false); // the same bucket
    expect((await hashed.consume('ip:10.0.0.7', policy, 1, 0, 0)).allowed).toBe(true);
    expect((await keysUnder(raw, `${prefix()}${name}*`)).sort()).toEqual([`${prefix()}${name}{ip:10.0.0.7}:g`, `${prefix()}${name}{${hashedName(`key:${SECRET}`, 'key:')}}:g`]);
    expect(await hashed.delete(`key:${SECRET}`)).toBe(true);
    expect((await hashed.consume(`key:${SECRET}`, policy, 1, 0, 0)).allowed).toBe(true); // forgotten: a full bucket

    const plain = store.rateStore(unique('plain'));
    await plain.consume(`key:${SECRET}`, policy, 1, 0, 0);
    expect(await keysUnder(raw, `${plain.base}*`)).toEqual([`${plain.base}{key:${SECRET}}:g`]);
    expect(() => store.rateStore('x', { keyNames: 'clear' as never })).toThrow(/keyNames/);
  });

  const gatewayWith = async (tenantKeys: 'hash' | 'raw' | undefined): Promise<{ url: string; keyPrefix: string }> => {
    const up = await upstream((_req, res) => res.end('ok'));
    const keyPrefix = `${unique('gwkn')}:`;
    const config: GatewayConfig = oneRoute(up.url, '5s', {
      store: { url: svc.url, keyPrefix, timeout: '1s', ...(tenantKeys === undefined ? {} : { tenantKeys }) },
      policies: { p: { tenant: { header: 'x-api-key' }, rateLimits: [{ rate: '1/min', burst: 1 }] } },
      routes: [{ path: '/', upstream: 'app', policy: 'p' }],
    });
    const gw = await startInProcess(config);
    return { url: gw.url, keyPrefix };
  };

  it('the gateway names API keys in Redis by their hash by default: SCAN never shows one', async () => {
    const { url, keyPrefix } = await gatewayWith(undefined);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(url, { headers: { 'x-api-key': SECRET } })).status);
    expect(statuses).toEqual([200, 429, 429]);
    const keys = await keysUnder(raw, `${keyPrefix}*`);
    const rate = keys.filter((k) => k.endsWith(':g'));
    expect(rate).toHaveLength(1);
    expect(rate[0]).toContain(`{${hashedName(`key:${SECRET}`, 'key:')}}:g`);
    expect(keys.some((k) => k.includes(SECRET))).toBe(false);
  });

  it('store.tenantKeys: raw names them as they are (versions before it)', async () => {
    const { url, keyPrefix } = await gatewayWith('raw');
    expect((await get(url, { headers: { 'x-api-key': SECRET } })).status).toBe(200);
    const rate = (await keysUnder(raw, `${keyPrefix}*`)).filter((k) => k.endsWith(':g'));
    expect(rate).toHaveLength(1);
    expect(rate[0]).toContain(`{key:${SECRET}}:g`);
  });
});
