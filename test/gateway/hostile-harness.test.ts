// The hostile probes' own command (scripts/hostile/run.mjs): `--help` printed a stack trace
// (ERR_PARSE_ARGS_UNKNOWN_OPTION) until hostile-27; it prints the usage and exits 0, starting
// nothing. An unknown flag is still an error.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { root } from './helpers.js';

const run = (...args: string[]) => spawnSync(process.execPath, ['scripts/hostile/run.mjs', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe('scripts/hostile/run.mjs', () => {
  it('--help and -h print the usage and exit 0', () => {
    for (const flag of ['--help', '-h']) {
      const r = run(flag);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^The hostile probes against the built gateway/);
      expect(r.stdout).toContain('[--scenario flags1|flags2|yaml|redis|signals|config|stores|all]');
    }
    expect(run('--nope').status).not.toBe(0);
  });
});
