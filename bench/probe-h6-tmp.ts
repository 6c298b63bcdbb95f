import { createServer } from 'node:http';
import { connect } from 'node:net';
import { startGateway } from '../src/gateway/index.js';
const seen: string[] = [];
const up = createServer((q, r) => { seen.push(`${q.method} ${q.url} ${JSON.stringify(q.headers)}`); let n = 0; q.on('data', (d) => (n += d.length)); q.on('end', () => r.end(`ok ${n}`)); });
await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()));
const port = (up.address() as { port: number }).port;
const cfg = JSON.parse(process.env.CFG ?? '{}');
const gw = await startGateway({ listen: { host: '127.0.0.1', port: 0 }, admin: { port: 0 }, upstreams: { app: { url: `http://127.0.0.1:${port}`, timeout: '5s' } }, routes: [{ path: '/' }], ...cfg } as never, { logger: { info() {}, warn() {}, error() {}, debug() {} } } as never);
const u = new URL(gw.url);
function raw(bytes: string, ms = 1500, end = false): Promise<string> {
  return new Promise((res) => { const s = connect(Number(u.port), '127.0.0.1'); let t = ''; s.setEncoding('latin1').on('data', (d) => (t += d)); s.on('error', (e) => (t += ` <${(e as Error).message}>`)); const tm = setTimeout(() => { s.destroy(); res(t + ' <OPEN>'); }, ms); s.on('close', () => { clearTimeout(tm); res(t); }); s.write(Buffer.from(bytes, 'latin1')); if (end) s.end(); });
}
const cases: [string, string][] = JSON.parse(process.env.CASES!);
for (const [name, bytes] of cases) {
  seen.length = 0;
  const t = await raw(bytes.replace(/\\r\\n/g, '\r\n'));
  const sts = [...t.matchAll(/HTTP\/1\.[01] (\d{3})[^\r]*/g)].map((m) => m[0]).join(' | ');
  const reasons = [...t.matchAll(/"reason":"(\w+)"/g)].map((m) => m[1]).join(',');
  console.log(`${name}: ${sts} [${reasons}] ${t.includes('<OPEN>') ? 'OPEN' : ''}\n   upstream: ${seen.join(' ;; ').slice(0, 400)}`);
}
await gw.close(); up.close(); process.exit(0);
