// An upstream whose connects hang: a child process listening with an accept queue of one,
// stopped (SIGSTOP), its queue filled — the kernel drops every later SYN, as for an unreachable
// host, and TCP sends a dropped SYN again 1 s later (its initial retransmission timeout).
// `resume()` (SIGCONT) lets it accept again. Killed by cleanup().
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { onCleanup, sleep } from './helpers.js';

/** `server`: JavaScript for the child that evaluates to a node:net or node:http server, not yet listening. */
export async function stoppedListener(server = "require('net').createServer()"): Promise<{ url: string; resume: () => void }> {
  const code = `(${server}).listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { process.stdout.write(this.address().port + '\\n'); })`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const fillers: Socket[] = [];
  onCleanup(async () => {
    for (const s of fillers) s.destroy();
    child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8').once('data', (d: string) => resolve(Number(d.trim())));
    child.once('exit', (c) => reject(new Error(`the listener exited ${c}`)));
  });
  child.kill('SIGSTOP');
  // A backlog of 1 queues 2 connections; those after them wait for a SYN-ACK that does not come.
  const connected = Array.from({ length: 4 }, () => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
    return new Promise<boolean>((r) => s.once('connect', () => r(true)));
  });
  await Promise.race([Promise.all(connected.slice(0, 2)), sleep(5_000)]);
  return { url: `http://127.0.0.1:${port}`, resume: () => void child.kill('SIGCONT') };
}
