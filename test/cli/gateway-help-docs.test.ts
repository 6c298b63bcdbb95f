// `sluice gateway --help`, docs/gateway.md and the messages about flags name the same flags:
// every flag the usage lists is in docs/gateway.md's flag table with the config key it sets
// (the key its errors name), and the table lists no other; every flag the command's messages
// or docs/gateway.md name is one the command knows. Until docsaudit --timeout, --drain-timeout
// and --trust-proxy were in the usage and nowhere in docs/gateway.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FLAG_KEYS, parseFlags } from '../../src/cli/gateway-flags.js';
import { CONFIG_SCHEMA } from '../../src/gateway/schema.js';
import { docsRoot } from '../doc-blocks.js';
import { gatewayCommandRun } from '../gateway/helpers.js';

const doc = readFileSync(`${docsRoot}docs/gateway.md`, 'utf8');

/** The flags `sluice gateway --help` lists (`  --port N   proxy port ...` → `port`), and `help`: the usage is its answer. */
async function helpFlags(): Promise<string[]> {
  const r = await gatewayCommandRun(['--help']);
  expect(r.code).toBe(0);
  return [...[...r.stdout.matchAll(/^ {2}--([a-z][a-z-]*)/gm)].map((m) => m[1]!), 'help'];
}

/** docs/gateway.md's flag table: each row's flag and the text of its second column. */
function tableRows(): Map<string, string> {
  return new Map([...doc.matchAll(/^\| `--([a-z][a-z-]*)[^`]*`(?:, `-h`)? \| (.*) \|$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** Whether a key path as messages write it (`policies.<name>.rateLimits[].rate`) is one the config schema has. */
function schemaHas(path: string): boolean {
  let nodes: unknown[] = [CONFIG_SCHEMA];
  for (const seg of path.split('.')) {
    const list = seg.endsWith('[]');
    const name = list ? seg.slice(0, -2) : seg;
    const expand = (n: unknown): unknown[] => {
      const o = n as Record<string, unknown>;
      return [o, ...(['oneOf', 'anyOf', 'allOf'] as const).flatMap((k) => (Array.isArray(o[k]) ? (o[k] as unknown[]).flatMap(expand) : []))];
    };
    nodes = nodes
      .flatMap(expand)
      .map((o) => (name === '<name>' ? (o as { additionalProperties?: unknown }).additionalProperties : (o as { properties?: Record<string, unknown> }).properties?.[name]))
      .filter((o): o is object => typeof o === 'object' && o !== null)
      .map((o) => (list ? (o as { items?: unknown }).items : o))
      .filter((o) => typeof o === 'object' && o !== null);
    if (nodes.length === 0) return false;
  }
  return true;
}

describe('sluice gateway --help and docs/gateway.md', () => {
  it('the usage and the flag table list the same flags, and the command parses each', async () => {
    const help = await helpFlags();
    expect(help).toContain('trust-proxy');
    expect(help.length).toBeGreaterThanOrEqual(20);
    expect([...tableRows().keys()].sort()).toEqual([...help].sort());
    // The command knows each one (a value flag takes "x"; the boolean ones refuse it, naming the flag).
    for (const flag of help) {
      let message = '';
      try {
        parseFlags([`--${flag}`, 'x']);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, flag).not.toMatch(/unknown flag/);
    }
  });

  it('each row names the key the flag sets, the key its errors name, and the schema has it', () => {
    const rows = tableRows();
    const keyed = Object.entries(FLAG_KEYS).filter((e): e is [string, string] => e[1] !== undefined);
    expect(keyed.length).toBeGreaterThanOrEqual(18);
    expect(keyed.filter(([flag, key]) => !rows.get(flag)?.startsWith(`\`${key}\``)).map(([flag, key]) => `--${flag}: ${key}`)).toEqual([]);
    expect(keyed.filter(([, key]) => !schemaHas(key)).map(([flag, key]) => `--${flag}: ${key}`)).toEqual([]);
    // The check can fail.
    expect(schemaHas('policies.<name>.rateLimits[].rate')).toBe(true);
    expect(schemaHas('policies.<name>.rateLimits[].rates')).toBe(false);
    expect(schemaHas('upstream.<name>.url')).toBe(false);
  });

  it('every flag the command names in its messages, and every flag docs/gateway.md names, is one it knows', async () => {
    const known = new Set(await helpFlags());
    const src = ['src/cli/gateway.ts', 'src/cli/gateway-flags.ts'].map((f) => readFileSync(`${docsRoot}${f}`, 'utf8')).join('\n');
    const named = new Set([...src.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!));
    expect(named).toContain('queue-timeout');
    expect([...named].filter((f) => !known.has(f))).toEqual([]);
    // Flags of other commands that docs/gateway.md names in passing, each beside its command.
    const others: Record<string, RegExp> = {
      duration: /sluice (?:strategies|demo) --duration/,
      policy: /sluice simulate --policy/,
      baseline: /bench\/head-requests\.ts --baseline/,
      seconds: /bench:slow-reader -- --rate <bytes\/s> --seconds/,
      http2: /curl's `--http2/,
    };
    const inDoc = new Set([...doc.matchAll(/--([a-z][a-z\d-]*)/g)].map((m) => m[1]!));
    expect([...inDoc].filter((f) => !known.has(f) && !others[f]?.test(doc))).toEqual([]);
  });
});
