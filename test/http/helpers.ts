// Loopback helpers: servers on port 0, plain node:http requests, fake request/response pairs.
import { EventEmitter } from 'node:events';
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export function get(port: number, path = '/', headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Send a request and destroy its socket after `afterMs`, without reading a reply. */
export function abandon(port: number, path: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false });
    req.on('error', () => resolve());
    req.end();
    setTimeout(() => {
      req.destroy();
      resolve();
    }, afterMs);
  });
}

/** A request left open until `abort()` destroys its connection: a client that goes away when the test says, not after a timer. */
export function held(port: number, path: string): { abort: () => void } {
  const req = httpRequest({ host: '127.0.0.1', port, path, agent: false });
  req.on('error', () => undefined);
  req.end();
  return { abort: () => void req.destroy() };
}

/**
 * A request in flight and one waiting behind it (a limit of 1), then each client gone once the
 * gate holds it, not after a timer (on a busy host a request can reach the server after its
 * timer): the waiter once queued (removed, nothing released meanwhile), then the first. Resolves
 * once `outcomes` (the gate's release outcomes) has one.
 */
export async function abandonInFlightAndWaiter(port: number, path: string, gate: { readonly inFlight: number; readonly queued: number }, outcomes: readonly string[]): Promise<void> {
  const first = held(port, path);
  await until(() => gate.inFlight === 1, 10_000);
  const waiter = held(port, path);
  await until(() => gate.queued === 1, 10_000);
  waiter.abort();
  await until(() => gate.queued === 0, 10_000);
  if (outcomes.length !== 0) throw new Error(`released while the first was in flight: ${outcomes.join(', ')}`);
  first.abort();
  await until(() => outcomes.length === 1, 10_000);
}

/** Poll `cond` every 5 ms, at most `ms`. */
export async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A request as the policy sees it: headers and a socket address. */
export function fakeReq(remoteAddress: string | undefined, headers: Record<string, string | string[]> = {}): { headers: Record<string, string | string[]>; socket: { remoteAddress?: string } } {
  return { headers, socket: remoteAddress === undefined ? {} : { remoteAddress } };
}

/** A response that closes when told: `finish(status)` or `abort()`. */
export class FakeRes extends EventEmitter {
  statusCode = 200;
  writableFinished = false;
  destroyed = false;
  finish(status = 200): void {
    this.statusCode = status;
    this.writableFinished = true;
    this.emit('close');
  }
  abort(): void {
    this.destroyed = true;
    this.emit('close');
  }
}
