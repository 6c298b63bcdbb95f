// A route naming an upstream or policy by a name every JavaScript object inherits
// (constructor, toString, valueOf, hasOwnProperty, ...) and the config does not define
// (hostile-10): the check was `name in upstreams`, which finds those, so it passed --check —
// and the route naming such an upstream was dropped without a word (its requests fell
// through to the next route, under that route's policy), while the route naming such a
// policy was served with no policy at all (no limit). Now both are config errors, at --check
// and at a reload (the running config keeps serving).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayConfigError } from '../../src/gateway/index.js';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, gatewayCommandRun, get, startInProcess, tempDir, upstream } from './helpers.js';

afterEach(cleanup);

const UP = 'upstreams:\n  app: { url: http://127.0.0.1:3000, timeout: 5s }\n';

describe('a route naming an inherited property as its upstream or policy', () => {
  it('is a config error at --check, naming the route and what the config defines', async () => {
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(
      file,
      `${UP}policies:\n  p: { concurrency: { limit: 1 } }\nroutes:\n  - { path: /admin, upstream: constructor, policy: p }\n  - { path: /api, policy: valueOf }\n  - { path: /x, policy: toString, cost: 1 }\n  - { path: /, policy: p }\n`,
    );
    const r = await gatewayCommandRun(['--check', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr.replaceAll(file, 'sluice.yaml')).toBe(
      [
        'sluice.yaml:6: routes[0].upstream: expected one of the upstreams app, found "constructor"',
        'sluice.yaml:7: routes[1].policy: expected one of the policies p, found "valueOf"',
        'sluice.yaml:8: routes[2].policy: expected one of the policies p, found "toString"',
        '',
      ].join('\n'),
    );
  });

  it('is a rejected reload: the running route keeps its policy', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const config = (policy: string): GatewayConfig => ({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { port: 0 },
      upstreams: { app: { url: up.url, timeout: '5s' } },
      policies: { p: { concurrency: { limit: 1 } } },
      routes: [{ name: 'api', path: '/api', policy }],
    });
    const gw = await startInProcess(config('p'));
    await expect(gw.reload(config('hasOwnProperty'))).rejects.toThrow(GatewayConfigError);
    await expect(gw.reload(config('hasOwnProperty'))).rejects.toThrow(/routes\[0\]\.policy: expected one of the policies p, found "hasOwnProperty"/);
    expect(gw.status().routes).toEqual([expect.objectContaining({ name: 'api', policy: 'p' })]);
    expect((await get(`${gw.url}/api`)).status).toBe(200);
  });
});
