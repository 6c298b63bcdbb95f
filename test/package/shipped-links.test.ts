// The Markdown the package ships (README.md, docs/**) links only to files the package ships:
// what `npm pack` lists (asked of npm itself, scripts skipped so dist/ need not be built). A
// relative link to bench/results/... works on the repository's pages but is a dead link in
// node_modules/sluice and on the registry's page. package.json has no `repository` (there is no
// public address yet; scripts/package/publish-check.mjs stops `npm publish` until there is), so
// such links cannot be made absolute either: they name the path as text instead.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Relative link targets of a Markdown text (`[text](target)`), with their line; not URLs or in-page anchors. */
function relativeLinks(text: string): { line: number; target: string }[] {
  const out: { line: number; target: string }[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z\d+.-]*:/i.test(target) || target.startsWith('#')) continue;
    out.push({ line: text.slice(0, m.index).split('\n').length, target });
  }
  return out;
}

/** Where `target`, linked from the shipped file `from`, points inside the package (no anchor). */
function resolve(from: string, target: string): string {
  return posix.normalize(posix.join(posix.dirname(from), decodeURI(target.split('#')[0]!))).replace(/\/$/, '');
}

describe('links in the shipped Markdown', () => {
  let shipped: readonly string[] = [];
  beforeAll(async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
    shipped = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  }, 60_000);

  it('relativeLinks finds relative targets and leaves URLs and anchors alone', () => {
    const text = 'see [a](docs/a.md#x) and [b](https://example.org/b)\n[c](#here), ![img](../p.png "t")';
    expect(relativeLinks(text)).toEqual([
      { line: 1, target: 'docs/a.md#x' },
      { line: 2, target: '../p.png' },
    ]);
  });

  it('every relative link of README.md and docs/ resolves to a file (or folder) the package ships', () => {
    const markdown = shipped.filter((f) => f.endsWith('.md'));
    expect(markdown).toContain('README.md');
    expect(markdown).toContain('docs/gateway.md');
    const present = new Set(shipped.flatMap((f) => f.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    const dead = markdown.flatMap((file) =>
      relativeLinks(readFileSync(join(root, file), 'utf8'))
        .filter((l) => !present.has(resolve(file, l.target)))
        .map((l) => `${file}:${l.line}: ${l.target}`),
    );
    expect(dead).toEqual([]);
  });
});
