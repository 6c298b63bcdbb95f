// Every ```ts block of README.md and docs/*.md runs here, importing 'sluice/...' as a user
// would (aliased to the source), so the examples cannot rot. Examples state what they show
// with node:assert, so a wrong claim in the docs fails this test. A block starting with
// `// no-run` is skipped (for fragments that need a server); use it sparingly — it is still
// type-checked (test/package/doc-snippets.test.ts). A ```js block runs as an ES module.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CODE_LANGS, docBlocks, docsRoot, isJavaScript } from './doc-blocks.js';

const outDir = `${docsRoot}test/.examples`;
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

describe('documentation examples run', () => {
  // The extracted files are scratch: gone after the run (and ignored by lint and git meanwhile).
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));
  for (const b of docBlocks(CODE_LANGS).filter((x) => !x.code.startsWith('// no-run'))) {
    it(`${b.file}:${b.line}`, async () => {
      const path = `${outDir}/${b.file.replace(/[/.]/g, '_')}_${b.line}.${isJavaScript(b) ? 'mjs' : 'ts'}`;
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
});
