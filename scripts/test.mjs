// `npm test`: typecheck, lint and build, one after the other (stopping at the first failure),
// then the vitest suite.
//
// The build is `build:unchecked` (tsc --noCheck: the same files, byte for byte, at half the
// CPU): the typecheck step has just checked every source file.
//
// The three steps are not run at once: on this repository's 2-core machine that gained nothing
// when it was idle (63.4 s at once, 64.8 s one after the other) and cost much when it was busy
// (199 s at once, 129 s one after the other, load 6–8): tsc and eslint use more than one core
// at times, and a session's processes share one scheduler slice (Linux autogroups).
//
// Then vitest, told what has just been done: SLUICE_TEST_BUILT=1, the tests that spawn the CLI
// (gateways, the demo) run dist/ instead of the sources through tsx; SLUICE_TEST_TYPECHECKED=1,
// the type tests (test/**/*.test-d.ts, in tsconfig.json) passed the typecheck and vitest does
// not compile them again. Arguments go to vitest (`npm test -- test/rate`). Exit code: the
// first failure's, else vitest's.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const shell = process.platform === 'win32';
const STEPS = ['typecheck', 'lint', 'build:unchecked'];

/** Run `npm run <script>`, then report it: its time, and its output if it failed or said something. */
function step(script) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(npm, ['run', '--silent', script], { cwd: root, shell, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let reported = false;
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const done = (code) => {
      if (reported) return;
      reported = true;
      process.stdout.write(`${script}: ${code === 0 ? 'ok' : `failed (exit ${code})`} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      if (code !== 0 || output.trim() !== '') process.stdout.write(`${output.trimEnd()}\n`);
      resolve(code);
    };
    child.on('error', (err) => ((output += String(err)), done(1)));
    child.on('close', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

for (const s of STEPS) {
  const code = await step(s);
  if (code !== 0) process.exit(code);
}

const vitest = spawn(npm, ['exec', '--', 'vitest', 'run', ...process.argv.slice(2)], { cwd: root, shell, stdio: 'inherit', env: { ...process.env, SLUICE_TEST_BUILT: '1', SLUICE_TEST_TYPECHECKED: '1' } });
vitest.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
