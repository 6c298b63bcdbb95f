// Config values nobody should be able to slip in: each must be refused (exit 2) with an error
// naming the key or flag — never taken as some other number, never a start. (Flags have no
// --check: a flag value taken starts a gateway on port 0, ended at the 60 s bound: a FAIL.)
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const YAML_VALUES = [
  ['policies.p.concurrency.queueTimeout', 'queueTimeout', '30d'],
  ['policies.p.concurrency.queueTimeout', 'queueTimeout', '-1s'],
  ['policies.p.concurrency.queueTimeout', 'queueTimeout', '1e309ms'],
  ['policies.p.concurrency.queueTimeout', 'queueTimeout', '٣s'],
  ['policies.p.concurrency.queueTimeout', 'queueTimeout', '５s'],
  ['policies.p.concurrency.limit', 'limit', '-1'],
  ['policies.p.concurrency.limit', 'limit', '1e309'],
  ['policies.p.concurrency.limit', 'limit', '0x10'],
  ['policies.p.concurrency.limit', 'limit', '"١٠"'],
  ['policies.p.concurrency.limit', 'limit', '"１０"'],
  ['policies.p.concurrency.limit', 'limit', '.inf'],
  ['policies.p.concurrency.limit', 'limit', '0'],
  ['policies.p.concurrency.queue', 'queue', '1e3'],
  ['policies.p.rateLimits', 'rateLimits', '[{ name: r, rate: 1e309/s }]'],
  ['policies.p.rateLimits', 'rateLimits', '[{ name: r, rate: "٥/s" }]'],
  ['policies.p.rateLimits', 'rateLimits', '[{ name: r, rate: 0x10/s }]'],
  ['policies.p.rateLimits', 'rateLimits', '[{ name: r, rate: 5/s, burst: -1 }]'],
  ['policies.p.rateLimits', 'rateLimits', '[{ name: r, limit: 5, window: 30d }]'],
  ['policies.p.rateLimits', 'rateLimits', '[{ name: r, limit: 5, window: 1e309s }]'],
  ['server.maxBodySize', 'maxBodySize', '1e309kb'],
  ['server.maxBodySize', 'maxBodySize', '٣kb'],
  ['server.maxBodySize', 'maxBodySize', '0x10kb'],
];

const OWN_UPSTREAMS = [
  ['http://127.0.0.1:18090', '{ host: 127.0.0.1, port: 18090 }', '{ enabled: false }'],
  ['http://0x7f.1:18090', '{ host: 0.0.0.0, port: 18090 }', '{ enabled: false }'],
  ['http://localhost:18090', '{ host: "::", port: 18090 }', '{ enabled: false }'],
  ['http://127.0.0.1:18091', '{ host: 127.0.0.1, port: 18090 }', '{ host: 127.0.0.1, port: 18091 }'],
];

function yaml(key, value) {
  const server = key.startsWith('server.') ? `server: { ${key.slice(7)}: ${value} }\n` : '';
  const concurrency = key.startsWith('policies.p.concurrency.') ? { limit: 5, queue: 10, queueTimeout: '50ms', [key.split('.').pop()]: value } : { limit: 5 };
  const conc = `{ ${Object.entries(concurrency).map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
  const rate = key === 'policies.p.rateLimits' ? `\n    rateLimits: ${value}` : '';
  return `${server}upstreams: { app: { url: "http://127.0.0.1:1" } }
policies:
  p:
    concurrency: ${conc}${rate}
routes: [{ name: all, path: /, policy: p, upstream: app }]
`;
}

const FLAGS = [
  ['--concurrency', '0x10'],
  ['--concurrency', '-1'],
  ['--concurrency', '1e309'],
  ['--concurrency', '１０'],
  ['--concurrency', '١٠'],
  ['--queue-timeout', '30d'],
  ['--queue-timeout', '٣s'],
  ['--rate', '1e309/s'],
  ['--rate', '-5/s'],
  ['--burst', '0x10'],
  ['--port', '８０８０'],
  ['--workers', '1e1'],
  ['--timeout', 'Infinitys'],
];

function check(args) {
  const r = spawnSync(process.execPath, ['bin/sluice.js', 'gateway', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? r.signal, text: `${r.stderr}${r.stdout}`.trim().split('\n')[0] ?? '' };
}

export async function runConfig(dir) {
  const rows = [];
  for (const [key, leaf, value] of YAML_VALUES) {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, yaml(key, value));
    const r = check(['--check', '--config', file]);
    rows.push({ name: `YAML ${key} = ${value}`, ok: r.code === 2 && r.text.includes(leaf), expected: `exit 2 naming ${leaf}`, actual: `exit ${r.code}: ${r.text.slice(0, 160)}` });
  }
  // hostile-26: an upstream that is the gateway's own proxy or admin listener.
  for (const [url, listen, admin] of OWN_UPSTREAMS) {
    const file = join(dir, 'own.yaml');
    writeFileSync(file, `listen: ${listen}\nadmin: ${admin}\nupstreams: { app: { url: "${url}" } }\nroutes: [{ name: all, path: / }]\n`);
    const r = check(['--check', '--config', file]);
    rows.push({ name: `YAML upstream ${url} behind listen ${listen}, admin ${admin}`, ok: r.code === 2 && r.text.includes('upstreams.app.url'), expected: 'exit 2 naming upstreams.app.url', actual: `exit ${r.code}: ${r.text.slice(0, 160)}` });
  }
  for (const [flag, value] of FLAGS) {
    const base = ['--upstream', 'http://127.0.0.1:1', '--no-admin', '--host', '127.0.0.1'];
    const r = check([...base, ...(flag === '--port' ? [] : ['--port', '0']), flag, value, ...(flag === '--burst' ? ['--rate', '5/s'] : []), ...(flag === '--queue-timeout' ? ['--concurrency', '5'] : [])]);
    rows.push({ name: `flag ${flag} ${value}`, ok: r.code === 2 && r.text.includes(flag), expected: `exit 2 naming ${flag}`, actual: `exit ${r.code}: ${r.text.slice(0, 160)}` });
  }
  return rows;
}
