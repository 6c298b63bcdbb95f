import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    // README and docs examples import 'sluice/...' as a user would; run them against the source.
    alias: [
      { find: /^sluice$/, replacement: src('index.ts') },
      { find: /^sluice\/(core|queue|rate|concurrency|compose|limit|pressure|breaker|retry|prometheus|otel|http|express|fastify|gateway|streams|brokers|rabbitmq|jetstream|redis-streams|redis|kafka|sqs|dashboard)$/, replacement: src('$1/index.ts') },
      { find: /^sluice\/client$/, replacement: src('http-client/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The proofs and the JVM brokers' tests run in `npm run test:brokers` (vitest.brokers.config.ts).
    exclude: [...configDefaults.exclude, 'test/brokers-e2e/**'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 20_000,
    pool: 'forks',
  },
});
