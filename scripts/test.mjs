// `npm test`: typecheck, lint and build, then the vitest suite.
//
// The build is `build:unchecked` (tsc --noCheck: the same files, byte for byte, at half the
// CPU), because the typecheck step has just checked every source file; a failed typecheck
// fails the run whatever the build did.
//
// The three steps run at once only on a machine with idle cores (1-minute load average below
// half the cores): each is one single-threaded process, and none reads what another writes.
// On a busy machine they run one after the other, stopping at the first failure: there a
// session's processes share one scheduler slice (Linux autogroups), so running them at once
// only adds contention — on this repository's 2-core machine at load 6–8, serial took 129 s,
// at once 199 s.
//
// Then vitest, told what has just been done: SLUICE_TEST_BUILT=1, the tests that spawn the CLI
// (gateways, the demo) run dist/ instead of the sources through tsx; SLUICE_TEST_TYPECHECKED=1,
// the type tests (test/**/*.test-d.ts, in tsconfig.json) passed the typecheck and vitest does
// not compile them again. Arguments go to vitest (`npm test -- test/rate`). Exit code: the
// first failure's, else vitest's.
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const shell = process.platform === 'win32';
const STEPS = ['typecheck', 'lint', 'build:unchecked'];

/** Run `npm run <script>` with its output held (so that outputs never interleave), then report it. */
function step(script) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(npm, ['run', '--silent', script], { cwd: root, shell, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const done = (code) => {
      process.stdout.write(`${script}: ${code === 0 ? 'ok' : `failed (exit ${code})`} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      if (code !== 0 || output.trim() !== '') process.stdout.write(`${output.trimEnd()}\n`);
      resolve(code);
    };
    child.on('error', (err) => ((output += String(err)), done(1)));
    child.on('close', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

const idle = loadavg()[0] < availableParallelism() / 2;
let failed = 0;
if (idle) {
  failed = (await Promise.all(STEPS.map((s) => step(s)))).find((c) => c !== 0) ?? 0;
} else {
  for (const s of STEPS) if ((failed = await step(s)) !== 0) break;
}
if (failed !== 0) process.exit(failed);

const vitest = spawn(npm, ['exec', '--', 'vitest', 'run', ...process.argv.slice(2)], { cwd: root, shell, stdio: 'inherit', env: { ...process.env, SLUICE_TEST_BUILT: '1', SLUICE_TEST_TYPECHECKED: '1' } });
vitest.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
