// `npm run example:streams` runs and accounts for every event (a short run: one second).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('example:streams', () => {
  it('prints a line per second and accounts for every event: delivered + dropped + in flight = offered', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/streams-overload.ts', '--seconds', '1', '--capacity', '200'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/producer 10,000\/s, consumer 5,000\/s, buffers of 200, 1 s/);
    expect(lines.some((l) => /^\s+1 \|/.test(l))).toBe(true);
    expect(out).toMatch(/hot: +[\d,]+ offered = [\d,]+ delivered \+ [\d,]+ dropped \(counted, drop-oldest\) \+ [\d,]+ in flight at the end\n/);
    expect(out).not.toMatch(/unaccounted/);
    expect(out).toMatch(/cold: ([\d,]+) produced, \1 delivered, nothing dropped/);
  });

  it('refuses a bad flag with the option template', () => {
    expect(() => execFileSync(process.execPath, ['--import', 'tsx', 'examples/streams-overload.ts', '--seconds', '0'], { cwd: root, encoding: 'utf8', stdio: 'pipe', timeout: 60_000 })).toThrow(/--seconds: expected an integer >= 1, received 0/);
  });
});
