// `sluice gateway --max-queued N` (server.maxQueued) for a user of flags: a --queue longer than
// server.maxQueued was refused with "raise server.maxQueued", which no flag set — the flag form
// could not have a queue over 10,000 at all. Now --max-queued sets it (validated as the config key
// is: an integer from 0 to 1000000 in decimal digits), and the refusal names the flag.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { flagConfig, parseFlags } from '../../src/cli/gateway-flags.js';
import { InvalidOptionError } from '../../src/core/index.js';
import { quickConfig } from '../../src/gateway/index.js';
import { cliArgv } from '../cli-command.js';

const UP = ['--upstream', 'http://127.0.0.1:33001'];
const config = (...args: string[]) => flagConfig(parseFlags([...UP, ...args]));
const refusal = (...args: string[]): string => {
  try {
    config(...args);
  } catch (err) {
    return (err as Error).message;
  }
  return 'accepted';
};

describe('--max-queued', () => {
  it('a --queue past server.maxQueued is told the flag that raises it', () => {
    const said = refusal('--concurrency', '5', '--queue', '20000');
    expect(said).toMatch(/^--queue \(policies\.<name>\.concurrency\.queue\): expected a queue <= server\.maxQueued \(10000\)/);
    expect(said).toContain('raise --max-queued (server.maxQueued), or shorten the queue');
    expect(refusal('--max-queued', '0', '--concurrency', '5', '--queue', '1')).toContain('raise --max-queued (server.maxQueued), or drop the queue');
  });

  it('sets server.maxQueued, beside --workers', () => {
    const c = config('--max-queued', '30000', '--concurrency', '5', '--queue', '20000', '--workers', '2');
    expect(c.server).toEqual({ workers: 2, maxQueued: 30000 });
    expect(c.policies?.['default']?.concurrency).toMatchObject({ queue: 20000 });
    expect(config('--max-queued', '0').server).toEqual({ maxQueued: 0 });
    expect(config().server).toBeUndefined();
  });

  it.each([['-1'], ['abc'], ['1e3'], ['0x10'], ['1000001'], ['2.5'], ['']])('refuses %j, naming the flag, its key and its range', (v) => {
    expect(refusal('--max-queued', v)).toBe(`--max-queued (server.maxQueued): expected an integer from 0 to 1000000 in decimal digits, received ${v === '' ? '""' : `"${v}"`}`);
  });

  it('quickConfig takes it as maxQueued (and checks it as the config does)', () => {
    expect(quickConfig({ upstream: 'http://127.0.0.1:33001', maxQueued: 7 }).server).toEqual({ maxQueued: 7 });
    expect(() => quickConfig({ upstream: 'http://127.0.0.1:33001', maxQueud: 7 } as never)).toThrow(InvalidOptionError);
    expect(() => quickConfig({ upstream: 'http://127.0.0.1:33001', maxQueud: 7 } as never)).toThrow('(did you mean "maxQueued"?)');
  });

  it('--help lists it', () => {
    const r = spawnSync(process.execPath, cliArgv(['gateway', '--help']), { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toMatch(/--max-queued N +requests waiting for admission at once, all routes together \(default 10000; more: 503\)/);
  });
});
