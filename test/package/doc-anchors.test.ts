// Links between the docs land on a heading: every `[text](#anchor)` and `[text](file.md#anchor)`
// of README.md and docs/*.md names an anchor its target page has, as GitHub (and most
// renderers) make anchors from headings. test/package/shipped-links.test.ts checks the files;
// this checks the part after `#`, which a renamed heading breaks without a word.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docFiles, docsRoot, fencedBlocks } from '../doc-blocks.js';

/** A heading's anchor as GitHub makes it: lower case, markup and punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown text: its headings' (outside fenced blocks), a repeat taking -1, -2, ... */
function anchors(file: string, text: string): Set<string> {
  const fenced = new Set(fencedBlocks(file, text).flatMap((b) => Array.from({ length: b.code.split('\n').length }, (_, i) => b.line + i)));
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [i, line] of text.split('\n').entries()) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m === null || fenced.has(i + 1)) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Links with an anchor to a Markdown page: `[t](#a)` (this page) and `[t](page.md#a)`, with their line. */
function anchorLinks(text: string): { line: number; page: string; anchor: string }[] {
  return [...text.matchAll(/\]\(([^)\s#]*\.md|)#([^)\s]+)\)/g)].map((m) => ({ line: text.slice(0, m.index).split('\n').length, page: m[1]!, anchor: decodeURIComponent(m[2]!) }));
}

describe('anchors of links between the docs', () => {
  it('slug and anchors make what GitHub makes', () => {
    expect(slug('Every host: a shared store')).toBe('every-host-a-shared-store');
    expect(slug('HTTP admission: node:http, Express, Fastify')).toBe('http-admission-nodehttp-express-fastify');
    expect(slug('Circuit breaker, retry, retry budget, adaptive throttling')).toBe('circuit-breaker-retry-retry-budget-adaptive-throttling');
    expect(slug('The demo: `npm start`')).toBe('the-demo-npm-start');
    expect(slug('Closed loop: a retry storm (issue 9, open)')).toBe('closed-loop-a-retry-storm-issue-9-open');
    const text = '# A\n## Usage\n```sh\n# not a heading\n```\n## Usage\n';
    expect([...anchors('x.md', text)]).toEqual(['a', 'usage', 'usage-1']);
    expect(anchorLinks('see [a](#x-y) and [b](redis.md#key-layout), not [c](https://e.org/#z)')).toEqual([
      { line: 1, page: '', anchor: 'x-y' },
      { line: 1, page: 'redis.md', anchor: 'key-layout' },
    ]);
  });

  it('every anchor a doc links to is a heading of its page', () => {
    const files = docFiles();
    const pages = new Map(files.map((f) => [f, anchors(f, readFileSync(`${docsRoot}${f}`, 'utf8'))]));
    const links = files.flatMap((file) =>
      anchorLinks(readFileSync(`${docsRoot}${file}`, 'utf8')).map((l) => ({ at: `${file}:${l.line}`, page: l.page === '' ? file : posix.normalize(posix.join(posix.dirname(file), l.page)), anchor: l.anchor })),
    );
    expect(links.length).toBeGreaterThan(30);
    expect(links.filter((l) => !pages.get(l.page)?.has(l.anchor)).map((l) => `${l.at}: ${l.page}#${l.anchor}`)).toEqual([]);
  });
});
