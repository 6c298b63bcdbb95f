// A process that takes every slot of a shared concurrency limit and holds them, renewing its
// leases, until it is SIGKILLed: the crash of test/redis/concurrency.test.ts's lease-TTL case —
// no close, no give-back, its renewals stop with it.
//   argv: url, key prefix, gate name, leaseTtlMs, limit
import { RedisStore } from '../../src/redis/index.js';

const [url, keyPrefix, name, ttl, limit] = process.argv.slice(2) as [string, string, string, string, string];
const store = await RedisStore.connect({ url, keyPrefix, timeoutMs: 2000 });
const gate = store.concurrency({ name, limit: Number(limit), maxQueue: 10, leaseTtlMs: Number(ttl) });
const permits = await Promise.all(Array.from({ length: Number(limit) }, () => gate.acquire()));
console.log(`held ${permits.length} ${gate.leases.key}`);
// Held until killed: the gate's renewal timer keeps the process alive, and this too.
setInterval(() => undefined, 60_000);
