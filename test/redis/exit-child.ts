// A process whose Redis is away: a shared concurrency gate falls back, the store is closed,
// and nothing else is left to do — the process must exit by itself (test/redis/bad-day.test.ts).
import { RedisStore } from '../../src/redis/index.js';

const store = await RedisStore.connect({ url: process.argv[2]!, connectTimeoutMs: 200, timeoutMs: 250, probeMs: 300 });
const gate = store.concurrency({ name: 'exit', limit: 3, onStoreError: 'closed' });
const a = await gate.admit();
await store.close();
console.log(`closed ${a.ok ? 'admitted' : a.reason} ${gate.stats().mode}`);
