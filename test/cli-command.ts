// How tests run the `sluice` command: from dist/ when `npm test` has just built it
// (scripts/test.mjs sets SLUICE_TEST_BUILT=1: a spawn then loads plain JavaScript, about a
// second less per gateway or demo started), else from the sources through tsx — so running
// one file needs no build and never runs a stale one.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Node's arguments for `sluice <args>` (run from the repository root); `nodeArgs` go to node before the script. */
export function cliArgv(args: readonly string[], nodeArgs: readonly string[] = []): string[] {
  return process.env['SLUICE_TEST_BUILT'] === '1' ? [...nodeArgs, join(root, 'dist/cli/main.js'), ...args] : ['--import', 'tsx', ...nodeArgs, 'src/cli/main.ts', ...args];
}

/** Whether a process with this PID is alive (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
