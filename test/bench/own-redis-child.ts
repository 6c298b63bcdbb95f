// A bench's stand-in for test/bench/own-redis.test.ts: starts bench/lib/own-redis.ts's server,
// prints `up <url>` (or `failed <message>`), then runs until it is signalled.
import { startOwnRedis } from '../../bench/lib/own-redis.js';

const waitMs = Number(process.argv[2] ?? 10_000);
try {
  const r = await startOwnRedis({ waitMs });
  console.log(`up ${r.url}`);
} catch (err) {
  console.log(`failed ${(err as Error).message}`);
}
setInterval(() => undefined, 60_000);
