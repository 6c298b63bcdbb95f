// `npm run bench:dashboard`: the dashboard's memory after 1,000 pages connect and leave, and
// after a flood of 100,000 refused tenants. Heap after a full GC, before and after; results
// saved to bench/results/dashboard-memory.json.
import { writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConcurrencyGate } from '../src/concurrency/index.js';
import { createDashboard } from '../src/dashboard/index.js';
import { KeyedRateLimiter } from '../src/rate/keyed.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:dashboard)');
const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const mb = (b: number): number => Math.round((b / 1024 / 1024) * 100) / 100;

const rate = new KeyedRateLimiter({ name: 'api-rate', policy: { algorithm: 'gcra', rate: 1, burst: 1 }, maxKeys: 1000 });
const gate = new ConcurrencyGate({ name: 'api', limit: 10 });
const d = createDashboard({ groups: [{ name: 'api', gates: [rate, gate] }], intervalMs: 100, maxSubscribers: 10_000 });
const server = createServer((req, res) => void d.handle(req, res));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard/events`;
const leave = (): Promise<void> =>
  new Promise((resolve, reject) => {
    const req = request(url, (res) => res.once('data', () => (req.destroy(), resolve())));
    req.on('error', reject);
    req.end();
  });
await new Promise((r) => setTimeout(r, 1_000)); // a few samples of history first
const before = heap();
for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 100 }, leave));
while (d.subscribers > 0) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 500));
const afterPages = heap();
for (let i = 0; i < 100_000; i++) {
  void rate.admit({ key: `t-${i}` });
  void rate.admit({ key: `t-${i}` });
}
await new Promise((r) => setTimeout(r, 300));
const afterFlood = heap();
const result = {
  command: 'npm run bench:dashboard',
  date: new Date().toISOString(),
  node: process.version,
  pages: { connects: 1000, subscribersAfter: d.subscribers, heapBeforeMB: mb(before), heapAfterMB: mb(afterPages), deltaMB: mb(afterPages - before) },
  tenantFlood: { refusedTenants: 100_000, trackedTenants: d.trackedTenants, heapAfterMB: mb(afterFlood), deltaMB: mb(afterFlood - afterPages) },
};
console.log(JSON.stringify(result, null, 2));
writeFileSync(new URL('./results/dashboard-memory.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
d.close();
server.close();
