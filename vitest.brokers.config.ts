// `npm run test:brokers`: the proofs against real brokers (tens of seconds each), one file at
// a time. RabbitMQ, NATS JetStream and Redis must run; Kafka and ElasticMQ are started by
// scripts/brokers/*.sh (which .ci/run does).
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  resolve: base.resolve ?? {},
  test: {
    // The Redis proofs too: 4 processes on one limit, a SIGKILL mid-run (about a minute).
    include: ['test/brokers-e2e/**/*.test.ts', 'test/redis/proofs.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
