import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

/**
 * Tests that put real load through real servers and processes (spawned gateways, the demo, a
 * browser, brokers, Redis): they run after the unit tests, a file in each fork at a time (two
 * at once on a 2-core machine), since they mostly wait (on a spawned process, a timeout, a socket). They assert behaviour
 * (statuses, counts, headers, order) with generous bounds that hold on a busy machine; speed and
 * latency figures belong to the benchmarks. Files that run side by side share nothing but the
 * machine: free ports, their own temp dirs, Redis keys and broker queues named by unique(), servers
 * of their own where a test stops or flushes one. A file of those folders that starts nothing
 * (pure functions, the virtual clock) is named in its !(...) and runs with the unit tests.
 */
export const e2eFiles = [
  'test/demo/!(report).test.ts',
  'test/gateway/!(canonical-path|forward-headers|peers|read-rate).test.ts',
  'test/http-client/!(pacer|pacer-shared-signal|rate-limit-headers).test.ts',
  'test/http/{express,fastify,node}.test.ts',
  'test/dashboard/browser.test.ts',
  'test/brokers/!(adapter-option-values|consumer-scaling|kafka-fetch-budget|options|throttle).test.ts',
  // proofs.test.ts (a minute of real processes) runs in `npm run test:brokers`.
  'test/redis/!(proofs).test.ts',
  'test/package/pack.test.ts',
  'test/streams/example.test.ts',
  'test/bench/{accept-queue,own-redis,redis-remote-keys}.test.ts',
  'test/readme.test.ts',
];

/**
 * End-to-end files whose assertions need the load they offer to be served (a share of a rate
 * reached): they run last, one at a time, with no other test file beside them.
 */
export const aloneFiles = ['test/gateway/workers-rate.test.ts'];

export default defineConfig({
  resolve: {
    // README and docs examples import 'sluice/...' as a user would; run them against the source.
    alias: [
      { find: /^sluice$/, replacement: src('index.ts') },
      // sluice/core is the public part of the core (the exports map's ./core), not its internal barrel.
      { find: /^sluice\/core$/, replacement: src('core/public.ts') },
      { find: /^sluice\/(queue|rate|concurrency|compose|limit|pressure|breaker|retry|prometheus|otel|http|express|fastify|gateway|streams|brokers|rabbitmq|jetstream|redis-streams|redis|kafka|sqs|dashboard)$/, replacement: src('$1/index.ts') },
      { find: /^sluice\/client$/, replacement: src('http-client/index.ts') },
    ],
  },
  test: {
    testTimeout: 20_000,
    pool: 'forks',
    // Vitest's default is one fork fewer than the cores: on this repository's 2-core machine, one
    // fork, so the unit files ran one after another, each in a new process (a second or so of
    // start and imports per file, 97 files). Two forks on 2 cores: the unit phase took 96 s
    // instead of 221 s, same host and load (8, 19:10–19:15 UTC). The e2e files run in these forks
    // too, after the unit files: at most 4, so a many-core machine does not run a dozen files of
    // spawned gateways and load generators at once.
    maxWorkers: Math.min(4, Math.max(2, availableParallelism() - 1)),
    // The unit files share their two forks (isolate: false): a fork per file cost a process start
    // and vitest's own imports each time, 124 times. The unit project on the busy 2-core host
    // (load 8–10, 2026-12-04): 146 s and 80 CPU-seconds isolated, 56–86 s and 43 CPU-seconds
    // shared, every test passing in file order and in two shuffled orders. A test file must
    // therefore leave no state behind it (real timers restored, listeners removed); the source's
    // own caches (a compiled schema, a registry) are shared as they are in an application. A
    // subscriber left on sluice's diagnostics channels reached the files after it (a breaker reads
    // its clock when one listens: clock-reads.test.ts failed); test/unit-setup.ts fails the file
    // that leaves one. The pool reads this option from here, not from a project; e2e sets its own.
    poolOptions: { forks: { isolate: false } },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          // A file that leaves a diagnostics-channel subscriber behind fails (the forks are shared).
          setupFiles: ['test/unit-setup.ts'],
          // The proofs and the JVM brokers' tests run in `npm run test:brokers` (vitest.brokers.config.ts).
          exclude: [...configDefaults.exclude, 'test/brokers-e2e/**', 'test/redis/proofs.test.ts', ...e2eFiles, ...aloneFiles],
          // Type tests (expectTypeOf) fail the compile: `npm run typecheck` (tsconfig.json includes
          // test/) runs them too, so after it npm test does not type-check them a second time.
          typecheck: { enabled: process.env['SLUICE_TEST_TYPECHECKED'] !== '1', include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: e2eFiles,
          exclude: [...configDefaults.exclude, 'test/brokers-e2e/**', ...aloneFiles],
          // The forks (maxWorkers) each run their files one after another; each file gets a fresh
          // module graph in its fork (isolate: true): they spawn and stop processes, hold process
          // listeners and a helper's open servers. One fork (singleFork) left the CPU idle most of
          // the time: the e2e project on the busy 2-core host (load 11-17, 2026-12-04) took 533 s in
          // one fork, 380 s in two (146 CPU-seconds, 37% of one core), every test passing.
          poolOptions: { forks: { singleFork: false, isolate: true } },
          // Hang guards, not figures: above a spawned gateway's start (test/gateway/helpers.ts
          // ONE_START_MS, 90 s) and what a test does after it; a passing test takes what it takes.
          testTimeout: 150_000,
          hookTimeout: 150_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e-alone',
          include: aloneFiles,
          poolOptions: { forks: { singleFork: true, isolate: true } },
          testTimeout: 60_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
