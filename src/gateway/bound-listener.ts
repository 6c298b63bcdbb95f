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

/** Which listener failed to open: the proxy's (`listen.*`) or the admin one (`admin.*`). */
export type ListenerName = 'listen' | 'admin';

/**
 * A listen failure as an error naming the option, the address and the port, the original as
 * its `cause`: node's `listen EADDRINUSE: address already in use 127.0.0.1:9901` said neither
 * which listener nor which setting, and an admin listener on the proxy's port (another address
 * of the same port) read as the proxy's.
 */
export function listenError(err: Error, listener: ListenerName, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const what = listener === 'admin' ? 'the admin listener' : 'the proxy listener';
  const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  let message: string;
  if (code === 'EADDRINUSE') message = port === 0 ? `${listener}.port: 0 asks for a free port on ${host}, and none was left for ${what} (EADDRINUSE)` : `${listener}.port: ${at} is in use (by another process, or this one), so ${what} cannot open it (EADDRINUSE); pick another ${listener}.port, or 0 for a free one`;
  else if (code === 'EACCES') message = `${listener}.port: this process may not listen on ${at} (EACCES: ports below 1024 need privileges), so ${what} cannot open it`;
  else if (code === 'EADDRNOTAVAIL') message = `${listener}.host: ${host} is not an address of this machine, so ${what} cannot listen on it (EADDRNOTAVAIL)`;
  else return err;
  const e = new Error(message, { cause: err }) as Error & { code: string; syscall: string | undefined; listener: ListenerName; address: string; port: number };
  e.code = code;
  e.syscall = (err as NodeJS.ErrnoException).syscall;
  e.listener = listener;
  e.address = host;
  e.port = port;
  return e;
}

/** A listen failure's fields (listenError's), apart from its message: what a worker's failure carries to its primary, whose IPC passes an Error's message alone. */
export interface ListenFailure {
  readonly code: string;
  readonly syscall: string | undefined;
  readonly listener: ListenerName;
  readonly address: string;
  readonly port: number;
}

/** `err`'s listen failure fields, when it is one listenError made; undefined otherwise. */
export function listenFailureOf(err: unknown): ListenFailure | undefined {
  const e = err as Partial<ListenFailure> | undefined;
  if (!(err instanceof Error) || e?.listener === undefined || e.code === undefined || e.address === undefined || e.port === undefined) return undefined;
  return { code: e.code, syscall: e.syscall, listener: e.listener, address: e.address, port: e.port };
}

export function listen(server: Server, port: number, host: string, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error): void => reject(listenError(err, 'listen', host, port));
    server.once('error', failed);
    server.listen({ port, host, backlog }, () => {
      server.off('error', failed);
      resolve();
    });
  });
}
