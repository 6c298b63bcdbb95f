// Shadow and canary policies, and injected faults, through a real gateway on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayConfigError } from '../../src/gateway/index.js';
import type { GatewayConfig, PolicyConfig, RouteConfig } from '../../src/gateway/index.js';
import { inCanary } from '../../src/gateway/policy-mode.js';
import { resolveConfig } from '../../src/gateway/validate-config.js';
import { cleanup, get, onCleanup, sleep, startInProcess, upstream, within } from './helpers.js';

afterEach(cleanup);

function config(up: string, policy: PolicyConfig, route: Partial<RouteConfig> = {}): GatewayConfig {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { port: 0 },
    upstreams: { app: { url: up } },
    policies: { p: policy },
    routes: [{ path: '/', policy: 'p', ...route }],
  };
}

/** An upstream whose answer depends on the path (status and body), counting requests in flight. */
async function echo(delayMs = 0): Promise<{ url: string; maxInFlight: () => number; seen: () => number }> {
  let inFlight = 0;
  let max = 0;
  let seen = 0;
  const up = await upstream((req, res) => {
    seen++;
    max = Math.max(max, ++inFlight);
    const status = req.url?.startsWith('/teapot') === true ? 418 : req.url?.startsWith('/boom') === true ? 500 : 200;
    setTimeout(() => {
      inFlight--;
      res.writeHead(status, { 'x-upstream': 'yes' }).end(`answer to ${req.url}`);
    }, delayMs);
  });
  return { url: up.url, maxInFlight: () => max, seen: () => seen };
}

const paths = Array.from({ length: 24 }, (_, i) => ['/a', '/teapot', '/boom'][i % 3]! + `/${i}`);

describe('mode: shadow', () => {
  it('never changes a response: the same statuses, bodies and upstream headers as no policy, refusals counted by reason', async () => {
    const up = await echo(30);
    const plain = await startInProcess(config(up.url, {}));
    const shadow = await startInProcess(config(up.url, { rateLimits: [{ rate: '1/s', burst: 2 }], concurrency: 1, breaker: { failures: 2 }, mode: 'shadow' }));
    const run = async (url: string) => (await Promise.all(paths.map((p) => get(`${url}${p}`)))).map((r) => ({ status: r.status, body: r.body, upstream: r.headers['x-upstream'] }));
    const expected = await run(plain.url);
    expect(expected.map((r) => r.status)).toEqual(paths.map((p) => (p.startsWith('/teapot') ? 418 : p.startsWith('/boom') ? 500 : 200)));
    expect(await run(shadow.url)).toEqual(expected);
    expect(await run(shadow.url)).toEqual(expected); // and again, with the breaker's failures counted
    const rollout = shadow.status().policies[0]!.rollout;
    expect(rollout.mode).toBe('shadow');
    // 48 requests, 2 tokens, concurrency 1: the policy would have refused most, the rate limit some
    // of them. How many each is the host's timing: a request concurrency 1 refuses gives its rate
    // token back (2ca1757), so the next one takes it — rate_limited was 30 of 48 once, beside a hog.
    expect(rollout.shadowRefusals['rate_limited']).toBeGreaterThan(0);
    const would = Object.values(rollout.shadowRefusals).reduce((a, b) => a + b, 0);
    expect(would).toBeGreaterThan(30);
    expect(would).toBeLessThan(48);
    const metrics = await get(`${shadow.adminUrl}/metrics`);
    expect(metrics.body).toMatch(/^sluice_shadow_refusals_total\{policy="p",reason="rate_limited"\} \d+$/m);
    // Every request went on, so every one is admitted as the gateway counts (gateway-edges: only those the policy admitted were).
    expect(shadow.status().counters).toMatchObject({ requests: 48, admitted: 48, rejected: 0 });
  });

  it('a decision that would wait is not waited for: the requests reach the upstream together', async () => {
    // The upstream answers none of the 4 until all 4 are in flight there (at most 20 s, then each at once): a gate
    // that held the 2nd to 4th in its queue (limit 1, queueTimeout 1m) leaves 1 in flight. Not a 150 ms answer: a
    // busy host took longer than that to forward the 4th (beside a CPU hog, 'expected 3 to be 4').
    let inFlight = 0;
    let max = 0;
    let late = false;
    const held: (() => void)[] = [];
    const release = (): void => void held.splice(0).forEach((answer) => answer());
    const bound = setTimeout(() => ((late = true), release()), 20_000);
    onCleanup(async () => clearTimeout(bound));
    const up = await upstream((_req, res) => {
      max = Math.max(max, ++inFlight);
      held.push(() => {
        inFlight--;
        res.end('ok');
      });
      if (inFlight === 4 || late) release();
    });
    const gw = await startInProcess(config(up.url, { concurrency: { limit: 1, queue: 10, queueTimeout: '1m' }, mode: 'shadow' }));
    const replies = await Promise.all(Array.from({ length: 4 }, (_, i) => get(`${gw.url}/a/${i}`)));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(max).toBe(4);
    // The shadow decisions end with their responses (a queued one as it is granted, its response long finished).
    const gate = () => gw.status().policies[0]!.gates.find((g) => g.kind === 'concurrency')!;
    expect(await within(10_000, () => gate().inFlight === 0 && gate().queued === 0, 20)).toBe(true);
    expect(gw.status().counters).toMatchObject({ requests: 4, admitted: 4, rejected: 0 });
  });
});

