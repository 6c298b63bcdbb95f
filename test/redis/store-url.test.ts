// The store's URL as users write it on a bad day: what parses, what is refused (naming the
// option, what was expected, the URL without its password), and what the store's client does
// with the good ones — against redis-servers of the test's own.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/core/errors.js';
import { RedisStore } from '../../src/redis/index.js';
import { parseRedisUrl } from '../../src/redis/options.js';
import { ratePolicy } from '../../src/rate/index.js';
import { cleanup, gatewayCommandRun, tempDir, upstream } from '../gateway/helpers.js';
import { freePort, haveRedisServer, killAndWait, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
afterEach(cleanup);

const policy = ratePolicy({ algorithm: 'token-bucket', rate: 10, perMs: 1000, burst: 10, name: 'p' });

/** Each refused URL, and a part of what the refusal says was expected. */
const refused: readonly [string, RegExp][] = [
  ['http://127.0.0.1:6379', /redis:\/\/host:port\[\/db\] or rediss:\/\/\.\.\.(, found|$)/],
  ['/tmp/redis.sock', /a unix socket is not supported/],
  ['redis:///tmp/redis.sock', /a unix socket is not supported/],
  ['unix:///tmp/redis.sock', /a unix socket is not supported/],
  ['redis://127.0.0.1:0', /a port 1\.\.65535/],
  ['redis://127.0.0.1:70000', /a port 1\.\.65535/],
  ['redis://127.0.0.1:6379/-1', /a db number 0\.\.2147483646/],
  ['redis://127.0.0.1:6379/99999999999999999999', /a db number 0\.\.2147483646/],
  ['redis://127.0.0.1:6379?db=3', /without query parameters/],
  ['redis://127.0.0.1:6379/?enableOfflineQueue=true&autoResendUnfulfilledCommands=1', /without query parameters/],
  ['redis://127.0.0.1:6379#x', /without a fragment/],
  ['redis://:pa%ss@127.0.0.1:6379', /percent-encoded \(a '%' in them is written %25\)/],
];

describe('store URLs', () => {
  it.each(refused)('%s is refused, saying what was expected', (url, expected) => {
    const a = parseRedisUrl(url);
    expect('expected' in a && a.expected).toMatch(expected);
  });

  it('a db with cluster: true is refused (a cluster has db 0 only); without one it parses', () => {
    expect(parseRedisUrl('redis://127.0.0.1:7000/2', true)).toEqual({ expected: expect.stringMatching(/without a db with cluster: true/) });
    expect(parseRedisUrl('redis://127.0.0.1:7000', true)).toMatchObject({ host: '127.0.0.1', port: 7000, db: 0 });
  });

  it('the good ones parse: IPv6 without brackets, a password with @ and %25 decoded, REDISS:// is TLS', () => {
    expect(parseRedisUrl('redis://[::1]:6380')).toEqual({ host: '::1', port: 6380, db: 0, tls: false });
    expect(parseRedisUrl('redis://u:p@ss%25w@h/15')).toEqual({ host: 'h', port: 6379, username: 'u', password: 'p@ss%w', db: 15, tls: false });
    expect(parseRedisUrl('REDISS://h:6390')).toMatchObject({ tls: true });
    expect(parseRedisUrl('rediss://h:6390')).toMatchObject({ tls: true });
  });

  it('RedisStore refuses a bad one with InvalidOptionError naming url, never showing the password', () => {
    for (const url of ['redis://:pa%ss@127.0.0.1:6379', 'redis://:s3cret@127.0.0.1:6379?enableOfflineQueue=true', 'redis://:s3cr@t@127.0.0.1:70000', 'redis://u:2024/s3cret@127.0.0.1:6379/0', 'redis://u:99#s3cret@127.0.0.1']) {
      let err: unknown;
      try {
        new RedisStore({ url });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).option).toBe('url');
      // Before: "... found \"redis://u:2024/s3cret@127.0.0.1:6379/0\"" (redis22): parsed as host u, port 2024.
      expect((err as Error).message).not.toMatch(/pa%ss|s3cr|2024|99/);
    }
    expect(() => new RedisStore({ url: 'redis://127.0.0.1:6379/3', cluster: true })).toThrow(/url: expected .* without a db with cluster: true/);
  });

  it('--check exits 2 for each bad one, naming store.url (the password not echoed), and passes each good one', async () => {
    const dir = tempDir();
    const check = async (url: string, cluster = false): Promise<{ code: number; stderr: string }> => {
      const file = join(dir, 'sluice.yaml');
      writeFileSync(file, `store:\n  url: ${JSON.stringify(url)}\n  cluster: ${cluster}\nupstreams:\n  app: { url: "http://127.0.0.1:9" }\nroutes:\n  - path: /\n`);
      return gatewayCommandRun(['--config', file, '--check']);
    };
    for (const [url, expected] of [...refused, ['redis://:s3cr@t@127.0.0.1:6379?x=1', /without query/] as const]) {
      const s = await check(url);
      expect(s.code, url).toBe(2);
      expect(s.stderr).toMatch(/store\.url: expected /);
      expect(s.stderr).toMatch(expected);
      expect(s.stderr).not.toMatch(/s3cr/);
    }
    expect((await check('redis://127.0.0.1:6379/1', true)).code).toBe(2);
    for (const url of ['redis://127.0.0.1:6379', 'rediss://h:6390', 'redis://[::1]:6379/15', 'redis://u:p@ss%25w@h:6379', 'REDIS://h']) {
      const s = await check(url);
      expect({ url, code: s.code, stderr: s.stderr }).toEqual({ url, code: 0, stderr: '' });
    }
    const braces = join(dir, 'braces.yaml');
    writeFileSync(braces, `store:\n  url: redis://127.0.0.1:6379\n  keyPrefix: "app{x}:"\nupstreams:\n  app: { url: "http://127.0.0.1:9" }\nroutes:\n  - path: /\n`);
    const prefix = await gatewayCommandRun(['--config', braces, '--check']);
    expect(prefix.code).toBe(2);
    expect(prefix.stderr).toContain('store.keyPrefix: expected a string without "{" or "}" (they would move the hash tag that keeps a decision\'s keys on one cluster slot), found "app{x}:"');
    expect(() => new RedisStore({ keyPrefix: 'app{x}:' })).toThrow('keyPrefix: expected a string without "{" or "}" (they would move the hash tag that keeps a decision\'s keys on one cluster slot), received "app{x}:"');
    const flag = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:9', '--store', 'redis://:s3cret@127.0.0.1:6379?db=2']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--store \(store\.url\): expected a Redis URL .* without query parameters/);
    expect(flag.stderr).not.toMatch(/s3cret/);
  });
});

