/** The proxy listener: bound (listen), and the addresses it is reached at (moved out of gateway.ts). */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** `http://<bound address>:<port>`. */
export function urlOf(server: Server): string {
  const a = server.address() as AddressInfo;
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}

/** The host:port a local client names in an absolute-form target: a wildcard bind is reached on loopback. */
export function localHostOf(server: Server): string {
  const a = server.address() as AddressInfo;
  const host = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `${host}:${a.port}`;
}

export function listen(server: Server, port: number, host: string, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
