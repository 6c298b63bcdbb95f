// The package as a user gets it: `npm pack`, installed into a fresh app outside the repository
// (offline, from npm's cache), then every subpath export loaded from an ES module, from a
// CommonJS module (require(esm)), and type-checked by TypeScript with `module: node16`,
// `strict`, from both module kinds. Slow (npm and tsc run here); it needs `npm run build`
// first (npm test runs it) and packs what dist/ holds, so it never rebuilds dist/ under
// the tests that read it. One tarball, installed once: `app` has no peer, `full` is a copy
// with the peers linked in; the two type-checks (the slow part) start together as soon as
// both exist, and run beside the other tests.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
  peerDependencies: Record<string, string>;
  scripts: Record<string, string>;
  files: string[];
};
const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json');
const specifier = (sub: string): string => (sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`);
/** Subpaths that import an optional peer when loaded, with that peer. */
const PEER_OF: Record<string, string> = {
  './prometheus': 'prom-client',
  './otel': '@opentelemetry/api',
  './rabbitmq': 'amqplib',
  './jetstream': '@nats-io/jetstream',
  './redis-streams': 'ioredis',
  './redis': 'ioredis',
  './kafka': 'kafkajs',
  './sqs': '@aws-sdk/client-sqs',
};
const MINUTE = 60_000;

// Asynchronous: a synchronous child process would block the test worker for minutes (vitest's RPC times out).
const execFileAsync = promisify(execFile);
async function run(cmd: string, args: readonly string[], cwd: string): Promise<string> {
  const { stdout } = await execFileAsync(cmd, args, { cwd, encoding: 'utf8', timeout: 3 * MINUTE, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return stdout;
}

/** Load every subpath; prints `{ subpath: 'ok' | error code and first line }` as JSON. */
function loaderSource(kind: 'esm' | 'cjs'): string {
  const load = kind === 'esm' ? 'await import(s)' : 'require(s)';
  const body = `
const out = {};
for (const s of ${JSON.stringify(subpaths.map(specifier))}) {
  try { const m = ${load}; out[s] = Object.keys(m).length > 0 ? 'ok' : 'empty'; }
  catch (e) { out[s] = String(e.code) + ': ' + String(e.message).split('\\n')[0]; }
}
process.stdout.write(JSON.stringify(out));
`;
  return kind === 'esm' ? body : `(async () => {${body}})();`;
}

async function load(app: string, kind: 'esm' | 'cjs'): Promise<Record<string, string>> {
  const file = join(app, kind === 'esm' ? 'load.mjs' : 'load.cjs');
  writeFileSync(file, loaderSource(kind));
  return JSON.parse(await run(process.execPath, [file], app)) as Record<string, string>;
}

/** A peer from the repository's own install, linked into the app (offline, and no second copy of 100 packages). */
function linkFromRepo(app: string, name: string): void {
  const target = join(app, 'node_modules', name);
  if (existsSync(target) || !existsSync(join(root, 'node_modules', name))) return;
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(join(root, 'node_modules', name), target, 'dir');
}

/** tsc --noEmit over an .mts and a .cts importing `subs`; its output ('' when clean). */
async function typecheck(app: string, name: string, subs: readonly string[]): Promise<string> {
  const imports = subs.map((s, i) => `import * as m${i} from '${specifier(s)}';`).join('\n');
  const uses = `export const loaded: readonly object[] = [${subs.map((_, i) => `m${i}`).join(', ')}];`;
  const usage = `
import { ConcurrencyGate, RejectedError } from 'sluice';
import type { Admission } from 'sluice/core';
const gate = new ConcurrencyGate({ limit: 1, maxQueue: 0 });
export const first: Promise<Admission> = Promise.resolve(gate.admit());
export const isRefusal = (e: unknown): boolean => e instanceof RejectedError;
`;
  writeFileSync(join(app, `${name}.mts`), `${imports}\n${uses}\n${usage}`);
  writeFileSync(join(app, `${name}.cts`), `${imports}\n${uses}\n${usage}`);
  const config = `tsconfig.${name}.json`;
  writeFileSync(
    join(app, config),
    JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, noEmit: true, types: ['node'] }, files: [`${name}.mts`, `${name}.cts`] }),
  );
  try {
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', config], app);
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

describe.runIf(existsSync(join(root, 'dist/index.js')))('the packed tarball in a fresh app', () => {
  let work: string;
  /** The tarball installed, no peer (only @types/node, for the type-check, after `installed` is read). */
  let app: string;
  /** A copy of `app` with every peer linked in. */
  let full: string;
  let packed: { filename: string; files: { path: string }[] };
  let installed: string[];
  let libraryTypes: Promise<string>;
  let allTypes: Promise<string>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sluice-pack-'));
    packed = (JSON.parse(await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root)) as (typeof packed)[])[0]!;
    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, packed.filename)], app);
    installed = readdirSync(join(app, 'node_modules')).filter((d) => !d.startsWith('.'));
    full = join(work, 'full');
    cpSync(app, full, { recursive: true, verbatimSymlinks: true });
    linkFromRepo(app, '@types/node');
    for (const peer of [...Object.keys(pkg.peerDependencies), '@types/node']) linkFromRepo(full, peer);
    const library = subpaths.filter((s) => PEER_OF[s] === undefined && !['./express', './fastify', './gateway', './dashboard'].includes(s));
    libraryTypes = typecheck(app, 'lib', library);
    allTypes = typecheck(full, 'all', subpaths);
  }, 5 * MINUTE);

  afterAll(async () => {
    await Promise.allSettled([libraryTypes, allTypes]);
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  }, 5 * MINUTE);

  it('packs the build, the CLI shim, README and LICENSE; no sources, no source maps', () => {
    expect(pkg.scripts.prepack).toBe('npm run build');
    const files = packed.files.map((f) => f.path);
    for (const f of ['LICENSE', 'README.md', 'package.json', 'bin/sluice.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cjs-types/index.d.ts', 'dist/cjs-types/package.json', 'dist/cli/main.js']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('installs nothing but sluice: the library has no dependencies', () => {
    expect(installed).toEqual(['sluice']);
  });

  it('loads every library subpath with no peer installed; an adapter names its missing peer', async () => {
    for (const kind of ['esm', 'cjs'] as const) {
      const result = await load(app, kind);
      for (const sub of subpaths) {
        const peer = PEER_OF[sub];
        if (peer === undefined) expect([sub, kind, result[specifier(sub)]]).toEqual([sub, kind, 'ok']);
        else expect(result[specifier(sub)]).toMatch(new RegExp(`^(ERR_MODULE_NOT_FOUND|MODULE_NOT_FOUND): .*${peer.replace('/', '\\/')}`));
      }
    }
  }, 2 * MINUTE);

  it('without its peers the gateway says which package is missing and how to install it', async () => {
    const script = `
import { quickConfig, startGateway, MissingDependencyError } from 'sluice/gateway';
try { const g = await startGateway(quickConfig({ upstream: 'http://127.0.0.1:9', port: 0, adminPort: false })); await g.close(); console.log('{"started":true}'); }
catch (e) { console.log(JSON.stringify({ code: e.code, dependency: e.dependency, isMissing: e instanceof MissingDependencyError, message: e.message })); }
`;
    writeFileSync(join(app, 'gateway.mjs'), script);
    const answer = JSON.parse(await run(process.execPath, [join(app, 'gateway.mjs')], app)) as Record<string, unknown>;
    expect(answer).toMatchObject({ code: 'SLUICE_ERR_MISSING_DEPENDENCY', isMissing: true });
    expect(answer.message).toMatch(/^the sluice gateway needs the package "(ajv|undici|yaml)", which is not installed: npm install ajv undici yaml$/);
    // The command line: exit 2 with the same sentence.
    const cli = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(join(app, 'node_modules/.bin/sluice'), ['gateway', '--upstream', 'http://127.0.0.1:9', '--port', '0'], { cwd: app, timeout: MINUTE }, (err, _stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr });
      });
    });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/the sluice gateway needs the package "(ajv|undici|yaml)", which is not installed: npm install ajv undici yaml/);
  }, 2 * MINUTE);

  it('type-checks the library subpaths with no peer installed (module node16, strict)', async () => {
    expect(await libraryTypes).toBe('');
  }, 3 * MINUTE);

  it('loads every subpath from ESM and from CommonJS once the peers are installed', async () => {
    for (const kind of ['esm', 'cjs'] as const) {
      const result = await load(full, kind);
      expect(Object.entries(result).filter(([, v]) => v !== 'ok')).toEqual([]);
      expect(Object.keys(result)).toHaveLength(subpaths.length);
    }
  }, 2 * MINUTE);

  it('type-checks every subpath with module node16 and strict, from an ES module and from CommonJS', async () => {
    expect(await allTypes).toBe('');
  }, 3 * MINUTE);

  it('runs the sluice command from the build', async () => {
    const bin = join(app, 'node_modules/.bin/sluice');
    expect(readdirSync(join(app, 'node_modules/sluice'))).not.toContain('src');
    expect(await run(bin, ['--help'], app)).toMatch(/^Usage: sluice <command>/);
  });
});
