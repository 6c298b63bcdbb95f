// `sluice gateway --store redis://…` and `store:` in YAML: gateways share their limits in Redis;
// a bad URL is a config error naming it; an unreachable store at start is the failure mode,
// said in the log and /readyz.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, deadPort, gateway, gatewayCommandRun, get, oneRoute, sluice, startInProcess, tempDir, upstream } from '../gateway/helpers.js';
import { haveRedisServer, OwnRedis, sharedRedis, unique, until } from './servers.js';

const svc = await sharedRedis();
const can = haveRedisServer();
afterEach(cleanup);

// The command runs in this process (its code from the flags to the exit code; the process
// wiring is test/gateway/config-errors.test.ts's).
describe('store: bad input', () => {
  it('a store URL that cannot be parsed: --check exits 2 naming store.url', async () => {
    const dir = tempDir();
    const file = join(dir, 'sluice.yaml');
    writeFileSync(file, 'store:\n  url: http://not-redis:6379\nupstreams:\n  app: { url: "http://127.0.0.1:9" }\nroutes:\n  - path: /\n');
    const s = await gatewayCommandRun(['--config', file, '--check']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/store\.url/);
    expect(s.stderr).toMatch(/redis:\/\/host:port/);
  });

  it('a keyPrefix with a brace is refused by the schema, naming it', async () => {
    const dir = tempDir();
    const file = join(dir, 'sluice.yaml');
    writeFileSync(file, 'store:\n  url: redis://127.0.0.1:6379\n  keyPrefix: "a{b"\nupstreams:\n  app: { url: "http://127.0.0.1:9" }\nroutes:\n  - path: /\n');
    const s = await gatewayCommandRun(['--config', file, '--check']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/store\.keyPrefix/);
  });

  it('--store with a bad URL exits 2 naming --store (the password is not echoed)', async () => {
    const s = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:9', '--store', 'redis://u:secret@:99999']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--store \(store\.url\): expected a Redis URL/);
    expect(s.stderr).not.toMatch(/secret/);
  });
});

describe.skipIf(!svc.up)('store: two gateways share one limit', () => {
  it('rate 100/s burst 10 through one store: both gateways together admit within burst + rate·t', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const store = { url: svc.url, keyPrefix: `${unique('gw')}:`, timeout: '1s' as const };
    const policy = { rateLimits: [{ rate: '100/s', burst: 10 }] };
    const config = oneRoute(up.url, '5s', { store, policies: { p: policy }, routes: [{ path: '/', policy: 'p' }] });
    const [a, b] = [await startInProcess(config), await startInProcess(config)];
    const t0 = performance.now();
    let ok = 0;
    let refused = 0;
    const run = async (url: string): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        const r = await get(url);
        if (r.status === 200) ok++;
        else if (r.status === 429) refused++;
      }
    };
    await Promise.all([run(a.url), run(b.url), run(a.url), run(b.url)]);
    const t = performance.now() - t0;
    expect(ok + refused).toBe(160);
    expect(ok).toBeGreaterThanOrEqual(10);
    // The round trips of the first and last request bracket Redis's own interval: t is an upper bound.
    expect(ok).toBeLessThanOrEqual(10 + (100 * t) / 1000 + 1);
    expect(a.status().store).toMatchObject({ health: 'shared', onStoreError: 'local' });
  });
});

describe.skipIf(!svc.up)('store.stateEncoding', () => {
  // A fleet upgraded gateway by gateway: the new ones write the text states older ones read
  // until none is left (docs/redis.md); the default writes binary (byte 1 — GCRA's 2 —, then the doubles).
  for (const [encoding, first] of [['text', /^[0-9.e+-]/], [undefined, /^[\x01\x02]/]] as const) {
    it(`${encoding ?? 'default (binary)'}: the rate state in Redis is ${encoding ?? 'binary'}`, async () => {
      const up = await upstream((_req, res) => res.end('ok'));
      const keyPrefix = `${unique('enc')}:`;
      const store = { url: svc.url, keyPrefix, timeout: '1s' as const, ...(encoding === undefined ? {} : { stateEncoding: encoding }) };
      const config = oneRoute(up.url, '5s', { store, policies: { p: { rateLimits: [{ rate: '10/s', burst: 5 }] } }, routes: [{ path: '/', policy: 'p' }] });
      const gw = await startInProcess(config);
      expect((await get(gw.url)).status).toBe(200);
      const raw = new Redis(svc.url);
      try {
        const keys = await raw.keys(`${keyPrefix}*`);
        expect(keys.length).toBeGreaterThan(0);
        const states = await Promise.all(keys.map((k) => raw.getBuffer(k).catch(() => null)));
        const found = states.filter((v): v is Buffer => v !== null).map((v) => v.toString('latin1'));
        expect(found.length).toBeGreaterThan(0);
        for (const v of found) expect(v).toMatch(first);
      } finally {
        raw.disconnect();
      }
    });
  }

  it('an encoding other than binary or text is a config error naming store.stateEncoding', async () => {
    const dir = tempDir();
    const file = join(dir, 'sluice.yaml');
    writeFileSync(file, 'store:\n  url: redis://127.0.0.1:6379\n  stateEncoding: json\nupstreams:\n  app: { url: "http://127.0.0.1:9" }\nroutes:\n  - path: /\n');
    const s = await gatewayCommandRun(['--config', file, '--check']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/store\.stateEncoding/);
  });
});

