// `npm test`: the build, then the vitest suite with, beside it, the typecheck and the lint (one
// after the other, stopping at the first failure). Exit code: the first failure's, in the order
// build, typecheck, lint, vitest.
//
// The build is `build:unchecked` (tsc --noCheck: the same files, byte for byte, at half the
// CPU): the typecheck step checks every source file. It runs first, alone: the tests that spawn
// the CLI (gateways, the demo) and the packed-tarball test run what it writes to dist/.
//
// The typecheck and the lint run beside vitest: the end-to-end tests mostly wait (on spawned
// processes, sockets, timeouts) and leave the CPU idle, which the two take. One after the other
// before the tests, they cost 36–87 s of typecheck and 63–108 s of lint on this repository's busy
// 2-core machine before the first test ran. Not at a lower priority: a CPU hog started beside
// `npm test` in the same shell is in its scheduler group (Linux autogroups), and at nice 10 the
// lint got a tenth of a core against it (2026-12-05). The typecheck and the lint are not run at
// once with each other: that gained nothing when the machine was idle (63.4 s at once, 64.8 s one
// after the other) and cost much when it was busy (199 s at once, 129 s one after the other).
//
// Vitest is told what is done: SLUICE_TEST_BUILT=1, the tests that spawn the CLI run dist/
// instead of the sources through tsx; SLUICE_TEST_TYPECHECKED=1, the type tests
// (test/**/*.test-d.ts, in tsconfig.json) are compiled by the typecheck step and vitest does not
// compile them again. Arguments go to vitest (`npm test -- test/rate`).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const shell = process.platform === 'win32';
/** The steps beside vitest, in order; the first that fails ends the chain. */
const BESIDE = ['typecheck', 'lint'];
/** Each step's summary line and exit code, in the order they ended. */
const results = new Map();

/** Run `npm run <script>`, then report it: its time, and its output if it failed or said something. */
function step(script, note = '') {
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
      const line = `${script}: ${code === 0 ? 'ok' : `failed (exit ${code})`} in ${((performance.now() - started) / 1000).toFixed(1)} s${note}`;
      results.set(script, { code, line });
      process.stdout.write(`${line}\n`);
      if (code !== 0 || output.trim() !== '') process.stdout.write(`${output.trimEnd()}\n`);
      resolve(code);
    };
    child.on('error', (err) => ((output += String(err)), done(1)));
    child.on('close', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

const built = await step('build:unchecked');
if (built !== 0) process.exit(built);

const beside = (async () => {
  for (const s of BESIDE) if ((await step(s, ' (beside the tests)')) !== 0) return;
})();

const started = performance.now();
const vitestCode = await new Promise((resolve) => {
  const vitest = spawn(npm, ['exec', '--', 'vitest', 'run', ...process.argv.slice(2)], { cwd: root, shell, stdio: 'inherit', env: { ...process.env, SLUICE_TEST_BUILT: '1', SLUICE_TEST_TYPECHECKED: '1' } });
  vitest.on('error', () => resolve(1));
  vitest.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});
const vitestLine = `vitest: ${vitestCode === 0 ? 'ok' : `failed (exit ${vitestCode})`} in ${((performance.now() - started) / 1000).toFixed(1)} s`;
const pending = BESIDE.filter((s) => !results.has(s));
if (pending.length > 0 && [...results.values()].every((r) => r.code === 0)) process.stdout.write(`${vitestLine}; waiting for ${pending.join(', ')}\n`);
await beside;

// Every step's line again, after vitest's summary: a typecheck or lint failure is not lost in its output.
for (const { line } of results.values()) process.stdout.write(`${line}\n`);
process.stdout.write(`${vitestLine}\n`);
const failed = [...results.values()].find((r) => r.code !== 0);
process.exit(failed?.code ?? vitestCode);
