// The published config documents match the code: docs/sluice.schema.json is the schema the
// gateway validates with, and docs/gateway.md's examples say what --check says.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA } from '../../src/gateway/schema.js';
import { check } from './config-check.js';
import { cleanup, root } from './helpers.js';

afterEach(cleanup);

// After a schema change, write the published files from the code's:
//   npx tsx -e "import('./src/gateway/schema.ts').then(({ CONFIG_SCHEMA: s }) => require('node:fs').writeFileSync('docs/sluice.schema.json', JSON.stringify(s, null, 2) + '\n'))"
describe('the published JSON Schema', () => {
  it('docs/sluice.schema.json is the schema the code validates with', () => {
    expect(JSON.parse(readFileSync(join(root, 'docs/sluice.schema.json'), 'utf8'))).toEqual(CONFIG_SCHEMA);
  });
});

describe('docs/gateway.md', () => {
  it('its --check sample output is what --check prints for its sample config: every error in one run', async () => {
    const text = readFileSync(join(root, 'docs/gateway.md'), 'utf8');
    const yaml = /```yaml\n(# sluice\.yaml with four mistakes\n[\s\S]*?)```/.exec(text)![1]!;
    const shown = /```sh\n\$ npx sluice gateway --check --config sluice\.yaml\n([\s\S]*?)```/.exec(text)![1]!;
    const r = await check(yaml);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(shown);
    expect(shown.trimEnd().split('\n')).toHaveLength(4);
  });

  it('its example sluice.yaml is valid', async () => {
    const { parseConfigText } = await import('../../src/gateway/index.js');
    const text = readFileSync(join(root, 'docs/gateway.md'), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(text)![1]!;
    const config = parseConfigText(yaml, 'docs/gateway.md');
    expect(config.routes.length).toBe(5);
  });
});

/** Every key path the schema accepts (`server.workers`, `policies.*.concurrency.minLimit`), with its key. */
function schemaKeys(s: unknown, path: string, out: Map<string, string>): Map<string, string> {
  if (s === null || typeof s !== 'object') return out;
  const o = s as Record<string, unknown>;
  for (const [k, v] of Object.entries((o.properties ?? {}) as Record<string, unknown>)) {
    const p = path === '' ? k : `${path}.${k}`;
    out.set(p, k);
    schemaKeys(v, p, out);
  }
  for (const alt of ['oneOf', 'anyOf', 'allOf'] as const) if (Array.isArray(o[alt])) for (const x of o[alt] as unknown[]) schemaKeys(x, path, out);
  if (typeof o.additionalProperties === 'object') schemaKeys(o.additionalProperties, `${path}.*`, out);
  if (o.items !== undefined) schemaKeys(o.items, `${path}[]`, out);
  return out;
}

describe('docs/gateway.md documents every key of the config', () => {
  it('each key the schema accepts is written in it as a YAML key (`key:`) or in code (`key`, `.key`)', () => {
    const text = readFileSync(join(root, 'docs/gateway.md'), 'utf8');
    const keys = schemaKeys(CONFIG_SCHEMA, '', new Map());
    expect(keys.size).toBeGreaterThan(100);
    const missing = [...keys].filter(([, k]) => !new RegExp(`(^|[\\s{,])${k}:|\`([\\w.*\\[\\]]*\\.)?${k}[\`: ]`, 'm').test(text)).map(([p]) => p);
    expect(missing).toEqual([]);
  });
});