describe('mode: canary', () => {
  it('applies the policy to a stable share of tenants and leaves the others alone', { timeout: 90_000 }, async () => {
    const up = await echo();
    const gw = await startInProcess(config(up.url, { tenant: { header: 'x-api-key' }, rateLimits: [{ rate: '1/h', burst: 1 }], mode: 'canary', canaryPercent: 25 }));
    const tenants = Array.from({ length: 80 }, (_, i) => `tenant-${i}`);
    const limited = async (round: number): Promise<Set<string>> => {
      const out = new Set<string>();
      for (const t of tenants) {
        const a = await get(`${gw.url}/a`, { headers: { 'x-api-key': t } });
        const b = await get(`${gw.url}/a`, { headers: { 'x-api-key': t } });
        if (round === 1) expect(a.status).toBe(200); // the first request of a canary tenant has its token
        if (b.status === 429) out.add(t);
        else expect([a.status, b.status]).toEqual([200, 200]);
      }
      return out;
    };
    const first = await limited(1);
    // The share holds: a quarter of the tenants, give or take the hash's spread.
    expect(first.size).toBeGreaterThan(80 * 0.1);
    expect(first.size).toBeLessThan(80 * 0.4);
    // Stable: the same tenants, every time.
    expect(await limited(2)).toEqual(first);
    const rollout = gw.status().policies[0]!.rollout;
    expect(rollout.bypassed).toBe((80 - first.size) * 4);
  });

  it('a stable hash: the share holds over many keys', () => {
    for (const percent of [1, 10, 50, 90]) {
      let n = 0;
      for (let i = 0; i < 20_000; i++) if (inCanary(`key:user-${i}`, percent)) n++;
      expect(Math.abs(n / 20_000 - percent / 100)).toBeLessThan(0.02);
    }
    expect(inCanary('key:x', 100)).toBe(true);
  });
});

