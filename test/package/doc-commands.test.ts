// The shell commands README.md and docs/*.md tell a user to type, held to the repository:
// every `npm run <script>` (and `npm start`, `npm test`) names a script of package.json; every
// package of `npm install sluice <packages>` is one of sluice's (optional) peers; every file
// given to `npx tsx`, `node` or `bash` exists; and every `npx sluice gateway ...` line of a
// ```sh block parses, its flags making a valid config (as the command would judge them).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flagConfig, parseFlags } from '../../src/cli/gateway-flags.js';
import { docFiles, docsRoot, fencedBlocks } from '../doc-blocks.js';

const pkg = JSON.parse(readFileSync(`${docsRoot}package.json`, 'utf8')) as { name: string; scripts: Record<string, string>; peerDependencies: Record<string, string> };
const docs = docFiles().map((file) => ({ file, text: readFileSync(`${docsRoot}${file}`, 'utf8') }));

/** Every match of `re` in the docs, as `file:line` and the match. */
function mentions(re: RegExp): { at: string; match: RegExpExecArray }[] {
  return docs.flatMap(({ file, text }) => [...text.matchAll(re)].map((match) => ({ at: `${file}:${text.slice(0, match.index).split('\n').length}`, match })));
}

/** The npm scripts the docs name. */
function namedScripts(): { at: string; script: string }[] {
  return mentions(/\bnpm (?:run(?:-script)? ([\w:.-]+)|(start|test)\b)/g).map(({ at, match }) => ({ at, script: (match[1] ?? match[2])! }));
}

describe('commands in the docs', () => {
  it('every npm script they name exists', () => {
    const named = namedScripts();
    expect(named.length).toBeGreaterThan(20);
    expect(named.map((n) => n.script)).toContain('bench:gateway');
    expect(named.filter((n) => pkg.scripts[n.script] === undefined).map((n) => `${n.at}: npm run ${n.script}`)).toEqual([]);
  });

  it('every package they install next to sluice is one of its peers', () => {
    const installs = mentions(/\bnpm (?:install|i|add) ((?:[@\w./-]+[ \t]*)+)/g).flatMap(({ at, match }) =>
      match[1]!
        .trim()
        .split(/\s+/)
        .filter((p) => !p.startsWith('-') && p !== pkg.name)
        .map((p) => ({ at, p })),
    );
    expect(installs.map((i) => i.p)).toContain('ioredis');
    expect(installs.filter((i) => pkg.peerDependencies[i.p] === undefined).map((i) => `${i.at}: ${i.p}`)).toEqual([]);
  });

  it('every file they run exists', () => {
    const files = mentions(/\b(?:npx tsx|node|bash)(?: --?[\w-]+)* ((?:bench|bin|examples|scripts|src|test)\/[\w./-]*\w)/g).map(({ at, match }) => ({ at, f: match[1]! }));
    expect(files.map((f) => f.f)).toContain('bench/redis-alloc.ts');
    expect(files.filter((f) => !existsSync(`${docsRoot}${f.f}`)).map((f) => `${f.at}: ${f.f}`)).toEqual([]);
  });

  it('every `npx sluice gateway` line of a shell block parses, its flags a valid config', () => {
    const lines = docs.flatMap(({ file }) =>
      fencedBlocks(file)
        .filter((b) => b.lang === 'sh')
        .flatMap((b) => b.code.split('\n').map((l, i) => ({ at: `${file}:${b.line + 1 + i}`, l: l.replace(/^\$ /, '') })))
        .filter(({ l }) => l.startsWith('npx sluice gateway ')),
    );
    expect(lines.length).toBeGreaterThanOrEqual(8);
    const bad: string[] = [];
    for (const { at, l } of lines) {
      try {
        const flags = parseFlags(l.replace(/\s#.*$/, '').trim().split(/\s+/).slice(3));
        if (!flags.has('config')) flagConfig(flags);
      } catch (err) {
        bad.push(`${at}: ${(err as Error).message}`);
      }
    }
    expect(bad).toEqual([]);
    // The check can fail: a flag the command does not know, a value it refuses.
    expect(() => parseFlags(['--upstream', 'http://127.0.0.1:3000', '--concurrence', '5'])).toThrow(/unknown flag --concurrence/);
    expect(() => flagConfig(parseFlags(['--upstream', 'http://127.0.0.1:3000', '--rate', '2000/s', '--burst', '0']))).toThrow(/--burst/);
  });
});
