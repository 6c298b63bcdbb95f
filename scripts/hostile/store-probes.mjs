// Something else than Redis on the port of `--store`: a server that never answers, one that
// sends bytes without end (hostile2: the gateway grew to 3.2 GB in 40 s), one that answers
// with more replies than it was sent commands (a null among them), and an HTTP server. Each
// must leave the gateway serving in its failure mode (store-on-error local): alive, answering
// 200/429, and its memory bounded.
import { execFileSync } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { call } from './load-probes.mjs';
import { sleep, spawnGateway, startUpstream, waitReady } from './lib.mjs';

const KINDS = {
  silent: () => createServer((s) => s.on('error', () => undefined)),
  flood: () =>
    createServer((s) => {
      s.on('error', () => undefined);
      const chunk = Buffer.alloc(64 * 1024, 0x2b); // '+' opens a simple string no CRLF ends
      const pump = () => {
        while (!s.destroyed && s.write(chunk));
        if (!s.destroyed) s.once('drain', pump);
      };
      pump();
    }),
  'extra replies': () =>
    createServer((s) => {
      s.on('error', () => undefined);
      s.on('data', () => s.write('-ERR not redis\r\n+OK\r\n:5\r\n$-1\r\n*-1\r\n'));
    }),
  http: () => createHttpServer((_req, res) => res.end('hi')),
};

const rssMb = (pid) => {
  try {
    return Math.round(Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024);
  } catch {
    return 0;
  }
};

export async function runStores({ PORTS, log }) {
  const rows = [];
  const upstream = await startUpstream(PORTS.upstream);
  try {
    for (const [kind, make] of Object.entries(KINDS)) {
      process.stderr.write(`stores: ${kind}\n`);
      const server = make();
      const sockets = new Set();
      server.on('connection', (s) => sockets.add(s).size && s.on('close', () => sockets.delete(s)));
      await new Promise((r) => server.listen(PORTS.redis, '127.0.0.1', r));
      const gw = spawnGateway(['--upstream', `http://127.0.0.1:${PORTS.upstream}`, '--host', '127.0.0.1', '--port', String(PORTS.proxy), '--admin-port', String(PORTS.admin), '--rate', '5/s', '--concurrency', '5', '--store', `redis://127.0.0.1:${PORTS.redis}`], log);
      const counts = {};
      let why = '';
      try {
        await waitReady(PORTS.admin, 180_000, gw);
        for (let i = 0; i < 16 && gw.exitCode === null; i += 1) {
          const r = await call(PORTS.proxy, '/s', { timeoutMs: 5_000 });
          counts[r.status || r.error] = (counts[r.status || r.error] ?? 0) + 1;
          await sleep(500);
        }
      } catch (err) {
        why = String(err.message ?? err).slice(0, 160);
      }
      const rss = rssMb(gw.pid);
      const alive = gw.exitCode === null && gw.signalCode === null;
      const answered = Object.keys(counts).length > 0 && Object.keys(counts).every((k) => k === '200' || k === '429');
      rows.push({
        name: `--store on a port where ${kind === 'http' ? 'an HTTP server' : `a server (${kind})`} answers`,
        ok: alive && answered && rss < 1024,
        expected: 'alive; only 200/429; RSS < 1 GB after 8 s',
        actual: `${alive ? 'alive' : `exited ${gw.exitCode ?? gw.signalCode}: ${gw.lastLines.slice(-2).join(' | ').slice(0, 160)}`}; ${Object.entries(counts).map(([k, v]) => `${k}×${v}`).join(' ') || why}; RSS ${rss} MB`,
      });
      gw.kill('SIGKILL');
      await gw.exited;
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(() => r()));
    }
  } finally {
    await upstream.close();
  }
  return rows;
}
