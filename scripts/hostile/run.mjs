#!/usr/bin/env node
// The hostile probes against the built gateway (`npm run build:unchecked` first):
//
//   node scripts/hostile/run.mjs [--scenario flags1|flags2|yaml|redis|signals|config|stores|all]
//                                [--port-base 37000] [--out FILE.md] [--only SUBSTRING] [--help]
//
// Each scenario starts an upstream of its own (in this process), the gateway as a child
// (`node bin/sluice.js gateway …`), runs its probes and prints one row per probe: what the
// gateway must answer, what it answered, and FAIL where they differ. Exit 1 on any FAIL.
// Ports: port-base+1 upstream, +10 proxy, +11 admin, +379 redis-server (signals/redis) or a
// server that is not Redis (stores).
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runConfig } from './config-probes.mjs';
import { runLoad } from './load-probes.mjs';
import { ROOT, spawnGateway, startUpstream, waitReady } from './lib.mjs';
import { runRedis, runSecondSignal, runSignals } from './signal-probes.mjs';
import { runStores } from './store-probes.mjs';
import { runTenants } from './tenant-probes.mjs';
import { runWire, wireProbes } from './wire-probes.mjs';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'all' },
    'port-base': { type: 'string', default: '37000' },
    out: { type: 'string' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (values.help) {
  // The usage is this file's opening comment (until hostile-27 --help was an unknown option: a stack trace).
  const head = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  process.stdout.write(`${head.slice(0, head.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
  process.exit(0);
}
const BASE = Number(values['port-base']);
if (!Number.isInteger(BASE) || BASE < 1024 || BASE > 65_000) throw new Error(`--port-base: expected an integer from 1024 to 65000, received ${JSON.stringify(values['port-base'])}`);
export const PORTS = { upstream: BASE + 1, proxy: BASE + 10, admin: BASE + 11, redis: BASE + 379 };
const dir = mkdtempSync(join(tmpdir(), 'sluice-hostile-probes-'));

/** The YAML the yaml, redis and signals scenarios run (limit: the catch-all's concurrency). */
export function yamlConfig({ limit = 5, store, workers = 2, extra = '' } = {}) {
  return `listen: { host: 127.0.0.1, port: ${PORTS.proxy} }
admin: { host: 127.0.0.1, port: ${PORTS.admin} }
server: { workers: ${workers}, headersTimeout: 2s, bodyTimeout: 3s, requestTimeout: 5s, writeTimeout: 3s }
${store ? `store: { url: "${store}" }\n` : ''}upstreams:
  app: { url: "http://127.0.0.1:${PORTS.upstream}", timeout: 5s }
policies:
  keyed:
    tenant: { header: x-api-key }
    rateLimits:
      - { name: permin, rate: 5/min, burst: 5 }
    concurrency: { limit: ${limit}, queue: 50, queueTimeout: 50ms }
  quota:
    tenant: { header: x-api-key }
    rateLimits:
      - { name: daily, limit: 20, window: 1d, quota: true }
    concurrency: { limit: ${limit} }
  rest:
    concurrency: { limit: ${limit}, queue: 50, queueTimeout: 50ms }
routes:
  - { name: health, path: /healthz, exempt: true }
  - { name: api, path: /api, policy: keyed, upstream: app }
  - { name: quota, path: /quota, policy: quota, upstream: app }
  - { name: rest, path: /, policy: rest, upstream: app }
${extra}`;
}

export function configFile(text, name = 'sluice.yaml') {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const log = createWriteStream(join(dir, 'gateway.log'));
const flags = ['--upstream', `http://127.0.0.1:${PORTS.upstream}`, '--host', '127.0.0.1', '--port', String(PORTS.proxy), '--admin-port', String(PORTS.admin), '--concurrency', '5', '--queue-timeout', '50ms'];
const SCENARIOS = {
  flags1: { args: flags, limit: 5 },
  flags2: { args: [...flags, '--workers', '2'], limit: 5 },
  yaml: { args: () => ['--config', configFile(yamlConfig())], limit: 5, tenants: true },
};

async function withGateway(scenario, body) {
  const upstream = await startUpstream(PORTS.upstream);
  const args = typeof scenario.args === 'function' ? scenario.args() : scenario.args;
  const gw = spawnGateway(args, log);
  try {
    await waitReady(PORTS.admin, 180_000, gw);
    return await body(upstream, gw);
  } finally {
    gw.kill('SIGTERM');
    await Promise.race([gw.exited, new Promise((r) => setTimeout(r, 10_000))]);
    gw.kill('SIGKILL');
    await upstream.close();
  }
}

const rows = [];
const add = (scenario, list) => {
  for (const row of list) {
    rows.push({ scenario, ...row });
    process.stdout.write(`${row.ok ? 'ok  ' : 'FAIL'} [${scenario}] ${row.name}: expected ${row.expected}; got ${row.actual}\n`);
  }
};
const want = (name) => values.only === undefined || name.includes(values.only);
const chosen = values.scenario === 'all' ? ['config', 'flags1', 'flags2', 'yaml', 'redis', 'signals', 'stores'] : values.scenario.split(',');

for (const name of chosen) {
  if (name === 'config') add(name, await runConfig(dir));
  else if (name === 'signals') {
    if (want('SIGHUP') || want('SIGTERM under')) add(name, await runSignals({ PORTS, yamlConfig, configFile, log }));
    if (want('second SIGTERM')) add(name, await runSecondSignal({ PORTS, yamlConfig, configFile, log }));
  }
  else if (name === 'redis') add(name, await runRedis({ PORTS, yamlConfig, configFile, log }));
  else if (name === 'stores') add(name, await runStores({ PORTS, log }));
  else if (SCENARIOS[name] !== undefined) {
    const scenario = SCENARIOS[name];
    await withGateway(scenario, async (upstream) => {
      for (const probe of wireProbes().filter(([n]) => want(n))) add(name, [await runWire(PORTS.proxy, upstream, probe)]);
      if (scenario.tenants) add(name, await runTenants(PORTS, upstream));
      if (want('load')) add(name, await runLoad(PORTS.proxy, PORTS.admin, upstream, scenario.limit));
    });
  } else throw new Error(`--scenario: expected flags1, flags2, yaml, redis, signals, config, stores or all, received ${JSON.stringify(name)}`);
}

const failed = rows.filter((r) => !r.ok);
process.stdout.write(`\n${rows.length} probes, ${failed.length} FAIL; gateway log: ${join(dir, 'gateway.log')}\n`);
if (values.out !== undefined) {
  const md = ['| scenario | probe | expected | actual | |', '|---|---|---|---|---|', ...rows.map((r) => `| ${r.scenario} | ${r.name} | ${r.expected} | ${r.actual.replaceAll('|', '\\|')} | ${r.ok ? 'ok' : '**FAIL**'} |`)];
  writeFileSync(resolve(ROOT, values.out), `${md.join('\n')}\n`);
}
log.end();
process.exit(failed.length > 0 ? 1 : 0);
