/**
 * The per-call option-key check, A/B in one process: `KeyedRateLimiter.admit({ key })` (token
 * bucket) and `run(gate, fn, { priority })` of two checkouts of this repository, measured in
 * interleaved rounds (the order alternating), so a busy host's drift falls on both alike —
 * `npm run bench`'s suites run one checkout after the other, and on a busy host their
 * ratios to the floor moved more than the effect (bench/results/call-keys-*-busy.md).
 *
 *   npx tsx bench/call-keys-ab.ts <baseline checkout> <candidate checkout>
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [baseDir, candDir] = process.argv.slice(2);
if (baseDir === undefined || candDir === undefined) throw new Error('usage: npx tsx bench/call-keys-ab.ts <baseline checkout> <candidate checkout>');
const src = (dir: string, file: string): string => pathToFileURL(resolve(dir, 'src', file)).href;
const load = async (dir: string) => ({
  rate: await import(src(dir, 'rate/index.ts')),
  conc: await import(src(dir, 'concurrency/index.ts')),
  compose: await import(src(dir, 'compose/index.ts')),
});
const A = await load(baseDir);
const B = await load(candDir);
const keys = Array.from({ length: 1000 }, (_, i) => `tenant-${i}`);
function rateOps(m: Awaited<ReturnType<typeof load>>): () => number {
  const lim = new m.rate.KeyedRateLimiter({ policy: { algorithm: 'token-bucket', rate: 90, perMs: 60_000, burst: 90 } });
  return () => {
    const N = 300_000;
    const t = process.hrtime.bigint();
    let ok = 0;
    for (let i = 0; i < N; i++) if ((lim.admit({ key: keys[i % 1000]! }) as { ok: boolean }).ok) ok++;
    const ns = Number(process.hrtime.bigint() - t) / N;
    if (ok < 0) console.log(ok);
    return ns;
  };
}
function runOps(m: Awaited<ReturnType<typeof load>>): () => Promise<number> {
  const gate = new m.conc.ConcurrencyGate({ limit: 16, maxQueue: Infinity });
  const fn = () => 1;
  return async () => {
    const N = 50_000;
    const t = process.hrtime.bigint();
    const ps: Promise<number>[] = [];
    for (let i = 0; i < N; i++) ps.push(m.compose.run(gate, fn, { priority: i % 10 === 0 ? 1 : 0 }));
    await Promise.all(ps);
    return Number(process.hrtime.bigint() - t) / N;
  };
}
const rows: [string, () => number | Promise<number>, () => number | Promise<number>][] = [
  ['KeyedRateLimiter.admit({ key }) ns', rateOps(A), rateOps(B)],
  ['run(gate, fn, { priority }) ns', runOps(A), runOps(B)],
];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [name, a, b] of rows) {
  for (let w = 0; w < 5; w++) { await a(); await b(); }
  const ra: number[] = [], rb: number[] = [], ratio: number[] = [];
  for (let i = 0; i < 21; i++) {
    const first = i % 2 === 0;
    const x = first ? await a() : 0; const y = await b(); const x2 = first ? x : await a();
    ra.push(x2); rb.push(y); ratio.push(y / x2);
  }
  console.log(`${name}: base median ${median(ra).toFixed(1)}, candidate median ${median(rb).toFixed(1)}, candidate/base median ${median(ratio).toFixed(3)} (${ratio.filter((r) => r < 1).length} of ${ratio.length} rounds faster)`);
}
