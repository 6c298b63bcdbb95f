import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { commandFlags } from '../../src/cli/args.js';
import { demoCommand } from '../../src/cli/demo.js';
import { simAdaptiveCommand } from '../../src/cli/sim-adaptive.js';
import { simResilienceCommand } from '../../src/cli/sim-resilience.js';
import { simulateCommand } from '../../src/cli/simulate.js';
import { strategiesCommand } from '../../src/cli/strategies.js';

/** A stream that keeps what is written to it, as `text`. */
function sink(): Writable & { text: string } {
  const w = Object.assign(new Writable({ write: (chunk: Buffer, _enc, cb) => ((w.text += chunk.toString()), cb()) }), { text: '' });
  return w;
}

describe('commandFlags', () => {
  it('reads value flags, repeated list flags and --json', () => {
    const out = sink();
    const v = commandFlags(['--a', '1', '--list', 'x', '--list', 'y', '--json'], 'HELP', out, ['a', 'b'], ['list']);
    expect(v).toEqual({ a: '1', list: ['x', 'y'], json: true, help: false });
    expect(v?.b).toBeUndefined();
    expect(commandFlags([], 'HELP', out, ['a'])?.json).toBe(false);
    expect(out.text).toBe('');
  });

  it('writes the help and answers undefined for -h and --help', () => {
    for (const flag of ['-h', '--help']) {
      const out = sink();
      expect(commandFlags([flag], 'HELP', out, ['a'])).toBeUndefined();
      expect(out.text).toBe('HELP');
    }
  });

  it('refuses an unknown flag, a positional argument and a value flag without its value', () => {
    const out = sink();
    expect(() => commandFlags(['--nope'], 'HELP', out, ['a'])).toThrow(/--nope/);
    expect(() => commandFlags(['stray'], 'HELP', out, ['a'])).toThrow(/stray/);
    expect(() => commandFlags(['--a'], 'HELP', out, ['a'])).toThrow(/--a/);
  });

  it('a flag given twice is refused, naming it and both values (node:util kept the last without a word); a list flag may repeat', () => {
    const out = sink();
    expect(() => commandFlags(['--a', '1s', '--a', '2s'], 'HELP', out, ['a'])).toThrow('--a: expected it once, received "1s" and "2s"');
    expect(() => commandFlags(['--a=1', '--a', '1'], 'HELP', out, ['a'])).toThrow('--a: expected it once, received "1" and "1"');
    expect(() => commandFlags(['--json', '--json'], 'HELP', out, ['a'])).toThrow('--json: expected it once, given 2 times');
    expect(() => commandFlags(['-h', '--help'], 'HELP', out, ['a'])).toThrow('--help: expected it once, given 2 times');
    expect(commandFlags(['--list', 'x', '--list', 'x'], 'HELP', out, ['a'], ['list'])?.list).toEqual(['x', 'x']);
    expect(out.text).toBe('');
  });

  it('every command prints its own help and exits 0, and refuses an unknown flag', async () => {
    const commands: [string, (argv: string[], out: NodeJS.WritableStream) => number | Promise<number>][] = [
      ['demo', demoCommand],
      ['sim-adaptive', simAdaptiveCommand],
      ['sim-resilience', simResilienceCommand],
      ['simulate', simulateCommand],
      ['strategies', strategiesCommand],
    ];
    for (const [name, command] of commands) {
      const out = sink();
      expect(await command(['--help'], out)).toBe(0);
      expect(out.text).toMatch(new RegExp(`^Usage: sluice ${name} `));
      await expect(async () => command(['--nope'], sink())).rejects.toThrow(/--nope/);
    }
  });

  it('a duration or number with spaces around it is refused, naming the flag and the value as given (one rule, as in a config file)', async () => {
    // Until session 18 durations were trimmed and numbers read through Number(), which skips spaces: both were taken.
    const cases: [(argv: string[], out: NodeJS.WritableStream) => number | Promise<number>, string, string, string][] = [
      [simAdaptiveCommand, 'phase', ' 2s ', 'expected a duration from 1s to 1h'],
      [simAdaptiveCommand, 'capacity', ' 50', 'expected a number >= 1'],
      [simResilienceCommand, 'latency', '\t5ms', 'expected a duration from 0ms to 1m'],
      [demoCommand, 'concurrency', '5 ', 'expected an integer >= 1'],
      [demoCommand, 'duration', '1s\n', 'expected a duration from 100ms to 10m'],
    ];
    for (const [command, flag, value, expected] of cases) {
      await expect(async () => command([`--${flag}`, value], sink()), flag).rejects.toThrow(`--${flag}: ${expected}`);
      await expect(async () => command([`--${flag}`, value], sink()), flag).rejects.toThrow(`received ${JSON.stringify(value)}`);
    }
  });
});
