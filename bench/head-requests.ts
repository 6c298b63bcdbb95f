/**
 * HEAD requests through the gateway, closed loop: HEAD answers per second and the upstream
 * connections they cost, for this tree and, with `--baseline <checkout>`, another one in the
 * same run (hostile-10: a connection per HEAD, 3257a0a, against HEADs' own kept-alive pool).
 *
 *   npx tsx bench/head-requests.ts [--baseline /path/to/checkout] [--seconds 5] [--clients 50]
 *
 * Loopback only; every process it starts is stopped by its PID. Figures for comparison in one
 * run on one host, never asserted.
 */
import { spawn } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};
const SECONDS = Number(arg('seconds') ?? 5);
const CLIENTS = Number(arg('clients') ?? 50);
const here = fileURLToPath(new URL('..', import.meta.url));
const trees: [string, string][] = [['this tree', here]];
const base = arg('baseline');
if (base !== undefined) trees.push([`baseline (${base})`, base]);

let connections = 0;
const upstream = createServer((_req, res) => res.writeHead(200, { 'content-length': '5' }).end('hello'));
upstream.on('connection', () => connections++);
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
const upUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

/** Start the gateway of `tree`; its URL and a stop. */
function gateway(tree: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--upstream', upUrl, '--port', '0', '--host', '127.0.0.1', '--no-admin'], { cwd: tree, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"msg":"listening".*?"url":"([^"]+)"/.exec(buf);
      if (m !== null) resolve({ url: m[1]!, stop: () => process.kill(child.pid!, 'SIGKILL') });
    });
    child.once('exit', (code) => reject(new Error(`gateway of ${tree} exited (${code}) before it listened`)));
  });
}

/** `CLIENTS` keep-alive clients sending HEAD in a closed loop for `SECONDS`: 2xx answers. */
async function load(url: string): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const end = performance.now() + SECONDS * 1000;
  let ok = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = request(`${url}/h`, { method: 'HEAD', agent }, (res) => {
        if (res.statusCode === 200) ok++;
        res.resume().on('end', () => resolve());
      });
      req.on('error', () => resolve());
      req.end();
    });
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (performance.now() < end) await one();
  }));
  agent.destroy();
  return ok;
}

for (const [name, tree] of trees) {
  const gw = await gateway(tree);
  const before = connections;
  try {
    const ok = await load(gw.url);
    console.log(`${name}: ${Math.round(ok / SECONDS)} HEAD answers/s, ${connections - before} upstream connections opened (${CLIENTS} clients, ${SECONDS} s)`);
  } finally {
    gw.stop();
  }
}
upstream.close();
upstream.closeAllConnections();