describe.skipIf(!can)('store: unreachable at start', () => {
  it('the gateway starts in its failure mode, says so in the log and /readyz, and shares once Redis answers', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const port = await deadPort();
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--rate', '5/min', '--burst', '5', '--store', `redis://127.0.0.1:${port}`]);
    const warn = await gw.waitFor('store unreachable at start: limits decide by onStoreError until it answers');
    expect(warn).toMatchObject({ onStoreError: 'local', store: `redis://127.0.0.1:${port}` });
    const ready = await get(`${gw.adminUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatch(/^ready; store redis:\/\/127\.0\.0\.1:\d+ unavailable .*onStoreError local/);
    // The local share decides meanwhile: 5/min, burst 5.
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await get(gw.url)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    const own = await OwnRedis.startOn(port);
    try {
      expect(await until(async () => (await get(`${gw.adminUrl}/readyz`)).body === 'ready\n', 5000)).toBe(true);
      await gw.waitFor('store back: limits shared');
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
      await own.dispose();
    }
  });
});

describe.skipIf(!can)('store: local share with workers', () => {
  it('with Redis away, each of 2 workers meters its share of the gateway\'s share (burst 4 → 2 each), not the whole gateway\'s', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const port = await deadPort();
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--rate', '5/min', '--burst', '4', '--workers', '2', '--store', `redis://127.0.0.1:${port}`]);
    await gw.waitFor('store unreachable at start: limits decide by onStoreError until it answers');
    let ok = 0;
    for (let i = 0; i < 20; i++) if ((await get(gw.url)).status === 200) ok++;
    type Status = { workers: { status?: { counters: { admitted: number; requests: number } } }[] };
    let status: Status = { workers: [] };
    // /status is refreshed from the workers once a second: wait until it has every request.
    expect(await until(async () => {
      status = JSON.parse((await get(`${gw.adminUrl}/status`)).body) as Status;
      return status.workers.reduce((n, w) => n + (w.status?.counters.requests ?? 0), 0) >= 20;
    }, 5000)).toBe(true);
    const admitted = status.workers.map((w) => w.status?.counters.admitted ?? 0);
    expect(admitted.reduce((a, b) => a + b, 0)).toBe(ok);
    for (const a of admitted) expect(a).toBeLessThanOrEqual(2);
    expect(ok).toBeGreaterThanOrEqual(2);
  });
});

