// Every ```yaml block of README.md and docs/*.md, loaded as a user who copies it into a file
// would load it: a `sluice gateway` config through parseConfigText (the YAML reader and the
// validation of `sluice gateway --config`: the schema, the same as docs/sluice.schema.json, then
// every rule), a ```yaml scenario block through the reader of `sluice simulate --scenario`. A
// block must load, unless the next block shows `$ npx sluice gateway --check --config <file>`:
// then it must fail with exactly the errors shown there. ```yaml no-check opts a block out
// (a file of another tool); none of sluice's own configs may use it.
import { describe, expect, it } from 'vitest';
import { formatIssue } from '../../src/gateway/config-error.js';
import { GatewayConfigError, parseConfigText } from '../../src/gateway/index.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { type DocBlock, docFiles, fencedBlocks } from '../doc-blocks.js';

const CHECK_COMMAND = /^\$ npx sluice gateway --check --config (\S+)\n/;

interface YamlCase {
  readonly block: DocBlock;
  /** The errors the doc shows for it, and the file name they show; undefined: it must load. */
  readonly shown: { readonly file: string; readonly lines: readonly string[] } | undefined;
}

function yamlCases(): YamlCase[] {
  return docFiles().flatMap((file) => {
    const blocks = fencedBlocks(file);
    return blocks.flatMap((block, i): YamlCase[] => {
      if (block.lang !== 'yaml' && block.lang !== 'yml') return [];
      const next = blocks[i + 1];
      const m = next?.lang === 'sh' ? CHECK_COMMAND.exec(next.code) : null;
      return [{ block, shown: m === null ? undefined : { file: m[1]!, lines: next!.code.slice(m[0].length).trimEnd().split('\n') } }];
    });
  });
}

/**
 * What loading the block gives: 'ok', or the error's message lines — as the command prints them
 * for a file named `file`, or, without one, each naming the line of the doc.
 */
function load(b: DocBlock, file?: string): 'ok' | string[] {
  try {
    if (b.info.includes('scenario')) parseScenario(b.code, file ?? b.file);
    else parseConfigText(b.code, file ?? b.file);
    return 'ok';
  } catch (err) {
    if (!(err instanceof GatewayConfigError)) throw err;
    return file !== undefined ? err.message.split('\n') : err.issues.map((i) => formatIssue(b.file, { ...i, line: i.line === undefined ? b.line : b.line + i.line }));
  }
}

const cases = yamlCases();

describe('documentation configs load, or fail as the doc says', () => {
  it('finds the gateway configs, the failing one with its errors, and the scenario', () => {
    const checked = cases.filter((c) => !c.block.info.includes('no-check'));
    expect(checked.filter((c) => c.shown === undefined && !c.block.info.includes('scenario')).length).toBeGreaterThanOrEqual(3);
    expect(checked.filter((c) => c.shown !== undefined).length).toBeGreaterThanOrEqual(1);
    expect(checked.filter((c) => c.block.info.includes('scenario')).length).toBeGreaterThanOrEqual(1);
  });

  for (const { block, shown } of cases) {
    if (block.info.includes('no-check')) continue;
    const kind = block.info.includes('scenario') ? 'scenario' : 'gateway config';
    it(`${block.file}:${block.line}: a ${kind} that ${shown === undefined ? 'loads' : `fails as shown (${shown.lines.length} errors)`}`, () => {
      if (shown === undefined) expect(load(block)).toBe('ok');
      else expect(load(block, shown.file)).toEqual(shown.lines);
    });
  }

  it('a failing config is told apart from one that loads (the check can fail)', () => {
    const bad: DocBlock = { file: 'x.md', line: 1, lang: 'yaml', info: [], code: 'upstreams: { app: { url: http://127.0.0.1:3000 } }\nroutes: [{ path: /, policy: nope }]\n' };
    expect(load(bad, 'sluice.yaml')).toEqual([expect.stringMatching(/^sluice\.yaml:2: routes\[0\]\.policy: /)]);
    expect(load(bad)).toEqual([expect.stringMatching(/^x\.md:3: routes\[0\]\.policy: /)]); // the doc's line: fence + 2
    expect(load({ ...bad, info: ['scenario'] }, 'scenario.yaml')).not.toBe('ok');
  });
});
