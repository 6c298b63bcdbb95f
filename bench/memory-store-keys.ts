/**
 * MemoryStore per-call cost, this checkout against another (`--baseline DIR`), in one process:
 * each pair times the same scenario on both stores, the order alternating; the figure is the
 * median over pairs of candidate ÷ baseline ns per call.
 *
 *   npx tsx bench/memory-store-keys.ts --baseline /tmp/base --pairs 7 [--out FILE]
 *
 * Scenarios (GCRA, 90 per minute, burst 90; a virtual clock advancing 1 µs a call):
 * - hot: 10 000 tenants, a uniform stream of 1M calls (the table never full);
 * - churn: every call a new key, maxKeys 10 000, each key idle 1 ms after its call (room by idle keys);
 * - flood: a table of 10 000 live daily quotas, then 200 000 new random keys at one instant
 *   (the attack: baseline refuses them `keys_full`, the candidate evicts). Admitted share shown.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as candidate from '../src/rate/index.js';
import type { MemoryStore as Store, RatePolicy } from '../src/rate/index.js';

type Rate = typeof candidate;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

const baseline = arg('--baseline');
if (baseline === undefined) throw new Error('--baseline DIR: a checkout to compare with (its src/ is imported)');
const pairs = Number(arg('--pairs') ?? 7);
if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`--pairs: expected an integer >= 1, received ${arg('--pairs')}`);
const out = arg('--out');

interface Scenario {
  readonly name: string;
  run(rate: Rate): { ns: number; admitted: number };
}

function keys(n: number, prefix: string): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${(i * 2654435761) % 4294967296}`);
}
const tenants = keys(10_000, 'tenant:');
const newcomers = keys(200_000, 'rand:');
let seed = 0x5eed;
const stream = Array.from({ length: 1_000_000 }, () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  // The high bits: an LCG's low ones cycle short (seed % n reached ~900 of the 10 000 tenants).
  return tenants[Math.floor((seed / 2147483648) * tenants.length)]!;
});

function timed(store: Store, policy: RatePolicy, ks: readonly string[], t0: number, dt: number): { ns: number; admitted: number } {
  let admitted = 0;
  let t = t0;
  const start = process.hrtime.bigint();
  for (const k of ks) {
    if (store.consume(k, policy, 1, t, 0).allowed) admitted++;
    t += dt;
  }
  return { ns: Number(process.hrtime.bigint() - start) / ks.length, admitted: admitted / ks.length };
}

const scenarios: Scenario[] = [
  {
    name: 'hot (10k tenants, 1M calls)',
    run: (r) => timed(new r.MemoryStore(), r.ratePolicy({ algorithm: 'gcra', rate: 90, perMs: 60_000, burst: 90 }), stream, 0, 0.001),
  },
  {
    name: 'churn (new key per call, idle after 1 ms, maxKeys 10k)',
    run: (r) => timed(new r.MemoryStore({ maxKeys: 10_000 }), r.ratePolicy({ algorithm: 'gcra', rate: 1000, perMs: 1000, burst: 1 }), newcomers, 0, 0.01),
  },
  {
    name: 'flood (10k live daily quotas, 200k new keys)',
    run: (r) => {
      const p = r.ratePolicy({ algorithm: 'sliding-window', limit: 100, windowMs: 86_400_000 });
      const s = new r.MemoryStore({ maxKeys: 10_000 });
      for (const k of tenants) s.consume(k, p, 1, 0, 0);
      return timed(s, p, newcomers, 1, 0);
    },
  },
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const cand: Rate = candidate;
const base = (await import(pathToFileURL(resolve(baseline, 'src/rate/index.ts')).href)) as Rate;
const lines = [`# MemoryStore per-call cost: candidate vs baseline (${baseline}), ${pairs} pairs, order alternating`, '', '| scenario | baseline ns/call | candidate ns/call | ratio (median) | admitted base / cand |', '|---|---|---|---|---|'];
for (const sc of scenarios) {
  sc.run(cand);
  sc.run(base); // warm-up
  const b: number[] = [];
  const c: number[] = [];
  const ratios: number[] = [];
  let adm = [0, 0];
  for (let i = 0; i < pairs; i++) {
    const first = i % 2 === 0 ? base : cand;
    const x = sc.run(first);
    const y = sc.run(first === base ? cand : base);
    const [rb, rc] = first === base ? [x, y] : [y, x];
    b.push(rb.ns);
    c.push(rc.ns);
    ratios.push(rc.ns / rb.ns);
    adm = [rb.admitted, rc.admitted];
  }
  const line = `| ${sc.name} | ${median(b).toFixed(0)} | ${median(c).toFixed(0)} | ${median(ratios).toFixed(2)} | ${(adm[0]! * 100).toFixed(1)}% / ${(adm[1]! * 100).toFixed(1)}% |`;
  lines.push(line);
  console.log(line);
}
if (out !== undefined) writeFileSync(out, `${lines.join('\n')}\n`);
