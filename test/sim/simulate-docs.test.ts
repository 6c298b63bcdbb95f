// docs/simulate.md prints two tables of `sluice simulate` and says they are the same on any
// machine (the clock is virtual, seed 1): each is checked here against the command's output, so
// a change to the engine or the policies that moves a figure has to update the page. (The
// rehearsal table had drifted: written at 0050ab5, its fixed column no longer matched.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { simulateCommand } from '../../src/cli/simulate.js';
import { root } from '../gateway/helpers.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** The docs' fenced block whose first line holds `header` (the labels of the policies), trimmed. */
function documented(header: string): string {
  const doc = readFileSync(join(root, 'docs/simulate.md'), 'utf8');
  const blocks: string[] = [];
  let open: string[] | undefined;
  for (const line of doc.split('\n')) {
    if (line.startsWith('```')) {
      if (open === undefined) {
        open = [];
      } else {
        blocks.push(open.join('\n'));
        open = undefined;
      }
    } else open?.push(line);
  }
  const block = blocks.find((b) => b.split('\n')[0]!.includes(header));
  if (block === undefined) throw new Error(`no table headed ${header} in docs/simulate.md`);
  return block.trimEnd();
}

/** The table the command prints: from the line of its header to the end, trailing spaces trimmed. */
async function printed(scenario: string, policies: string, names: readonly string[]): Promise<string> {
  const out = new Sink();
  const err = new Sink();
  const args = ['--scenario', join(root, 'docs/scenarios', scenario), ...names.flatMap((n) => ['--policy', `${join(root, 'docs/scenarios', policies)}#${n}`])];
  expect(await simulateCommand(args, out, err)).toBe(0);
  expect(err.text).toBe('');
  const lines = out.text.split('\n').map((l) => l.trimEnd());
  const start = lines.findIndex((l) => l.includes(`${policies}#${names[0]!}`));
  return lines.slice(start).join('\n').trimEnd();
}

describe('docs/simulate.md: the tables are the command\'s output', { timeout: 120_000 }, () => {
  it('the rehearsal: policies.yaml#fixed against #adaptive', async () => {
    expect(await printed('rehearsal.yaml', 'policies.yaml', ['fixed', 'adaptive'])).toBe(documented('policies.yaml#fixed'));
  });

  it('the game day: game-day-policies.yaml#bare against #guarded', async () => {
    expect(await printed('game-day.yaml', 'game-day-policies.yaml', ['bare', 'guarded'])).toBe(documented('game-day-policies.yaml#bare'));
  });
});
