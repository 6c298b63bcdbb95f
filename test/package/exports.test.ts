// The published shape: every subpath of the exports map resolves from the built package,
// internals do not, and the core has no runtime dependencies. Needs `npm run build` first
// (npm test runs it).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_PEERS } from '../../src/gateway/peers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as {
  exports: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  sideEffects: boolean;
  type: string;
};

// Child processes run asynchronously: a blocked test worker misses vitest's RPC deadline on a busy machine.
const execFileAsync = promisify(execFile);

async function nodeImport(specifier: string): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(specifier)}); console.log(Object.keys(m).sort().join(','))`], {
    cwd: root,
    encoding: 'utf8',
  });
  return stdout.trim();
}

type Loaded = Record<string, { keys: string } | { error: string }>;

/**
 * Every specifier loaded in one child process (`import()` or `require()`), each in its own
 * try: its sorted export names, or its error. One process for all of them, not two per
 * subpath — that was 54 process starts, a third of this file's time — as pack.test.ts does.
 */
async function loadAll(kind: 'esm' | 'cjs', specifiers: readonly string[]): Promise<Loaded> {
  const load = kind === 'esm' ? 'await import(s)' : 'require(s)';
  const body = `const out = {};
for (const s of ${JSON.stringify(specifiers)}) {
  try { const m = ${load}; out[s] = { keys: Object.keys(m).sort().join(',') }; }
  catch (e) { out[s] = { error: String(e && e.stack || e) }; }
}
process.stdout.write(JSON.stringify(out));`;
  const { stdout } = await execFileAsync(process.execPath, [`--input-type=${kind === 'esm' ? 'module' : 'commonjs'}`, '-e', kind === 'esm' ? body : `(async () => { ${body} })();`], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout) as Loaded;
}

/** The export names `spec` had in `loaded`; throws its load error. */
function keysOf(loaded: Loaded, spec: string): string {
  const r = loaded[spec];
  if (r === undefined) throw new Error(`${spec} was not loaded`);
  if ('error' in r) throw new Error(`${spec}: ${r.error}`);
  return r.keys;
}

describe('the sluice command in a clone', () => {
  it('runs the source without a build (bin/sluice.js through tsx)', async () => {
    const { stdout } = await execFileAsync(process.execPath, [`${root}/bin/sluice.js`, '--help'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(stdout).toMatch(/^Usage: sluice <command>/);
  }, 60_000);
});

describe.runIf(existsSync(`${root}/dist/index.js`))('package exports', () => {
  it('is ESM, side-effect free, with no runtime dependencies; every peer optional, with a caret range', () => {
    expect(pkg.type).toBe('module');
    expect(pkg.sideEffects).toBe(false);
    // The gateway's YAML parser, schema validator and connection pool are optional peers, loaded when the gateway needs them (src/gateway/peers.ts).
    expect(pkg.dependencies).toBeUndefined();
    const peers = Object.entries(pkg.peerDependencies);
    expect(peers.filter(([, range]) => !range.split(' || ').every((r) => /^\^\d+\.\d+\.\d+$/.test(r)))).toEqual([]);
    expect(peers.filter(([name]) => pkg.peerDependenciesMeta[name]?.optional !== true)).toEqual([]);
    for (const name of GATEWAY_PEERS) expect(pkg.peerDependencies[name]).toBeDefined();
  });

  const subs = Object.keys(pkg.exports).filter((s) => s !== './package.json');
  const specOf = (sub: string): string => (sub === '.' ? 'sluice' : `sluice/${sub.slice(2)}`);
  let esm: Loaded = {};
  let cjs: Loaded = {};
  beforeAll(async () => {
    [esm, cjs] = await Promise.all([loadAll('esm', subs.map(specOf)), loadAll('cjs', subs.map(specOf))]);
  }, 60_000);

  for (const sub of subs) {
    it(`resolves ${sub}`, () => {
      const spec = specOf(sub);
      const keys = keysOf(esm, spec).split(',');
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => !k.startsWith('_'))).toBe(true);
      // CommonJS: the `require` condition loads the same module (require(esm), Node >= 20.19).
      expect(keysOf(cjs, spec).split(',')).toEqual(keys);
    });
  }

  it('does not expose internals', async () => {
    await expect(nodeImport('sluice/discipline/entry')).rejects.toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
    await expect(nodeImport('sluice/dist/core/index.js')).rejects.toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it('imports nothing but relative modules and node: built-ins, except an adapter its own optional peer', () => {
    // An adapter may import the library of its field, declared as an optional peer; nothing else may import a package.
    const allowed: Record<string, readonly string[]> = {
      prometheus: ['prom-client'],
      otel: ['@opentelemetry/api'],
      express: ['express'],
      fastify: ['fastify'],
      // yaml, ajv and undici through require() in gateway/peers.js, when first needed.
      gateway: ['prom-client'],
      rabbitmq: ['amqplib'],
      jetstream: ['@nats-io/jetstream', '@nats-io/transport-node'],
      'redis-streams': ['ioredis'],
      redis: ['ioredis'],
      kafka: ['kafkajs'],
      sqs: ['@aws-sdk/client-sqs'],
    };
    const peers = Object.keys((pkg as { peerDependencies?: Record<string, string> }).peerDependencies ?? {});
    const files = readdirSync(`${root}/dist`, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    const bad: string[] = [];
    for (const f of files) {
      const src = readFileSync(`${root}/dist/${f}`, 'utf8');
      const layer = f.split('/')[0]!;
      const statics = [
        ...src.matchAll(/^\s*import\s+(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/gm),
        ...src.matchAll(/^\s*export\s+[^'";]*?\sfrom\s*['"]([^'"]+)['"]/gm),
      ];
      const dynamics = [...src.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)];
      for (const m of [...statics, ...dynamics]) {
        const spec = m[1]!;
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const declared = peers.includes(spec) || Object.keys(pkg.dependencies ?? {}).includes(spec);
        if ((allowed[layer] ?? []).includes(spec) && declared) continue;
        bad.push(`${f}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
