// Every ```ts / ```typescript / ```js block of README.md and docs/*.md is type-checked here, in
// one TypeScript program, as a user's file would be: `sluice` and `sluice/<subpath>` resolve
// through package.json's exports map (each subpath's `types` file, dist/<x>/index.d.ts, read
// from the source it is built from, src/<x>/index.ts, so no build is needed), a subpath the map
// does not export does not resolve, and the options are the repository's tsconfig.json
// (strict, exactOptionalPropertyTypes, verbatimModuleSyntax, NodeNext). test/readme.test.ts runs
// the same blocks but does not type-check them (vitest strips types), and skips `// no-run` ones.
//
// Opt-out: ```ts no-check, for a block that is deliberately partial (a fragment of a larger
// program). Such a block must still fail to compile: once it compiles, the mark is stale and
// this test asks for it to go. Never use it to hide a broken example: fix the example.
import { existsSync, readFileSync } from 'node:fs';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { CODE_LANGS, type DocBlock, docBlocks, docsRoot, isJavaScript } from '../doc-blocks.js';

const root = docsRoot;
/** Where the blocks live while checked: they exist only in the compiler host, never on disk. */
const virtualDir = `${root}test/.doc-snippets/`;

interface ExportEntry {
  readonly import?: { readonly types?: string };
}

/** `sluice/<subpath>` → the source of the types file the exports map names for it. */
function exportPaths(): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { name: string; exports: Record<string, ExportEntry | string> };
  const paths: Record<string, string[]> = {};
  for (const [sub, entry] of Object.entries(pkg.exports)) {
    if (sub === './package.json') continue;
    const types = typeof entry === 'string' ? undefined : entry.import?.types;
    if (types === undefined || !/^\.\/dist\/.+\.d\.ts$/.test(types)) throw new Error(`exports["${sub}"]: expected import.types ./dist/….d.ts, found ${String(types)}`);
    const source = `${root}src/${types.slice('./dist/'.length, -'.d.ts'.length)}.ts`;
    if (!existsSync(source)) throw new Error(`exports["${sub}"]: ${types} is built from ${source}, which does not exist`);
    paths[sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`] = [source];
  }
  return paths;
}

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(`${root}tsconfig.json`, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (parsed === undefined) throw new Error('tsconfig.json: not read');
  return { ...parsed.options, noEmit: true, declaration: false, sourceMap: false, allowJs: true, checkJs: true, paths: exportPaths() };
}

const virtualName = (b: DocBlock): string => `${virtualDir}${b.file.replace(/[/.]/g, '_')}_${b.line}.${isJavaScript(b) ? 'mjs' : 'ts'}`;

/**
 * Two blocks that must fail, checked in the same program: they show that a wrong option name
 * is caught (so `sluice/...` resolved to its real types, not to `any`) and that a subpath
 * outside the exports map does not resolve.
 */
const CANARIES: Record<string, { code: string; expected: RegExp }> = {
  [`${virtualDir}canary_option.ts`]: {
    code: "import { ConcurrencyGate } from 'sluice/concurrency';\nexport const gate = new ConcurrencyGate({ limt: 10 });\n",
    expected: /'limt' does not exist/,
  },
  [`${virtualDir}canary_internal.ts`]: {
    code: "import { Channel } from 'sluice/queue';\nimport * as entry from 'sluice/discipline/entry';\nexport const used = [Channel, entry];\n",
    expected: /Cannot find module 'sluice\/discipline\/entry'/,
  },
};

/** Each file's diagnostics as `line: message` (line 1-based within the file). */
function check(files: ReadonlyMap<string, string>): { perFile: Map<string, string[]>; global: string[] } {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, language, ...rest) => {
    const text = files.get(f);
    return text === undefined ? getSourceFile.call(host, f, language, ...rest) : ts.createSourceFile(f, text, language, true);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const format = (d: ts.Diagnostic): string => {
    const line = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    return `${line}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  };
  const perFile = new Map<string, string[]>();
  for (const f of files.keys()) {
    const sf = program.getSourceFile(f);
    if (sf === undefined) throw new Error(`${f}: not in the program`);
    perFile.set(f, [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map(format));
  }
  return { perFile, global: [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map(format) };
}

const blocks = docBlocks(CODE_LANGS);

describe('documentation examples type-check against the public types', () => {
  let result: ReturnType<typeof check>;
  // One program for every block: created once (most of the time is reading the types of src/ and the peers).
  beforeAll(() => {
    const files = new Map<string, string>([...blocks.map((b) => [virtualName(b), b.code] as const), ...Object.entries(CANARIES).map(([f, c]) => [f, c.code] as const)]);
    result = check(files);
  }, 120_000);

  it('finds the blocks, and the options and global types are sound', () => {
    expect(blocks.length).toBeGreaterThan(40);
    expect(result.global).toEqual([]);
  });

  it('reports a wrong option name and an unexported subpath (the canaries)', () => {
    for (const [f, c] of Object.entries(CANARIES)) expect(result.perFile.get(f)!.join('\n')).toMatch(c.expected);
  });

  for (const b of blocks) {
    const partial = b.info.includes('no-check');
    it(`${b.file}:${b.line}${partial ? ' (no-check: must still fail)' : ''}`, () => {
      // Messages name the doc's own line: the block's first line is the one after the fence.
      const found = result.perFile.get(virtualName(b))!.map((d) => d.replace(/^(\d+):/, (_, n: string) => `${b.file}:${b.line + Number(n)}:`));
      if (partial) expect(found, 'compiles: remove the no-check mark').not.toEqual([]);
      else expect(found).toEqual([]);
    });
  }
});
