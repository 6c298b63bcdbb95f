/**
 * The gateway as a user runs it (issue 9): its build, dist/, in a plain Node process — not the
 * TypeScript source through tsx, whose esbuild transform wraps every function it defines in
 * `__name` (0.8% of the gateway's CPU in the closed loop: bench/results/perf9b-closed-2000-035f4dd-busy.md).
 * The bench forks `<tree>/dist/demo/server-process.js` (the demo's own server process) with a
 * gateway spec, for this checkout and for `--baseline`'s. A tree whose dist/ is missing or
 * older than its src/ is built first (`npm run build`), with a line starting `!!`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface Stamped {
  /** Relative to its root (src/ or dist/), `/`-separated. */
  readonly path: string;
  readonly mtimeMs: number;
}

/**
 * Why a build is stale, or undefined when it is not: `src` the source files (.ts, no .d.ts) and
 * the build's config files, `dist` the build's .js files (undefined: no dist/). Stale when dist/
 * is missing, a source has no .js, or a source (or config) was changed after the oldest .js was
 * written (a build empties dist/ first: its oldest file is when it started writing).
 */
export function staleReason(src: readonly Stamped[], dist: readonly Stamped[] | undefined): string | undefined {
  if (dist === undefined || dist.length === 0) return 'no dist/';
  const built = new Set(dist.map((f) => f.path));
  const missing = src.find((f) => f.path.endsWith('.ts') && !built.has(f.path.replace(/\.ts$/, '.js')));
  if (missing !== undefined) return `src/${missing.path} has no dist/${missing.path.replace(/\.ts$/, '.js')}`;
  const oldest = Math.min(...dist.map((f) => f.mtimeMs));
  const newer = src.filter((f) => f.mtimeMs > oldest);
  if (newer.length === 0) return undefined;
  const newest = newer.reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
  return `${newer.length} source file(s) changed after dist/ was built (newest: ${newest.path}, ${((newest.mtimeMs - oldest) / 1000).toFixed(0)} s after)`;
}

function walk(root: string, keep: (name: string) => boolean): Stamped[] {
  const out: Stamped[] = [];
  const visit = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) visit(full);
      else if (e.isFile() && keep(e.name)) out.push({ path: relative(root, full).split('\\').join('/'), mtimeMs: statSync(full).mtimeMs });
    }
  };
  visit(root);
  return out;
}

/** The stamps staleReason reads, from a checkout on disk (the config files count as sources at the root). */
export function treeStamps(tree: string): { src: Stamped[]; dist: Stamped[] | undefined } {
  const src = walk(join(tree, 'src'), (n) => n.endsWith('.ts') && !n.endsWith('.d.ts'));
  for (const config of ['tsconfig.json', 'tsconfig.build.json']) {
    const p = join(tree, config);
    if (existsSync(p)) src.push({ path: `../${config}`, mtimeMs: statSync(p).mtimeMs });
  }
  const distDir = join(tree, 'dist');
  // cjs-types/ holds declarations only; the .js files are the build.
  const dist = existsSync(distDir) ? walk(distDir, (n) => n.endsWith('.js')).filter((f) => !f.path.startsWith('cjs-types/')) : undefined;
  return { src, dist };
}

/** The built server process the bench forks for a gateway of `tree`. */
export const builtServerProcess = (tree: string): string => join(tree, 'dist/demo/server-process.js');

/**
 * The checkouts whose gateway the run starts: `own` when a sluice row runs (every row without
 * --only; the open loop's overhead pair always has one), `baseline` when an `@baseline` row does.
 */
export function treesToBuild(own: string, o: { readonly only: readonly string[] | undefined; readonly baseline: string | undefined; readonly overhead: boolean }): string[] {
  const sluice = (n: string): boolean => n.startsWith('sluice');
  const trees = o.overhead || o.only === undefined || o.only.some((n) => sluice(n) && !n.endsWith(' @baseline')) ? [own] : [];
  if (o.baseline !== undefined && (o.only === undefined || o.only.some((n) => sluice(n) && n.endsWith(' @baseline')))) trees.push(o.baseline);
  return trees;
}

/** Builds `tree` (npm run build) when its dist/ is stale, loudly; throws when the build fails. */
export function ensureBuilt(tree: string, log: (line: string) => void = console.log): void {
  const { src, dist } = treeStamps(tree);
  const reason = staleReason(src, dist);
  if (reason === undefined) return;
  log(`!! ${tree}: building the package (npm run build) — the bench runs the gateway from dist/, and ${reason}`);
  const r = spawnSync('npm', ['run', 'build'], { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${tree}: npm run build failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}); the bench runs the gateway from dist/ — fix the build or run it there`);
  if (!existsSync(builtServerProcess(tree))) throw new Error(`${tree}: npm run build left no ${builtServerProcess(tree)} (a checkout from before src/demo/server-process.ts?)`);
  log(`!! ${tree}: built`);
}
