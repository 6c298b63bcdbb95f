// No route's policy can be bypassed by writing its path another way (issue 10, finding 1):
// the gateway CLI, spawned, with /api limited to 5 requests an hour and /healthz exempt, in
// front of an upstream that normalises paths as WHATWG URL does. Every form that means
// /api/x is counted against /api (and reaches the upstream as /api/x), or is refused 400;
// none reaches /api/x around the limit.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gateway, get, ONE_START_MS, sleep, tempDir, upstream } from './helpers.js';
import { rawExchange, rawGet } from './raw-client.js';

afterEach(cleanup);

/** Targets that mean /api/x to an upstream that normalises. */
const BYPASS_FORMS = ['/healthz/../api/x', '/healthz/%2e%2e/api/x', '//api/x', '/./api/x', '/%61pi/x'];
const MORE_FORMS = ['/api/x.', '/api/x%20', '/healthz/.%2E/api/x', '/api//x', '/%41%50%49/../api/x', '/healthz/x/../../api/x?q=1', '/healthz/./../api/./x', '/healthz;x/../api/x', '/api/x;jsessionid=1'];
/** Targets refused 400, with the reason /status counts them under. */
const REFUSED: readonly (readonly [string, string])[] = [
  ['/healthz/..%2fapi/x', 'encoded_slash'],
  ['/healthz/..%2Fapi%2Fx', 'encoded_slash'],
  ['/healthz\\..\\api\\x', 'backslash'],
  ['/healthz/%5c../api/x', 'backslash'],
  ['/healthz/..;/api/x', 'dot_segment_param'],
  ['/healthz/%252e%252e/api/x', 'double_encoded'],
  ['/%2e%2e/api/x', 'above_root'],
  ['/../api/x', 'above_root'],
  ['/api/x%00', 'control_char'],
  ['/healthz#/../api/x', 'fragment'],
  ['/healthz?a=1#/../api/x', 'fragment'],
  ['/healthz/%2g/../api/x', 'bad_escape'],
  ['/api;jsessionid=1/x', 'ambiguous_params'],
  ['/healthz;x/api/x', 'ambiguous_params'],
  ['/api;v=1', 'ambiguous_params'],
  // /api/x to IIS (trailing dots and spaces dropped) and to token-trimming matchers (hostile-3 H4).
  ['/api./x', 'ambiguous_trailing'],
  ['/api%20/x', 'ambiguous_trailing'],
  ['/api%2e/x', 'ambiguous_trailing'],
  ['/api.%20./x', 'ambiguous_trailing'],
  ['/%20/api/x', 'ambiguous_trailing'],
  ['/api...', 'ambiguous_trailing'],
];

async function setup(): Promise<{ url: string; adminUrl: string; seen: string[]; gw: Awaited<ReturnType<typeof gateway>> }> {
  const seen: string[] = [];
  const up = await upstream((req, res) => {
    seen.push(req.url ?? '');
    res.end(`upstream ${new URL(req.url ?? '/', 'http://x').pathname}`);
  });
  const dir = tempDir();
  const file = join(dir, 'sluice.yaml');
  writeFileSync(
    file,
    [
      'listen: { host: 127.0.0.1, port: 0 }',
      'admin: { host: 127.0.0.1, port: 0 }',
      'log: { level: info }',
      `upstreams: { app: { url: "${up.url}" } }`,
      'policies:',
      // One unit every 12 min: the requests below see no refill however slow the host.
      '  api: { rateLimits: [{ rate: 5/h, burst: 5 }] }',
      'routes:',
      '  - { name: health, path: /healthz, exempt: true }',
      '  - { name: api, path: /api, policy: api }',
      '  - { name: rest, path: / }',
      '',
    ].join('\n'),
  );
  const gw = await gateway(['gateway', '--config', file]);
  return { url: gw.url, adminUrl: gw.adminUrl, seen, gw };
}

/** What an upstream that normalises (WHATWG URL) makes of a target. */
const normalised = (target: string): string => new URL(target, 'http://x').pathname;

describe('canonical paths end to end', () => {
  it('counts every form of /api/x against /api and forwards it as /api/x; refuses what has no canonical form', async () => {
    const { url, adminUrl, seen, gw } = await setup();
    // The five forms of the issue spend /api's quota of 5, each forwarded as the canonical path.
    for (const target of BYPASS_FORMS) {
      const r = await rawExchange(url, rawGet(target));
      expect(r.status, target).toBe(200);
      expect(r.body).toBe('upstream /api/x');
    }
    expect(seen).toEqual(BYPASS_FORMS.map(() => '/api/x'));
    // The quota is spent: every form, and the plain path, is refused now.
    for (const target of ['/api/x', ...BYPASS_FORMS, ...MORE_FORMS, `${url}/healthz/../api/x`]) {
      const r = await rawExchange(url, rawGet(target));
      expect(r.status, target).toBe(429);
    }
    for (const [target, reason] of REFUSED) {
      const r = await rawExchange(url, rawGet(target));
      expect(r.status, target).toBe(400);
      expect(r.head).toMatch(/\r\nconnection: close/i);
      expect(JSON.parse(r.body)).toMatchObject({ status: 400 });
      expect(reason.length).toBeGreaterThan(0);
    }
    // Other hosts stay refused in absolute form.
    expect((await rawExchange(url, rawGet('http://example.com/api/x'))).status).toBe(400);
    // The exempt route still serves, and gets its own canonical path.
    expect((await rawExchange(url, rawGet('/healthz/./'))).status).toBe(200);
    expect((await rawExchange(url, rawGet('/api/../healthz'))).status).toBe(200);

    // The upstream saw /api/x five times and nothing else under /api; and only canonical paths.
    expect(seen.filter((t) => normalised(t).toLowerCase().startsWith('/api'))).toEqual(['/api/x', '/api/x', '/api/x', '/api/x', '/api/x']);
    expect(seen.slice(5)).toEqual(['/healthz/', '/healthz']);
    for (const t of seen) expect(normalised(t)).toBe(t);

    const status = (await get(`${adminUrl}/status`)).body;
    const bad = (JSON.parse(status) as { badRequests: Record<string, number> }).badRequests;
    const want: Record<string, number> = {};
    for (const [, reason] of REFUSED) want[reason] = (want[reason] ?? 0) + 1;
    want['foreign_target'] = 1;
    for (const [reason, n] of Object.entries(want)) expect(bad[reason], reason).toBe(n);
    expect(Object.values(bad).reduce((a, b) => a + b, 0)).toBe(REFUSED.length + 1);
    // Logged per burst: one line per reason with its count, not one per request.
    const line = await gw.waitFor('bad request');
    expect(line).toMatchObject({ level: 'warn', reason: expect.any(String), status: 400, count: expect.any(Number) });
    const logged = (): { reason: string; count: number }[] => gw.lines.filter((l) => l.includes('"msg":"bad request"')).map((l) => JSON.parse(l) as { reason: string; count: number });
    // The refusals may straddle two bursts: wait for the second one's lines (a burst is 1 s).
    for (let i = 0; i < 50 && logged().reduce((a, l) => a + l.count, 0) < REFUSED.length + 1; i++) await sleep(100);
    expect(logged().reduce((a, l) => a + l.count, 0)).toBe(REFUSED.length + 1);
    expect(logged().filter((l) => l.reason === 'encoded_slash').reduce((a, l) => a + l.count, 0)).toBe(2);
    expect(logged().length).toBeLessThanOrEqual(2 * Object.keys(want).length);
    // The gateway's start (ONE_START_MS) and the rest: 30 s ran out beside a CPU hog (load 27).
  }, ONE_START_MS + 60_000);
});
