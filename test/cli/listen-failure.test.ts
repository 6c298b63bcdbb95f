// `sluice gateway` names the listener and the setting of a listen failure from the error's own
// fields (code, address, port, listener: bound-listener.ts listenError, node's errno errors, a
// worker's failure as its primary rebuilds it). An error without them is not a listen failure:
// until gwedge the CLI read a code and an address out of any message, and a start that failed
// on another connection — a worker whose Redis store refused it, `connect EACCES
// 10.0.0.5:6379` as a message alone — was told as its own listener that may not open 6379.
import { describe, expect, it } from 'vitest';
import { listenFailure } from '../../src/cli/gateway.js';
import type { GatewayConfig } from '../../src/gateway/index.js';

const config: GatewayConfig = { listen: { host: '0.0.0.0', port: 8080 }, admin: { port: 9901 }, upstreams: { app: { url: 'http://127.0.0.1:3000' } }, routes: [{ path: '/' }] };
const fields = (message: string, f: Record<string, unknown>): Error => Object.assign(new Error(message), f);

describe("sluice gateway's listen failure", () => {
  it('is read from the fields: code, address, port and the listener', () => {
    const admin = fields('admin.port: 127.0.0.1:9901 is in use', { code: 'EADDRINUSE', address: '127.0.0.1', port: 9901, listener: 'admin' });
    expect(listenFailure(admin, config, false)).toBe('admin.port: 127.0.0.1:9901 is in use by another process, so the admin listener cannot open it (EADDRINUSE)');
    const proxy = fields('whatever the message says 10.9.9.9:1', { code: 'EACCES', address: '0.0.0.0', port: 80, listener: 'listen' });
    expect(listenFailure(proxy, config, true)).toBe('--port (listen.port): this process may not listen on 0.0.0.0:80 (EACCES: ports below 1024 need privileges)');
    // node's own errno error (its address and port fields), no listener named: the admin port tells.
    const raw = fields('listen EADDRINUSE: address already in use 127.0.0.1:9901', { code: 'EADDRINUSE', address: '127.0.0.1', port: 9901, syscall: 'listen' });
    expect(listenFailure(raw, config, false)).toMatch(/^admin\.port: 127\.0\.0\.1:9901 is in use by another process, so the admin listener/);
  });

  it('is not guessed from a message: an error without a code is not one', () => {
    // A worker that failed to start on its Redis store's connect, as its primary reports it (the message alone).
    expect(listenFailure(new Error('connect EACCES 10.0.0.5:6379'), config, false)).toBeUndefined();
    expect(listenFailure(new Error('connect EADDRNOTAVAIL 10.0.0.5:6379'), config, true)).toBeUndefined();
    expect(listenFailure(new Error('store: EADDRINUSE at 127.0.0.1:9901'), config, false)).toBeUndefined();
  });
});
