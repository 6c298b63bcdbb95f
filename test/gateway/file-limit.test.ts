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
import { cliArgv } from '../cli-command.js';
import { cleanup, onCleanup, root, tempDir, upstream } from './helpers.js';

afterEach(cleanup);

/** The CLI under `ulimit -n 300`, one route to an upstream answering 'ok': its listening line (and the log so far). */
async function limitedGateway(): Promise<{ url: URL; adminUrl: string; out: () => string }> {
  const up = await upstream((_req, res) => res.end('ok'));
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, `listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nupstreams: { app: { url: "${up.url}" } }\nroutes: [{ path: / }]\n`);
  // The built CLI when npm test has just built it, else the sources through tsx (cliArgv), like every spawned gateway.
  const child = spawn('bash', ['-c', 'ulimit -n 300 && exec "$@"', 'bash', process.execPath, ...cliArgv(['gateway', '--config', file])], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
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
  return { url: new URL(String(listening['url'])), adminUrl: String(listening['adminUrl']), out: () => out };
}

/**
 * `n` connections to `url`, each writing `bytes` once connected; resolved once every one
 * connected (or closed), or with `answered`, once each got its first bytes back or was closed:
 * those left are then held by the gateway, not waiting in its accept queue.
 */
async function connections(url: URL, n: number, bytes = '', answered = false): Promise<void> {
  const sockets: Socket[] = [];
  onCleanup(async () => sockets.forEach((s) => s.destroy()));
  await Promise.all(
    Array.from({ length: n }, () => {
      const s = connect(Number(url.port), url.hostname);
      s.on('error', () => undefined);
      sockets.push(s);
      return new Promise<void>((resolve) => {
        s.once('connect', () => {
          if (bytes !== '') s.write(bytes);
          if (!answered) resolve();
        });
        s.once('data', () => resolve());
        s.once('close', () => resolve());
      });
    }),
  );
}

describe.skipIf(process.platform !== 'linux')('file descriptor limit', () => {
  it('idle connections beyond what the process can open are refused at accept; the admin listener still answers', async () => {
    const gw = await limitedGateway();
    expect(gw.out()).toMatch(/"msg":"server.maxConnections is more than this process can open/);
    await connections(gw.url, 400);
    // 400 idle connections open (or refused): the admin listener and the upstream are still reachable.
    const health = await fetch(`${gw.adminUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
    expect(health.status).toBe(200);
    const status = (await (await fetch(`${gw.adminUrl}/status`, { signal: AbortSignal.timeout(5_000) })).json()) as { counters: { requests: number } };
    expect(status.counters.requests).toBe(0);
  }, 120_000);

  it('heads sent halfway to the admin listener take no descriptor the proxy needs (hostile-11: 400 of them and every client was reset)', async () => {
    const gw = await limitedGateway();
    // Each is answered once (so the gateway holds it: accepted, not queued), then sends a head halfway.
    await connections(new URL(gw.adminUrl), 400, 'GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\nGET /status HTTP/1.1\r\nHost: admin\r\n', true);
    const res = await fetch(`${gw.url.origin}/`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  }, 120_000);
});
