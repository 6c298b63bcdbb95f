/**
 * `npm run bench:slow-reader` — whether the gateway's write timeout cuts a client that reads
 * a large response slowly but steadily (docs/gateway.md, "Slow clients", item 3). The gateway
 * (spawned CLI, this checkout, loopback) in front of an upstream that answers a 64 MB body; one
 * raw client reads it at `--rate` bytes per second, in 20 steps a second, for `--seconds`.
 * Prints when the gateway cut it (its /status `counters.writeTimeouts`, polled each second: the
 * client itself sees the close only once it has read what the kernel buffers held) or that it
 * never did, and what the client read. A behaviour, not a speed: a busy machine only reads
 * less.
 *
 *   npm run bench:slow-reader                                     # 20 KB/s, 120 s, defaults
 *   npm run bench:slow-reader -- --rate 500 --seconds 60
 *   npm run bench:slow-reader -- --server 'writeTimeout: 10s, minReadRate: 0'
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '120' },
    server: { type: 'string', default: '' },
  },
  strict: true,
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
if (!(rate > 0) || !(seconds > 0 && seconds <= 3600)) throw new Error(`--rate: bytes per second above 0, --seconds: 1..3600; received ${values.rate}, ${values.seconds}`);

const BODY = Buffer.alloc(64 * 1024 * 1024, 'b');
const upstream = createServer((_req, res) => res.end(BODY)).listen(0, '127.0.0.1');
await new Promise((resolve) => upstream.once('listening', resolve));
const dir = mkdtempSync(join(tmpdir(), 'sluice-slow-reader-'));
const file = join(dir, 'sluice.yaml');
writeFileSync(
  file,
  [
    'listen: { host: 127.0.0.1, port: 0 }',
    'admin: { port: 0 }',
    'log: { level: info }', // its 'listening' line gives the addresses; the rest is read and dropped
    ...(values.server !== '' ? [`server: { ${values.server} }`] : []),
    `upstreams: { app: { url: "http://127.0.0.1:${(upstream.address() as AddressInfo).port}" } }`,
    'routes:',
    '  - path: /',
    '',
  ].join('\n'),
);
const bin = fileURLToPath(new URL('../bin/sluice.js', import.meta.url));
const gateway = spawn(process.execPath, [bin, 'gateway', '--config', file], { stdio: ['ignore', 'pipe', 'inherit'] });
const { url, adminUrl } = await new Promise<{ url: string; adminUrl: string }>((resolve, reject) => {
  let text = '';
  gateway.once('exit', (code) => reject(new Error(`the gateway exited (${code}) before listening`)));
  gateway.stdout.on('data', (d: Buffer) => {
    text += d.toString();
    for (const line of text.split('\n')) {
      try {
        const j = JSON.parse(line) as { url?: string; adminUrl?: string };
        if (j.url !== undefined && j.adminUrl !== undefined) resolve({ url: j.url, adminUrl: j.adminUrl });
      } catch {
        // not a whole JSON line yet
      }
    }
  });
});

const target = new URL(url);
const client = connect(Number(target.port), target.hostname);
client.on('error', () => undefined);
client.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n');
client.pause();
const start = Date.now();
const elapsed = (): number => (Date.now() - start) / 1000;
let got = 0;
const step = Math.max(1, Math.round(rate / 20));
const reading = setInterval(() => {
  let n = 0;
  let b: Buffer | null;
  while (n < step && (b = client.read(Math.min(step - n, Math.max(1, client.readableLength))) as Buffer | null) !== null) n += b.length;
  got += n;
}, 50);
let cutAfterS: number | undefined;
const polling = setInterval(() => {
  fetch(`${adminUrl}/status`)
    .then(async (r) => (await r.json()) as { counters: { writeTimeouts: number } })
    .then((s) => {
      if (cutAfterS === undefined && s.counters.writeTimeouts > 0) cutAfterS = elapsed();
    })
    .catch(() => undefined);
}, 1000);

await new Promise<void>((resolve) => {
  // Either way both timers go: an interval left running keeps the process alive (a run whose
  // reader was never cut printed its verdict and never exited, holding the bench lock).
  const done = (): void => {
    clearTimeout(end);
    clearInterval(check);
    resolve();
  };
  const end = setTimeout(done, seconds * 1000);
  const check = setInterval(() => cutAfterS !== undefined && done(), 200);
});
clearInterval(reading);
clearInterval(polling);
console.log(
  JSON.stringify({
    rateBps: rate,
    server: values.server === '' ? 'defaults' : values.server,
    verdict: cutAfterS === undefined ? `never cut in ${seconds} s` : `cut after ${cutAfterS.toFixed(0)} s`,
    clientReadBytes: got,
    clientReadBps: Math.round(got / elapsed()),
  }),
);
client.destroy();
await new Promise((resolve) => {
  gateway.once('exit', resolve);
  gateway.kill('SIGTERM');
});
upstream.close();
rmSync(dir, { recursive: true, force: true });
