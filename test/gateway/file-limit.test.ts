// More connections than the process may open files (hostile finding F25): server.maxConnections
// (10 000 by default) above `ulimit -n` never engaged — idle connections took every file
// descriptor, then nothing could be opened: not the admin listener's connections (/healthz
// failed), not the upstream's (502s that a breaker counts). The gateway keeps connections within
// what the process may open, leaving room for its upstreams and admin, and says so.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, onCleanup, root, tempDir, upstream } from './helpers.js';

afterEach(cleanup);

describe.skipIf(process.platform !== 'linux')('file descriptor limit', () => {
  it('idle connections beyond what the process can open are refused at accept; the admin listener still answers', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, `listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nupstreams: { app: { url: "${up.url}" } }\nroutes: [{ path: / }]\n`);
    const child = spawn('bash', ['-c', `ulimit -n 300 && exec "${process.execPath}" --import tsx src/cli/main.ts gateway --config "${file}"`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanup(async () => void child.kill('SIGKILL'));
    let out = '';
    const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`not listening: ${out}`)), 60_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
        if (line !== undefined) {
          clearTimeout(t);
          resolve(JSON.parse(line) as Record<string, unknown>);
        }
      });
    });
    expect(out).toMatch(/"msg":"server.maxConnections is more than this process can open/);
    const url = new URL(String(listening['url']));
    const sockets: Socket[] = [];
    onCleanup(async () => sockets.forEach((s) => s.destroy()));
    await Promise.all(
      Array.from({ length: 400 }, () => {
        const s = connect(Number(url.port), url.hostname);
        s.on('error', () => undefined);
        sockets.push(s);
        return new Promise<void>((resolve) => {
          s.once('connect', () => resolve());
          s.once('close', () => resolve());
        });
      }),
    );
    // 400 idle connections open (or refused): the admin listener and the upstream are still reachable.
    const health = await fetch(`${String(listening['adminUrl'])}/healthz`, { signal: AbortSignal.timeout(5_000) });
    expect(health.status).toBe(200);
    const status = (await (await fetch(`${String(listening['adminUrl'])}/status`, { signal: AbortSignal.timeout(5_000) })).json()) as { counters: { requests: number } };
    expect(status.counters.requests).toBe(0);
  }, 120_000);
});