describe('route fault', () => {
  it('aborts an even share of requests with the status, counted and shown in /status', async () => {
    const up = await echo();
    const gw = await startInProcess(config(up.url, {}, { fault: { abort: { status: 503, percent: 25 } } }));
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await get(`${gw.url}/a`)).status);
    expect(statuses.filter((s) => s === 503)).toHaveLength(5);
    expect(statuses.filter((s) => s === 200)).toHaveLength(15);
    expect(up.seen()).toBe(15);
    expect(gw.status().routes[0]!.fault).toMatchObject({ abortStatus: 503, abortPercent: 25, aborted: 5, delayed: 0 });
    expect((await get(`${gw.adminUrl}/metrics`)).body).toMatch(/^sluice_faults_injected_total\{route="route-0",fault="abort"\} 5$/m);
  });

  it('an injected 503 or 429 carries Retry-After as the gateway\'s own refusals do; other statuses none, as its own 500, 502 and 504', async () => {
    const up = await echo();
    for (const [status, retryAfter] of [[503, '1'], [429, '1'], [502, undefined], [500, undefined], [504, undefined], [400, undefined]] as const) {
      const gw = await startInProcess(config(up.url, {}, { fault: { abort: { status, percent: 100 } } }));
      const r = await get(`${gw.url}/a`);
      expect(r.status).toBe(status);
      expect(r.headers['retry-after'], String(status)).toBe(retryAfter);
      expect(JSON.parse(r.body)).toMatchObject({ reason: 'injected_fault' });
    }
  });

  it('the breaker opens against injected aborts, and requests are refused circuit_open without reaching the fault', async () => {
    const up = await echo();
    const gw = await startInProcess(config(up.url, { breaker: { failures: 3, openFor: '10s' } }, { fault: { abort: { status: 502, percent: 100 } } }));
    const replies = [];
    for (let i = 0; i < 6; i++) replies.push(await get(`${gw.url}/a`));
    expect(replies.slice(0, 3).map((r) => r.status)).toEqual([502, 502, 502]);
    expect(replies.slice(3).map((r) => r.status)).toEqual([503, 503, 503]);
    expect(JSON.parse(replies[5]!.body)).toMatchObject({ reason: 'circuit_open' });
    expect(gw.status().routes[0]!.fault!.aborted).toBe(3);
  });

  it('delays requests after admission: they hold their permit while held', async () => {
    const up = await echo();
    const gw = await startInProcess(config(up.url, { concurrency: 1 }, { fault: { delay: { duration: '300ms', percent: 100 } } }));
    const first = get(`${gw.url}/a`);
    await sleep(100);
    const second = await get(`${gw.url}/a`); // the first holds the only slot through its delay
    expect(second.status).toBe(503);
    expect((await first).status).toBe(200);
    expect(gw.status().routes[0]!.fault).toMatchObject({ delayMs: 300, delayed: 1 }); // the second was refused before the fault
  });

  it('is off by default', async () => {
    const up = await echo();
    const gw = await startInProcess(config(up.url, {}));
    expect((await get(`${gw.url}/a`)).status).toBe(200);
    expect(gw.status().routes[0]!.fault).toBeUndefined();
  });
});

describe('config', () => {
  const base = (policy: object, route: object = {}): unknown => ({ upstreams: { app: { url: 'http://127.0.0.1:1' } }, policies: { p: policy }, routes: [{ policy: 'p', ...route }] });
  const issues = (c: unknown): string[] => {
    try {
      resolveConfig(c);
      return [];
    } catch (err) {
      if (!(err instanceof GatewayConfigError)) throw err;
      return err.issues.map((i) => `${i.path}: expected ${i.expected}, found ${i.found}`);
    }
  };

  it('names the key of every rollout and fault mistake', () => {
    expect(issues(base({ mode: 'canary' }))).toEqual(['policies.p.mode: expected a canaryPercent with mode canary, found none']);
    expect(issues(base({ canaryPercent: 10 }))).toEqual(['policies.p.canaryPercent: expected no canaryPercent without mode: canary, found 10']);
    expect(issues(base({ mode: 'canary', canaryPercent: 0 }))[0]).toMatch(/^policies\.p\.canaryPercent: expected /);
    expect(issues(base({ mode: 'dry-run' }))[0]).toMatch(/^policies\.p\.mode: expected one of "enforce", "shadow", "canary", found "dry-run"$/);
    expect(issues(base({}, { fault: { abort: { stauts: 503, percent: 5 } } }))).toContainEqual(expect.stringMatching(/^routes\[0\]\.fault\.abort\.stauts: expected one of the keys status, percent, found unknown key "stauts"$/));
    expect(issues(base({}, { fault: { abort: { status: 200, percent: 5 } } }))[0]).toMatch(/^routes\[0\]\.fault\.abort\.status: expected /);
    expect(issues(base({}, { fault: { delay: { duration: '2s', percent: 150 } } }))[0]).toMatch(/^routes\[0\]\.fault\.delay\.percent: expected /);
    // A delay longer than any request should wait is a mistake too, named by its key.
    expect(issues(base({}, { fault: { delay: { duration: '30d', percent: 10 } } }))[0]).toMatch(/^routes\[0\]\.fault\.delay\.duration: expected /);
    expect(issues(base({}, { fault: {} }))[0]).toMatch(/^routes\[0\]\.fault: expected /);
    expect(issues(base({ mode: 'shadow' }, { fault: { delay: { duration: '1s', percent: 50 }, abort: { status: 503, percent: 1 } } }))).toEqual([]);
  });
});
