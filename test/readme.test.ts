// Every ```ts block of README.md and docs/*.md runs here, importing 'sluice/...' as a user
// would (aliased to the source), so the examples cannot rot. Examples state what they show
// with node:assert, so a wrong claim in the docs fails this test. A block starting with
// `// no-run` is skipped (for fragments that need a server); use it sparingly.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}test/.examples`;

function blocks(file: string): { name: string; code: string }[] {
  const text = readFileSync(`${root}${file}`, 'utf8');
  const found: { name: string; code: string }[] = [];
  const re = /```ts\n([\s\S]*?)```/g;
  for (let m = re.exec(text), i = 1; m !== null; m = re.exec(text), i++) {
    const code = m[1]!;
    const line = text.slice(0, m.index).split('\n').length;
    if (!code.startsWith('// no-run')) found.push({ name: `${file}:${line}`, code });
  }
  return found;
}

const files = ['README.md', ...readdirSync(`${root}docs`).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

describe('documentation examples run', () => {
  // The extracted files are scratch: gone after the run (and ignored by lint and git meanwhile).
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));
  for (const file of files) {
    for (const [i, b] of blocks(file).entries()) {
      it(b.name, async () => {
        const path = `${outDir}/${file.replace(/[/.]/g, '_')}_${i}.ts`;
        writeFileSync(path, b.code);
        const original = console.log;
        console.log = () => undefined;
        try {
          await expect(import(/* @vite-ignore */ pathToFileURL(path).href)).resolves.toBeDefined();
        } finally {
          console.log = original;
        }
      });
    }
  }
});
