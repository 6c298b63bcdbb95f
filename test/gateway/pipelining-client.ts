// A raw client for the pipelining tests (pipeline-memory, pipeline-flood): a connection whose
// bytes the test writes, and everything it receives as text, until it closes.
import type { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Gateway } from '../../src/gateway/index.js';
import { oneRoute, startInProcess, upstream } from './helpers.js';

export const GET = 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n';
export const HELD = 'GET /held HTTP/1.1\r\nHost: a\r\n\r\n';

export interface PipeliningClient {
  readonly socket: Socket;
  closed: boolean;
  text: string;
}

/** A connection to `port` on loopback, connected. */
export async function pipeliningClient(port: number): Promise<PipeliningClient> {
  const socket = connect(port, '127.0.0.1');
  const c: PipeliningClient = { socket, closed: false, text: '' };
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (c.text += d));
  socket.on('error', () => undefined);
  socket.on('close', () => (c.closed = true));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return c;
}

/** How many 200 answers `c` received. */
export const answers = (c: PipeliningClient): number => (c.text.match(/HTTP\/1\.1 200/g) ?? []).length;

/** A gateway in front of an upstream that holds every `/held` request (its responses in `held`) and answers the rest 'ok'. */
export async function heldGateway(): Promise<{ held: ServerResponse[]; gw: Gateway; port: number }> {
  const held: ServerResponse[] = [];
  const up = await upstream((req, res) => {
    if (req.url === '/held') held.push(res);
    else res.end('ok');
  });
  const gw = await startInProcess(oneRoute(up.url, '30s'));
  return { held, gw, port: Number(new URL(gw.url).port) };
}