describe.skipIf(!can)('store URLs against a redis-server', () => {
  it('a db the server does not have: the failure mode, naming the refused SELECT — not db 0 in silence', async () => {
    const own = await OwnRedis.start(['--databases', '2']);
    const raw = new Redis(own.url);
    // Timeouts long enough for a busy host: the refused SELECT must be what puts the store in its failure mode.
    const redis = await RedisStore.connect({ url: `${own.url}/5`, connectTimeoutMs: 2000, timeoutMs: 10_000 });
    try {
      const rs = redis.rateStore('db', { onStoreError: 'closed' });
      const d = await rs.consume('k', policy, 1, performance.now(), 0);
      expect(d.unavailable).toBe(true);
      expect(redis.health).toBe('fallback');
      expect(redis.lastError).toMatch(/DB index is out of range \(SELECT 5: the db of the store's URL\)/);
      // Nothing was written where the store was not told to write.
      expect(await raw.dbsize()).toBe(0);
    } finally {
      raw.disconnect();
      await redis.close();
      await own.dispose();
    }
  });

  it('a db it has: the keys are there', async () => {
    const own = await OwnRedis.start(['--databases', '2']);
    const raw = new Redis(`${own.url}/1`);
    // A long store timeout: a call late on a busy host is decided by the failure mode, and writes nothing the test can see.
    const redis = await RedisStore.connect({ url: `${own.url}/1`, connectTimeoutMs: 10_000, timeoutMs: 10_000 });
    try {
      expect((await redis.rateStore('db').consume('k', policy, 1, performance.now(), 0)).allowed).toBe(true);
      expect(await raw.keys('*')).toEqual(['sluice:db{k}:t']);
    } finally {
      raw.disconnect();
      await redis.close();
      await own.dispose();
    }
  });

  it('REDISS:// in capitals is TLS too: never plain text to a server without it', async () => {
    const own = await OwnRedis.start();
    const redis = await RedisStore.connect({ url: `REDISS://127.0.0.1:${own.port}`, connectTimeoutMs: 300 });
    try {
      expect(redis.health).toBe('fallback');
      expect(redis.lastError).toMatch(/TCP connected, no TLS handshake: rediss:\/\/ needs a server with TLS on/);
    } finally {
      await redis.close();
      await own.dispose();
    }
  });

  it('a password with @ and % (written %25), an IPv6 address: connected and shared', async () => {
    const own = await OwnRedis.start(['--bind', '127.0.0.1 ::1']);
    const admin = new Redis(own.url);
    await admin.config('SET', 'requirepass', 'p@ss%w0rd');
    admin.disconnect();
    for (const host of ['127.0.0.1', '[::1]']) {
      const redis = await RedisStore.connect({ url: `redis://:p@ss%25w0rd@${host}:${own.port}`, connectTimeoutMs: 10_000, timeoutMs: 10_000 });
      try {
        expect({ host, health: redis.health, error: redis.lastError }).toEqual({ host, health: 'shared', error: undefined });
        expect((await redis.rateStore('pw').consume('k', policy, 1, performance.now(), 0)).allowed).toBe(true);
      } finally {
        await redis.close();
      }
    }
    await own.dispose();
  });

  it('a URL whose port is not Redis (an HTTP server there): the store says so, not only "Unknown RESP type"', async () => {
    const http = await upstream((_req, res) => res.end('hi'));
    const redis = await RedisStore.connect({ url: `redis://127.0.0.1:${http.port}`, connectTimeoutMs: 2000 });
    try {
      expect(redis.health).toBe('fallback');
      expect(redis.lastError).toMatch(/Unknown RESP type .*\(not a Redis reply: is the port in the store's URL Redis's\?\)/);
    } finally {
      await redis.close();
    }
  });
});

describe.skipIf(!can || spawnSync('openssl', ['version']).status !== 0)('store URLs against a redis-server serving TLS alone (a self-signed certificate)', () => {
  it('rediss:// without its CA: the store names the certificate and how to trust it; redis:// to it: the reset, and rediss:// as the likely fix', async () => {
    const dir = tempDir();
    const [key, cert] = [join(dir, 'k.pem'), join(dir, 'c.pem')];
    expect(spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' }).status).toBe(0);
    const port = await freePort();
    const child = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--tls-cert-file', cert, '--tls-key-file', key, '--tls-auth-clients', 'no'], { stdio: 'ignore' });
    try {
      expect(await until(() => new Promise<boolean>((r) => void connectTcp(port, '127.0.0.1').once('connect', function (this: Socket) { this.destroy(); r(true); }).once('error', () => r(false))), 5000)).toBe(true);
      const tls = await RedisStore.connect({ url: `rediss://u:s3cret@127.0.0.1:${port}`, connectTimeoutMs: 1000 });
      const plain = await RedisStore.connect({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 1000 });
      try {
        expect(tls.health).toBe('fallback');
        expect(tls.lastError).toMatch(/self-signed certificate.*NODE_EXTRA_CA_CERTS/);
        expect(plain.health).toBe('fallback');
        expect(plain.lastError).toMatch(/ECONNRESET.*TLS-only Redis does: rediss:\/\/\?/);
      } finally {
        await tls.close();
        await plain.close();
      }
    } finally {
      await killAndWait(child);
    }
  }, 30_000);
});
