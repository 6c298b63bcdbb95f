// The fenced blocks of README.md and docs/*.md, for the tests that hold the docs to the code:
// test/readme.test.ts runs the TypeScript ones, test/package/doc-snippets.test.ts type-checks
// them, test/package/doc-configs.test.ts loads the YAML ones, test/package/doc-commands.test.ts
// checks the shell commands.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const docsRoot = fileURLToPath(new URL('..', import.meta.url));

export interface DocBlock {
  /** `README.md` or `docs/<name>.md`. */
  readonly file: string;
  /** The line of the opening fence (1-based). */
  readonly line: number;
  /** The fence's language: ```ts → `ts`. */
  readonly lang: string;
  /** The words after the language in the fence: ```ts no-check → ['no-check']. */
  readonly info: readonly string[];
  /** The lines between the fences, each ending in a newline. */
  readonly code: string;
}

/** README.md and every docs/*.md (not the subfolders: they hold data files). */
export function docFiles(): string[] {
  return ['README.md', ...readdirSync(`${docsRoot}docs`).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

/** Every fenced block of `file`, in order; a fence left open is an error (it would hide the rest of the page). */
export function fencedBlocks(file: string, text = readFileSync(`${docsRoot}${file}`, 'utf8')): DocBlock[] {
  const blocks: DocBlock[] = [];
  let open: { line: number; lang: string; info: string[]; lines: string[] } | undefined;
  for (const [i, line] of text.split('\n').entries()) {
    if (open === undefined) {
      const m = /^```(.*)$/.exec(line);
      if (m === null) continue;
      const [lang = '', ...info] = m[1]!.trim().split(/\s+/).filter((w) => w !== '');
      open = { line: i + 1, lang, info, lines: [] };
    } else if (/^```\s*$/.test(line)) {
      blocks.push({ file, line: open.line, lang: open.lang, info: open.info, code: open.lines.map((l) => `${l}\n`).join('') });
      open = undefined;
    } else {
      open.lines.push(line);
    }
  }
  if (open !== undefined) throw new Error(`${file}:${open.line}: a fence left open`);
  return blocks;
}

/** The blocks of every doc file whose language is one of `langs`. */
export function docBlocks(langs: readonly string[]): DocBlock[] {
  return docFiles().flatMap((f) => fencedBlocks(f).filter((b) => langs.includes(b.lang)));
}

/** Languages of TypeScript and JavaScript blocks, and whether the block is JavaScript. */
export const CODE_LANGS = ['ts', 'typescript', 'js', 'javascript'] as const;
export const isJavaScript = (b: DocBlock): boolean => b.lang === 'js' || b.lang === 'javascript';
