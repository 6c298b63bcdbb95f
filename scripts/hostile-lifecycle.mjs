// Hostile-user lifecycle probe (after npm run build:unchecked): 100k waiters then close(), abort while
// queued, double release, acquire after close, a rate waiter at close, abort during a retry backoff.
// Every promise must settle and the process must exit by itself: node scripts/hostile-lifecycle.mjs
import * as s from 'sluice';
const g = new s.ConcurrencyGate({ limit: 1, maxQueue: Infinity });
const p0 = await g.acquire();
const ps = []; for (let i = 0; i < 100000; i++) ps.push(g.acquire().then(() => 'ok', (e) => e.code));
const ac = new AbortController(); const pa = g.acquire({ signal: ac.signal }).catch((e) => e.code); ac.abort();
g.close();
const r = await Promise.all(ps); console.log('settled', r.length, new Set(r), await pa);
p0.release(); try { p0.release(); console.log('double release ok (no throw)'); } catch (e) { console.log('double release threw', e.code); }
try { console.log('after close', await g.acquire().catch((e) => e.code)); } catch (e) { console.log(e); }
const tb = new s.TokenBucket({ rate: 1, perMs: 1e9, burst: 1, maxWaitMs: 1e12 });
(await tb.acquire()).release();
const w = tb.acquire().catch((e) => e.code); tb.close(); console.log('tb waiter', await w);
const rp = new s.RetryPolicy({ maxAttempts: 5, baseDelayMs: 1e8, maxDelayMs: 1e9 });
const ac2 = new AbortController(); const t0 = Date.now();
const pr = rp.execute(async () => { throw new Error('x'); }, { signal: ac2.signal }).catch((e) => e.code ?? e.message);
setTimeout(() => ac2.abort(), 20); console.log('retry abort during backoff', await pr, Date.now() - t0, 'ms');
console.log('end of script; process must exit now');
