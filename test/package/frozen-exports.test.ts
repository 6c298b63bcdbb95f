// Every constant the package exports — defaults, lists of names, header lists, the config
// schema, the instrument table — is frozen all the way down (plain objects and arrays; class
// instances such as a diagnostics Channel are left as they are): sluice reads them itself, so a
// user who pushed to REJECTION_REASONS or set CONCURRENCY_DEFAULTS.maxQueue changed sluice's
// behaviour for every other user in the process. Until apisurface2 none was frozen.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { import?: { default: string } }> };
const SUBPATHS = Object.entries(pkg.exports).flatMap(([sub, e]) => (e.import === undefined ? [] : [[sub, e.import.default.replace('./dist/', '../../src/').replace(/\.js$/, '.ts')] as const]));

const isPlain = (v: unknown): v is object => {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return Array.isArray(v) || proto === Object.prototype || proto === null;
};

/** Paths under `v` (a plain object or array) that are not frozen. */
function unfrozen(v: object, path: string, out: string[]): string[] {
  if (!Object.isFrozen(v)) out.push(path);
  for (const [k, x] of Object.entries(v)) if (isPlain(x)) unfrozen(x, `${path}.${k}`, out);
  return out;
}

describe('exported constants are frozen', () => {
  it.each(SUBPATHS)('%s', async (sub, file) => {
    const mod = (await import(file)) as Record<string, unknown>;
    const open = Object.entries(mod).flatMap(([name, v]) => (isPlain(v) ? unfrozen(v, `${sub} ${name}`, []) : []));
    expect(open).toEqual([]);
  }, 60_000);

  it('a user cannot change them for everyone', async () => {
    const core = await import('../../src/core/index.js');
    const concurrency = await import('../../src/concurrency/index.js');
    const gateway = await import('../../src/gateway/index.js');
    expect(() => (core.REJECTION_REASONS as string[]).push('mine')).toThrow(TypeError);
    expect(() => ((concurrency.CONCURRENCY_DEFAULTS as { maxQueue: number }).maxQueue = 10)).toThrow(TypeError);
    expect(() => ((gateway.GATEWAY_DEFAULTS as unknown as Record<string, unknown>).rejectionLogMs = 1)).toThrow(TypeError);
    expect(core.REJECTION_REASONS).not.toContain('mine');
  });
});