describe.skipIf(!can)('store: onStoreError closed while Redis is down', () => {
  it('refuses 503 store_unavailable with Retry-After, never 429 rate_limited, counted apart in /status and /metrics', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const own = await OwnRedis.start();
    try {
      const gw = await startInProcess({
        ...oneRoute(up.url, '5s'),
        store: { url: own.url, onStoreError: 'closed', timeout: '250ms' },
        policies: { p: { rateLimits: [{ rate: '1000/s', burst: 1000 }] } },
        routes: [{ path: '/', upstream: 'app', policy: 'p' }],
      });
      expect((await get(gw.url)).status).toBe(200); // Redis answers: admitted well within the limit
      await own.stop(); // SIGKILL by PID
      // The first calls after the kill fail (or time out) one by one; every refusal from then on is the store's.
      const seen: number[] = [];
      let refusal: Awaited<ReturnType<typeof get>> | undefined;
      expect(
        await until(async () => {
          const r = await get(gw.url);
          seen.push(r.status);
          if (r.status !== 200) refusal = r;
          return r.status !== 200;
        }, 10_000),
      ).toBe(true);
      for (let i = 0; i < 3; i++) seen.push((await get(gw.url)).status);
      expect(seen).not.toContain(429);
      expect(refusal!.status).toBe(503);
      expect(Number(refusal!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(refusal!.body)).toMatchObject({ status: 503, reason: 'store_unavailable' });
      const refused = seen.filter((s) => s === 503).length;
      expect(refused).toBeGreaterThanOrEqual(4);
      expect(seen.filter((s) => s !== 200 && s !== 503)).toEqual([]);
      const st = JSON.parse((await get(`${gw.adminUrl}/status`)).body) as { counters: { storeUnavailable: number; rejected: number }; policies: { gates: { rejected: Record<string, number> }[] }[] };
      expect(st.counters.storeUnavailable).toBe(refused);
      expect(st.counters.rejected).toBe(refused);
      expect(st.policies[0]!.gates[0]!.rejected).toMatchObject({ store_unavailable: refused, rate_limited: 0 });
      const metrics = (await get(`${gw.adminUrl}/metrics`)).body;
      expect(metrics).toMatch(new RegExp(`^sluice_store_unavailable_total ${refused}$`, 'm'));
      // The gates' series count from the start too, under the refusal's own reason.
      expect(metrics).toMatch(new RegExp(`^sluice_rejections_total\\{[^}]*reason="store_unavailable"[^}]*\\} ${refused}$`, 'm'));
      expect((await get(gw.url)).status).toBe(503);
      const after = (await get(`${gw.adminUrl}/metrics`)).body;
      expect(after).toMatch(new RegExp(`^sluice_store_unavailable_total ${refused + 1}$`, 'm'));
      expect(after).toMatch(new RegExp(`^sluice_rejections_total\\{[^}]*reason="store_unavailable"[^}]*\\} ${refused + 1}$`, 'm'));
      expect(after).not.toMatch(/^sluice_rejections_total\{[^}]*reason="rate_limited"/m);
    } finally {
      await own.dispose();
    }
  });
});

describe.skipIf(!can)('store: with workers, the primary’s /readyz', () => {
  it('says the workers’ store is away (503 when its mode is closed) and ready once Redis answers', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const port = await deadPort();
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(
      file,
      `listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
server: { workers: 2 }
store: { url: "redis://127.0.0.1:${port}", onStoreError: closed, timeout: 1s }
upstreams: { app: { url: "${up.url}" } }
policies: { p: { rateLimits: [ { rate: 5/min, burst: 5 } ] } }
routes: [ { path: /, upstream: app, policy: p } ]
`,
    );
    // Two workers, each waiting connectTimeout (2 s) for its store before it listens: more than gateway()'s 15 s on a busy machine.
    const s = sluice(['gateway', '--config', file]);
    const l = await s.waitFor('listening', WORKERS_START_MS);
    const gw = Object.assign(s, { url: String(l['url']), adminUrl: String(l['adminUrl']) });
    const own = { redis: undefined as OwnRedis | undefined };
    try {
      // Both workers started without their store: the primary says so, and refuses readiness.
      const away = await get(`${gw.adminUrl}/readyz`);
      expect(away.status).toBe(503);
      expect(away.body).toMatch(/^store redis:\/\/127\.0\.0\.1:\d+ unavailable in 2 of 2 workers \(.+\): limits decide by onStoreError closed\n$/);
      expect((await get(gw.url)).status).toBe(503); // closed: refused while the store is away — the store's fault, not the client's
      own.redis = await OwnRedis.startOn(port);
      expect(await until(async () => (await get(`${gw.adminUrl}/readyz`)).body === 'ready\n', 10_000)).toBe(true);
      expect((await get(gw.url)).status).toBe(200);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
      await own.redis?.dispose();
    }
  });
});

describe('--store-on-error (the flag form of store.onStoreError)', () => {
  it('refuses a mode it does not know, and the flag without --store, naming the flag', async () => {
    const bad = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:9', '--store', 'redis://127.0.0.1:6379', '--store-on-error', 'fail-open']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--store-on-error (store.onStoreError): expected one of local, open, closed, received "fail-open"');
    const alone = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:9', '--store-on-error', 'closed']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--store-on-error (store.onStoreError): only with --store');
  });
});

describe.skipIf(!can)('--store-on-error closed with Redis unreachable at start', () => {
  it('the flag reaches the store: /readyz 503, requests refused 503 store_unavailable with Retry-After', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const port = await deadPort();
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--rate', '5/min', '--burst', '5', '--store', `redis://127.0.0.1:${port}`, '--store-on-error', 'closed']);
    try {
      const warn = await gw.waitFor('store unreachable at start: limits decide by onStoreError until it answers');
      expect(warn).toMatchObject({ onStoreError: 'closed' });
      expect((await get(`${gw.adminUrl}/readyz`)).status).toBe(503);
      const r = await get(gw.url);
      expect(r.status).toBe(503);
      expect(r.body).toContain('store_unavailable');
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  });
});
