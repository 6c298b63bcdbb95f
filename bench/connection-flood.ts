/**
 * `npm run bench:connection-flood` — what a connection over `server.maxConnections` costs the
 * server in CPU: answered 503 `connections_full` by the gateway's cap (connection-limit.ts,
 * at most ANSWERS_PER_S a second, the rest closed at accept), against node:net's own
 * `maxConnections`, which closes every one at accept without an answer. Same run, rounds
 * alternating, median of each and their ratio.
 *
 * Each round: a node:http server in this process with one connection held (the cap is 1), and
 * a client in a child process opening `--total` connections, `--concurrency` at a time, each
 * sending a GET and reading until the close. The server's CPU (process.cpuUsage: this
 * process, which runs only the server while the child loads it) per connection is reported.
 *
 *   npm run bench:connection-flood                       3 rounds of 4,000 connections, 40 at a time
 *   npm run bench:connection-flood -- --rounds 5 --total 8000 --concurrency 80
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { ConnectionLimit } from '../src/gateway/connection-limit.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, total: { type: 'string', default: '4000' }, concurrency: { type: 'string', default: '40' } } });
const rounds = Number(values.rounds);
const total = Number(values.total);
const concurrency = Number(values.concurrency);

type Mode = 'node:net drop' | 'sluice answer' | 'answer, uncapped';
const MODES: readonly Mode[] = ['node:net drop', 'sluice answer', 'answer, uncapped'];

async function round(mode: Mode): Promise<{ usPerConn: number; answered: number }> {
  const server = createServer((_req, res) => res.end('ok'));
  let answered = 0;
  if (mode !== 'node:net drop') {
    // 'answer, uncapped': every connection answered (no ANSWERS_PER_S), what one answer costs.
    const limit = new ConnectionLimit(1, (o) => (o === 'refused' ? answered++ : undefined), mode === 'answer, uncapped' ? { answersPerS: Infinity } : {});
    limit.attach(server);
    limit.apply(server, 1);
  } else server.maxConnections = 1;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const held = connect(port, '127.0.0.1');
  held.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => held.once('data', r));
  const client = `
const net = require('net'); let started = 0, done = 0;
const one = () => { if (started >= ${total}) return; started++; const s = net.connect(${port}, '127.0.0.1'); s.on('error', () => {}); s.on('data', () => {});
  s.on('connect', () => s.write('GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')); s.on('close', () => { if (++done === ${total}) process.exit(0); one(); }); };
for (let i = 0; i < ${concurrency}; i++) one();`;
  const c0 = process.cpuUsage();
  const child = spawn(process.execPath, ['-e', client], { stdio: 'inherit' });
  await new Promise((r) => child.on('exit', r));
  const c = process.cpuUsage(c0);
  held.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  return { usPerConn: (c.user + c.system) / total, answered };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seen: Record<Mode, number[]> = { 'node:net drop': [], 'sluice answer': [], 'answer, uncapped': [] };
let answered = 0;
for (let i = 0; i < rounds; i++) {
  for (const mode of MODES) {
    const r = await round(mode);
    seen[mode].push(r.usPerConn);
    if (mode === 'sluice answer') answered = r.answered;
  }
}
const drop = median(seen['node:net drop']);
const answer = median(seen['sluice answer']);
console.log(`${total} connections over the cap, ${concurrency} at a time, ${rounds} rounds (median server CPU per connection)`);
console.log(`node:net drop    ${drop.toFixed(1)} µs   (${seen['node:net drop'].map((x) => x.toFixed(0)).join(', ')})`);
console.log(`sluice answer    ${answer.toFixed(1)} µs   (${seen['sluice answer'].map((x) => x.toFixed(0)).join(', ')}); answered ${answered} of ${total} in its last round`);
console.log(`ratio            ${(answer / drop).toFixed(2)}x`);
const uncapped = median(seen['answer, uncapped']);
console.log(`answer, uncapped ${uncapped.toFixed(1)} µs   (${seen['answer, uncapped'].map((x) => x.toFixed(0)).join(', ')}): ${(uncapped / drop).toFixed(2)}x a drop, what ANSWERS_PER_S bounds`);
