// hostile-27: an upstream whose connect never completes — a host gone behind a router that drops
// its packets, a firewall's DROP, an accept queue that is full — held each admitted request's
// slot for undici's own connect timeout (10 s), then answered 502 upstream_unreachable, whatever
// the upstream's `timeout` said (1 s here: still 10 s; 1 m: still cut at 10 s). The upstream's
// `timeout` now bounds the connect too (at most those 10 s), and a connect that runs out of it
// is the upstream not answering in time: 504 upstream_timeout, as a silent upstream.
//
// The upstream is a child process that listens with an accept queue of one, stopped (SIGSTOP),
// its queue filled: the kernel drops every later SYN, as for an unreachable host.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/index.js';
import { cleanup, metricSample, onCleanup, oneRoute } from './helpers.js';
import { rawExchange, rawGet } from './raw-client.js';

afterEach(cleanup);

/** An address whose connects hang: a stopped listener whose accept queue is full. */
async function unanswered(): Promise<string> {
  const child = spawn(process.execPath, ['-e', "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { process.stdout.write(this.address().port + '\\n'); })"], { stdio: ['ignore', 'pipe', 'inherit'] });
  const fillers: Socket[] = [];
  onCleanup(async () => {
    for (const s of fillers) s.destroy();
    child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8').once('data', (d: string) => resolve(Number(d.trim())));
    child.once('exit', (code) => reject(new Error(`the listener exited ${code}`)));
  });
  child.kill('SIGSTOP');
  // A backlog of 1 queues 2 connections; those after them wait for a SYN-ACK that never comes.
  const connected = Array.from({ length: 4 }, () => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
    return new Promise<boolean>((r) => s.once('connect', () => r(true)));
  });
  await Promise.race([Promise.all(connected.slice(0, 2)), new Promise((r) => setTimeout(r, 5_000))]);
  return `http://127.0.0.1:${port}`;
}

describe('an upstream whose connect never completes (hostile-27)', () => {
  it("is answered 504 upstream_timeout: the upstream's timeout bounds the connect too", async () => {
    const failures: unknown[] = [];
    const quiet = (): void => undefined;
    const logger = { debug: (fields: Record<string, unknown>, msg: string) => void (msg === 'upstream failure' && failures.push(fields)), info: quiet, warn: quiet, error: quiet };
    const gw = await startGateway(oneRoute(await unanswered(), '1s', { policies: { p: { concurrency: { limit: 1 } } }, routes: [{ path: '/', policy: 'p' }] }), { logger });
    onCleanup(() => gw.close());
    const a = await rawExchange(gw.url, rawGet('/x'), 30_000);
    expect(a.status).toBe(504);
    expect(JSON.parse(a.body)).toMatchObject({ reason: 'upstream_timeout', detail: 'The upstream did not answer in time.' });
    // The connect waited the upstream's 1 s, not undici's 10 s.
    expect(failures).toEqual([expect.objectContaining({ reason: 'upstream_timeout', error: expect.stringMatching(/^UND_ERR_CONNECT_TIMEOUT: .*timeout: 1000ms\)$/) })]);
    // The slot came back with the answer.
    expect(gw.status().policies[0]!.gates.find((g) => g.kind === 'concurrency')!.inFlight).toBe(0);
    expect(metricSample((await gw.metrics())!, 'sluice_upstream_failures_total', { reason: 'upstream_timeout' })).toBe(1);
  }, 60_000);
});
