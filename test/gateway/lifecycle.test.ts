// Reload (SIGHUP and file change, good and bad) and drain on SIGTERM, on the spawned CLI.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gateway, get, sleep, tempDir, upstream } from './helpers.js';

afterEach(cleanup);

function config(up: string, rate: string, extra = ''): string {
  return `listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
upstreams:
  app: { url: ${up} }
policies:
  kept:
    rateLimits: [{ rate: 1/min, burst: 2 }]
  changing:
    rateLimits: [{ rate: ${rate}, burst: 1 }]
routes:
  - { path: /kept, policy: kept }
  - { path: /changing, policy: changing }
${extra}`;
}

describe('reload', () => {
  it('SIGHUP: a good config applies; limiter state survives where the policy is unchanged', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, config(up.url, '1/min'));
    const gw = await gateway(['gateway', '--config', file]);
    expect((await get(`${gw.url}/kept`)).status).toBe(200);
    expect((await get(`${gw.url}/changing`)).status).toBe(200);
    expect((await get(`${gw.url}/changing`)).status).toBe(429);
    const from = gw.lines.length;
    writeFileSync(file, config(up.url, '1000/s'));
    gw.child.kill('SIGHUP');
    const line = await gw.waitFor('reloaded', 10_000, from);
    expect(line['policiesKept']).toBe(1);
    expect(line['policiesNew']).toBe(1);
    // 'kept' remembers its one used token: one more passes, then 429. 'changing' is new.
    expect((await get(`${gw.url}/kept`)).status).toBe(200);
    expect((await get(`${gw.url}/kept`)).status).toBe(429);
    expect((await get(`${gw.url}/changing`)).status).toBe(200);
  });

  it('a bad config (SIGHUP or file change) is rejected, logged, and the old one keeps serving', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, config(up.url, '1/min'));
    const gw = await gateway(['gateway', '--config', file]);
    const from = gw.lines.length;
    writeFileSync(file, config(up.url, 'lots'));
    const line = await gw.waitFor('reload rejected: the previous config keeps serving', 10_000, from);
    expect(line['why']).toBe('file change');
    expect(line['error']).toBe(`${file}:9: policies.changing.rateLimits[0].rate: expected a rate of at least one each 7d and at most 1000000000/s: 2000/s, 100/min, 5/h, 1/d, or a number per second, found "lots"`);
    expect((await get(`${gw.url}/changing`)).status).toBe(200);
    expect((await get(`${gw.url}/changing`)).status).toBe(429);
    const from2 = gw.lines.length;
    gw.child.kill('SIGHUP');
    expect((await gw.waitFor('reload rejected: the previous config keeps serving', 10_000, from2))['why']).toBe('SIGHUP');
    // A good file change applies.
    const from3 = gw.lines.length;
    writeFileSync(file, config(up.url, '1000/s'));
    await gw.waitFor('reloaded', 10_000, from3);
    expect((await get(`${gw.url}/changing`)).status).toBe(200);
  });
});

describe('drain on SIGTERM', () => {
  it('in-flight requests finish, queued ones get 503 + Retry-After, exit 0', async () => {
    // The upstream holds its answers until the drain has begun.
    let release!: () => void;
    const drained = new Promise<void>((r) => (release = r));
    const up = await upstream((_req, res) => void drained.then(() => res.end('done')));
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--concurrency', '2', '--queue', '10', '--queue-timeout', '5s', '--drain-timeout', '5s']);
    const replies = Array.from({ length: 5 }, () => get(`${gw.url}/slow`));
    // Two in flight upstream, three queued: seen in /status, not guessed from a sleep (a busy machine may not have sent them yet).
    const queued = async (): Promise<number> => (JSON.parse((await get(`${gw.adminUrl}/status`)).body) as { queued: number }).queued;
    while ((await queued()) < 3) await sleep(20);
    gw.child.kill('SIGTERM');
    await gw.waitFor('draining');
    release();
    const all = await Promise.all(replies);
    const ok = all.filter((r) => r.status === 200);
    const refused = all.filter((r) => r.status === 503);
    expect(ok.length).toBe(2);
    expect(ok.every((r) => r.body === 'done')).toBe(true);
    expect(refused.length).toBe(3);
    for (const r of refused) expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await gw.exited).toBe(0);
    expect(gw.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  });

  it('/readyz answers 503 while draining', async () => {
    // The upstream holds the request it gets until readiness has been asked while draining.
    let arrived!: () => void;
    const atUpstream = new Promise<void>((r) => (arrived = r));
    let release!: () => void;
    const asked = new Promise<void>((r) => (release = r));
    const up = await upstream((_req, res) => {
      arrived();
      void asked.then(() => res.end('done'));
    });
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--drain-timeout', '5s']);
    expect((await get(`${gw.adminUrl}/readyz`)).status).toBe(200);
    expect((await get(`${gw.adminUrl}/healthz`)).status).toBe(200);
    const inFlight = get(`${gw.url}/`);
    await atUpstream;
    gw.child.kill('SIGTERM');
    await gw.waitFor('draining');
    expect((await get(`${gw.adminUrl}/readyz`)).status).toBe(503);
    release();
    expect((await inFlight).status).toBe(200);
    expect(await gw.exited).toBe(0);
  });
});
