// A listener that cannot open says so the same way on every listener: the proxy's, the admin
// one, and the proxy's as --workers' workers open it — exit 2, and a line naming the flag (or key),
// the address and the port. Until gwsplit a worker's failure reached the primary as its message
// alone, and the CLI, reading the address from the message's end, said "?:?" for a port in use
// (EADDRINUSE) or below 1024 (EACCES). EACCES is seen as a user without privileges: as root, the
// gateway runs as nobody (setpriv); skipped where neither is possible.
import { execFileSync, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { cliArgv } from '../cli-command.js';
import { cleanup, root, upstream, WORKERS_START_MS } from './helpers.js';

afterEach(cleanup);

const UP = 'http://127.0.0.1:1';

/** The CLI's exit code and stderr, run as nobody (setpriv) when `asNobody`. */
function run(args: readonly string[], asNobody = false): Promise<{ code: number | null; stderr: string }> {
  const argv = cliArgv(['gateway', '--upstream', UP, '--host', '127.0.0.1', '--log-level', 'error', ...args]);
  const [cmd, list] = asNobody ? ['setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, ...argv]] : [process.execPath, argv];
  const child = spawn(cmd, list, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // A gateway that opened its listeners after all would serve for ever: a hang guard, not a figure.
  const guard = setTimeout(() => child.kill('SIGKILL'), WORKERS_START_MS);
  return new Promise((resolve) => child.on('exit', (code) => (clearTimeout(guard), resolve({ code, stderr }))));
}

/** Whether this test may see EACCES: not root (ports below 1024 are refused), or root with setpriv to drop it. */
function unprivileged(): { possible: boolean; asNobody: boolean } {
  if (process.getuid?.() !== 0) return { possible: true, asNobody: false };
  try {
    execFileSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '-e', '0'], { stdio: 'ignore' });
    return { possible: true, asNobody: true };
  } catch {
    return { possible: false, asNobody: false };
  }
}

describe('a listener that cannot open: the same answer from each listener, with workers too', () => {
  it('a port in use: the proxy listener opened by 2 workers, and the admin listener beside them', async () => {
    const taken = await upstream((_req, res) => res.end());
    const at = `127.0.0.1:${taken.port}`;
    const proxy = await run(['--port', String(taken.port), '--no-admin', '--workers', '2']);
    expect(proxy).toEqual({ code: 2, stderr: `sluice gateway: --port (listen.port): ${at} is in use by another process, so the proxy listener cannot open it (EADDRINUSE)\n` });
    const admin = await run(['--port', '0', '--admin-port', String(taken.port), '--workers', '2']);
    expect(admin).toEqual({ code: 2, stderr: `sluice gateway: --admin-port (admin.port): ${at} is in use by another process, so the admin listener cannot open it (EADDRINUSE)\n` });
  }, 3 * WORKERS_START_MS);

  it('a port below 1024 without privileges (EACCES): the proxy listener alone and by 2 workers, the admin listener', async (ctx) => {
    const { possible, asNobody } = unprivileged();
    if (!possible) ctx.skip();
    const proxyLine = `sluice gateway: --port (listen.port): this process may not listen on 127.0.0.1:80 (EACCES: ports below 1024 need privileges)\n`;
    expect(await run(['--port', '80', '--no-admin'], asNobody)).toEqual({ code: 2, stderr: proxyLine });
    expect(await run(['--port', '80', '--no-admin', '--workers', '2'], asNobody)).toEqual({ code: 2, stderr: proxyLine });
    expect(await run(['--port', '0', '--admin-port', '80', '--workers', '2'], asNobody)).toEqual({ code: 2, stderr: `sluice gateway: --admin-port (admin.port): this process may not listen on 127.0.0.1:80 (EACCES: ports below 1024 need privileges)\n` });
  }, 4 * WORKERS_START_MS);
});
