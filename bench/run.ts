/**
 * `npm run bench` — every suite in one process, peers side by side, ratios printed and saved.
 *
 *   npm run bench                           all suites, saved to bench/results/
 *   npm run bench -- --only concurrency     one suite (comma-separate several: rate,channel)
 *   npm run bench -- --quick                smoke run: small workloads, 3 rounds, not saved
 *   npm run bench -- --rounds 9 --save      more rounds; --save also saves a quick run
 *   npm run bench -- --no-gc                no forced GC before each sample (warm heap)
 *
 * Re-executes itself as `node --expose-gc --import tsx bench/run.ts ...` so the heap can be
 * collected between samples. Extra node flags (e.g. `--cpu-prof`) go in BENCH_NODE_FLAGS.
 */
import { execSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SuiteResult } from './lib/suite.js';

const CHILD = 'SLUICE_BENCH_CHILD';

if (typeof globalThis.gc !== 'function' && process.env[CHILD] !== '1') {
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', ...flags, '--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, [CHILD]: '1' } },
  );
  process.exit(child.status ?? 1);
} else {
  await main();
}

async function main(): Promise<void> {
  const { gitRevision, machineInfo, ownVersion, packageVersion } = await import('./lib/machine.js');
  const { headerMarkdown, suiteMarkdown, save } = await import('./lib/report.js');
  const { allSuites } = await import('./suites/index.js');

  const args = parseArgs(process.argv.slice(2));
  const only = args.only ?? allSuites.map((s) => s.id);
  const unknown = only.filter((id) => !allSuites.some((s) => s.id === id));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; choose from ${allSuites.map((s) => s.id).join(', ')}`);
    process.exit(2);
  }
  const rounds = args.rounds ?? (args.quick ? 3 : 5);
  const warmup = args.quick ? 1 : 2;
  const warmupMs = args.quick ? 200 : 1000;
  const peers = ['p-limit', 'p-queue', 'bottleneck', 'cockatiel', 'opossum', 'rate-limiter-flexible', 'limiter', 'mitata', 'rxjs'];
  const started = performance.now();
  const base = {
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: machineInfo(),
    sluice: { version: ownVersion(), revision: gitRevision((cmd) => execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) },
    peers: Object.fromEntries(peers.map((p) => [p, packageVersion(p)])),
    options: { quick: args.quick, rounds, warmup, warmupMs, forceGc: args.gc, only },
  };
  console.log(headerMarkdown({ ...base, suites: [], seconds: 0 }));

  const results: SuiteResult[] = [];
  for (const suite of allSuites.filter((s) => only.includes(s.id))) {
    console.log(`\n… ${suite.title}`);
    const result = await suite.run({
      quick: args.quick,
      rounds,
      warmup,
      warmupMs,
      forceGc: args.gc,
      log: args.verbose ? (line) => console.log(line) : () => {},
    });
    results.push(result);
    console.log(`\n${suiteMarkdown(result)}`);
  }
  const record = { ...base, suites: results, seconds: (performance.now() - started) / 1000 };
  console.log(`\nTotal ${record.seconds.toFixed(1)} s.`);
  if (!args.quick || args.save) {
    const dir = fileURLToPath(new URL('./results', import.meta.url));
    const paths = save(dir, record);
    console.log(`saved: ${paths.map((p) => p.slice(p.indexOf('bench/'))).join(', ')}`);
  } else {
    console.log('quick run: not saved (add --save to keep it)');
  }
}

interface Args {
  quick: boolean;
  gc: boolean;
  save: boolean;
  verbose: boolean;
  only: string[] | undefined;
  rounds: number | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { quick: false, gc: true, save: false, verbose: false, only: undefined, rounds: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        a.quick = true;
        break;
      case '--no-gc':
        a.gc = false;
        break;
      case '--save':
        a.save = true;
        break;
      case '--verbose':
        a.verbose = true;
        break;
      case '--only':
        a.only = value().split(',');
        break;
      case '--rounds': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new Error('--rounds: expected an integer >= 1');
        a.rounds = n;
        break;
      }
      default:
        throw new Error(`unknown flag ${arg}; flags: --only <suite[,suite]>, --quick, --rounds <n>, --no-gc, --save, --verbose`);
    }
  }
  return a;
}
