// A figure in the docs names the saved run it comes from (bench/results/...): every such path
// README.md and docs/*.md name is a file of bench/results/, or, written as a pattern
// (`redis-latest.{json,md}`, `pipeline-flood-*.md`, `http-<commit>-<busy|calm>.md`), matches one.
// A renamed or never-committed result leaves its figure without a source.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { docFiles, docsRoot } from '../doc-blocks.js';

/** `a{1,2}b` → `a1b`, `a2b` (one level of braces, as the docs write them). */
function expandBraces(path: string): string[] {
  const m = /\{([^{}]*)\}/.exec(path);
  if (m === null) return [path];
  return m[1]!.split(',').flatMap((alt) => expandBraces(path.slice(0, m.index) + alt + path.slice(m.index + m[0].length)));
}

/** A path of bench/results as a pattern: `*` and a `<placeholder>` stand for any run of characters but `/`. */
function pathPattern(path: string): RegExp {
  const parts = path.split(/(\*|<[^>]*>)/);
  return new RegExp(`^${parts.map((p, i) => (i % 2 === 1 ? '[^/]*' : p.replace(/[.+?^$()|[\]\\]/g, '\\$&'))).join('')}$`);
}

/** The bench/results paths a text names, with their line; a trailing `.` or `,` ends the sentence, not the name. */
function resultPaths(text: string): { line: number; path: string }[] {
  return [...text.matchAll(/bench\/results\/[\w./{},*<>|-]*[\w}*>]/g)].map((m) => ({ line: text.slice(0, m.index).split('\n').length, path: m[0] }));
}

describe('saved runs the docs name', () => {
  it('the helpers read paths and patterns as the docs write them', () => {
    expect(resultPaths('(bench/results/gateway-latest.md, and bench/results/redis-latest.{json,md}).')).toEqual([
      { line: 1, path: 'bench/results/gateway-latest.md' },
      { line: 1, path: 'bench/results/redis-latest.{json,md}' },
    ]);
    expect(expandBraces('r-{a,b}-x.{json,md}')).toEqual(['r-a-x.json', 'r-a-x.md', 'r-b-x.json', 'r-b-x.md']);
    expect(pathPattern('bench/results/http-<commit>-<busy|calm>.md').test('bench/results/http-abc1234-busy.md')).toBe(true);
    expect(pathPattern('bench/results/pipeline-flood-*.md').test('bench/results/pipeline-flood-x.json')).toBe(false);
  });

  it('every bench/results path in README.md and docs/*.md is a saved file, or a pattern one matches', () => {
    const saved = readdirSync(`${docsRoot}bench/results`, { recursive: true, encoding: 'utf8' }).map((f) => `bench/results/${f.replaceAll('\\', '/')}`);
    const named = docFiles().flatMap((file) => resultPaths(readFileSync(`${docsRoot}${file}`, 'utf8')).map((p) => ({ at: `${file}:${p.line}`, path: p.path })));
    expect(named.length).toBeGreaterThan(50);
    const missing = named.filter((n) => !expandBraces(n.path).every((p) => saved.some((f) => pathPattern(p).test(f))));
    expect(missing.map((n) => `${n.at}: ${n.path}`)).toEqual([]);
  });
});
