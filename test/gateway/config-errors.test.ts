// Config errors: exact messages naming file, line and key path; exit code 2. And the
// published schema is the one the code validates with.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA } from '../../src/gateway/schema.js';
import { cleanup, root, sluice, tempDir } from './helpers.js';

afterEach(cleanup);

async function check(yaml: string): Promise<{ code: number | null; stderr: string; file: string; stdout: string }> {
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, yaml);
  const s = sluice(['gateway', '--check', '--config', file]);
  const code = await s.exited;
  return { code, stderr: s.stderr().replaceAll(file, 'sluice.yaml'), file, stdout: s.lines.join('\n') };
}

const UP = 'upstreams:\n  app:\n    url: http://127.0.0.1:3000\n';

describe('sluice gateway --check', () => {
  it('a valid config: exit 0', async () => {
    const r = await check(`${UP}routes:\n  - path: /\n    policy: { concurrency: 10 }\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${r.file}: ok`);
  });

  it('bad YAML', async () => {
    const r = await check(`${UP}routes:\n  - path: /\n    policy: { concurrency: 10\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sluice\.yaml:\d+: \(document\): expected valid YAML, found .+\n$/);
  });

  it('an unknown key', async () => {
    const r = await check(`listen:\n  prot: 8080\n${UP}routes:\n  - path: /\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('sluice.yaml:2: listen.prot: expected one of the keys host, port, backlog, found unknown key "prot"\n');
  });

  it('a wrong type, and a bad duration', async () => {
    const r = await check(`${UP}    timeout: fast\nroutes:\n  - path: /\n    policy:\n      concurrency: { limit: ten }\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sluice.yaml:4: upstreams.app.timeout: expected a duration: 100ms, 2s, 1.5m, 1h, 1d, or a number of ms, found "fast"\n' +
        'sluice.yaml:8: routes[0].policy.concurrency.limit: expected an integer >= 1, or adaptive, found "ten"\n',
    );
  });

  it('contradictory limits: burst < 1, a queue timeout without a queue', async () => {
    const r = await check(`${UP}routes:\n  - path: /\n    policy:\n      rateLimits:\n        - { rate: 100/s, burst: 0 }\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('sluice.yaml:8: routes[0].policy.rateLimits[0].burst: expected a number >= 1, found 0\n');
    const q = await check(`${UP}routes:\n  - path: /\n    policy:\n      concurrency:\n        limit: 10\n        queueTimeout: 100ms\n`);
    expect(q.code).toBe(2);
    expect(q.stderr).toBe('sluice.yaml:9: routes[0].policy.concurrency.queueTimeout: expected no queueTimeout without a queue (set queue >= 1), found "100ms"\n');
  });

  it('references: an unknown upstream and policy, every problem listed', async () => {
    const r = await check(`${UP}policies:\n  api: { concurrency: 5 }\nroutes:\n  - path: /\n    upstream: nope\n    policy: missing\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sluice.yaml:8: routes[0].upstream: expected one of the upstreams app, found "nope"\n' + 'sluice.yaml:9: routes[0].policy: expected one of the policies api, found "missing"\n',
    );
  });

  it('flags: a bad value and a contradiction exit 2 with the flag named', async () => {
    const a = sluice(['gateway', '--upstream', 'http://127.0.0.1:1', '--queue-timeout', 'soon', '--concurrency', '5']);
    expect(await a.exited).toBe(2);
    expect(a.stderr()).toBe('sluice gateway: --queue-timeout: expected a duration like 100ms or 2s, received "soon"\n');
    const b = sluice(['gateway', '--upstream', 'http://127.0.0.1:1', '--rate', '10/s', '--burst', '0']);
    expect(await b.exited).toBe(2);
    expect(b.stderr()).toBe('sluice gateway: --burst: expected a number >= 1, received "0"\n');
  });
});

describe('the published JSON Schema', () => {
  it('docs/sluice.schema.json is the schema the code validates with', () => {
    expect(JSON.parse(readFileSync(join(root, 'docs/sluice.schema.json'), 'utf8'))).toEqual(CONFIG_SCHEMA);
  });
});

describe('docs/gateway.md', () => {
  it('its example sluice.yaml is valid', async () => {
    const { parseConfigText } = await import('../../src/gateway/index.js');
    const text = readFileSync(join(root, 'docs/gateway.md'), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(text)![1]!;
    const config = parseConfigText(yaml, 'docs/gateway.md');
    expect(config.routes.length).toBe(5);
  });
});
