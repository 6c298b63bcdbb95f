// SIGTERM under a reconnect storm (wrk -c2000, or clients that retry at once): every client
// answered 503 + Connection: close during the drain connected again at once, the kernel queued
// it, and the listener, closed at its 1 s cap with the queue never empty, reset all the queue
// held (196 of 200 storming clients got ECONNRESET after sending their request, drain session).
// Now the answers to connections accepted during the drain wait until the listener is closed
// (accept-queue-grace.ts): the storm runs out of clients, the listener closes on an empty queue,
// the answers go out, and a client that tries again is refused (nothing sent). Counted with raw
// sockets: an answer, a clean close, a refusal — never a reset. The gateway is a spawned CLI.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_TEST_MS, cleanup, gateway, upstream } from './helpers.js';

afterEach(cleanup);

const CLIENTS = 200;

type Outcome = 'answered' | 'closed' | 'reset' | 'refused' | 'other';

/** One connection: connect, send a GET, read until the connection closes (bounded). */
function attempt(port: number): Promise<{ outcome: Outcome; head: string }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let data = '';
    let err = '';
    s.on('connect', () => s.write('GET /x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n'));
    s.setEncoding('latin1').on('data', (d: string) => (data += d));
    s.on('error', (e: NodeJS.ErrnoException) => (err = e.code ?? 'error'));
    const timer = setTimeout(() => s.destroy(), 20_000);
    s.on('close', () => {
      clearTimeout(timer);
      const outcome: Outcome = data.startsWith('HTTP/1.1 ') ? 'answered' : err === 'ECONNRESET' ? 'reset' : err === 'ECONNREFUSED' ? 'refused' : err === '' ? 'closed' : 'other';
      resolve({ outcome, head: data.slice(0, data.indexOf('\r\n\r\n') + 2) });
    });
  });
}

/**
 * CLIENTS clients, each connecting again as soon as its connection closes, SIGTERM once 200 were
 * answered (or after 30 s: a busy host may answer fewer); then until each is refused (or 40 s after
 * SIGTERM: the drain's deadline is 30 s).
 */
async function storm(args: readonly string[]): Promise<{ counts: Record<Outcome, number>; drainAnswers: string[]; code: number | null }> {
  const up = await upstream((_req, res) => res.end('ok'));
  const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--concurrency', '8', ...args]);
  const port = Number(new URL(gw.url).port);
  const counts: Record<Outcome, number> = { answered: 0, closed: 0, reset: 0, refused: 0, other: 0 };
  let termed = false;
  const drainAnswers: string[] = [];
  let until = Date.now() + 30_000;
  const client = async (): Promise<void> => {
    while (Date.now() < until) {
      const { outcome, head } = await attempt(port);
      counts[outcome]++;
      if (termed && outcome === 'answered') drainAnswers.push(head);
      if (outcome === 'refused') return;
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);
  while (counts.answered < 200 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  termed = true;
  until = Date.now() + 40_000;
  gw.child.kill('SIGTERM');
  await Promise.all(clients);
  // The drain is bounded (30 s deadline, then cut): a gateway still running after 90 s is a hang, said with its log.
  const code = await Promise.race([gw.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 90_000))]);
  if (code === 'running') throw new Error(`the gateway did not exit within 90 s of SIGTERM: ${JSON.stringify(counts)}\n${gw.lines.slice(-40).join('\n')}`);
  return { counts, drainAnswers, code };
}

describe('drain under a reconnect storm', () => {
  it('one process: every connection is answered, closed cleanly or refused — none is reset — and the storm ends refused', async () => {
    const { counts, drainAnswers, code } = await storm([]);
    expect(code).toBe(0);
    expect(counts, JSON.stringify(counts)).toMatchObject({ reset: 0, other: 0, refused: CLIENTS });
    // What the drain answered says so, and closes.
    for (const head of drainAnswers) expect(head).toMatch(/\r\nconnection: close\r\n/i);
    expect(drainAnswers.some((h) => h.startsWith('HTTP/1.1 503 '))).toBe(true);
  }, 180_000);

  it('--workers 2: the same — no worker answers what it held until the last copy of the listener has closed in every worker', async () => {
    const { counts, drainAnswers, code } = await storm(['--workers', '2']);
    expect(code).toBe(0);
    expect(counts, JSON.stringify(counts)).toMatchObject({ reset: 0, other: 0, refused: CLIENTS });
    for (const head of drainAnswers) expect(head).toMatch(/\r\nconnection: close\r\n/i);
  }, WORKERS_TEST_MS);
});
