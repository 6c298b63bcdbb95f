// A refused connection's pause ends well inside the timeouts that would otherwise answer the
// client for the gateway's own wait: half the keep-alive timeout (the connection would be
// closed) and half the header timeout (a pipelined request whose head arrived in two pieces
// would be answered 408 — hostile pass 2, P3).
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/gateway/validate-config.js';

const base = { upstreams: { app: { url: 'http://127.0.0.1:9' } }, routes: [{ path: '/', upstream: 'app' }] };

describe('server.pauseRefused bounds', () => {
  it('is capped at half of headersTimeout and of keepAliveTimeout; otherwise as configured', () => {
    expect(resolveConfig({ ...base, server: { pauseRefused: '1s', headersTimeout: '300ms' } }).server.pauseRefusedMs).toBe(150);
    expect(resolveConfig({ ...base, server: { pauseRefused: '1s', keepAliveTimeout: '400ms' } }).server.pauseRefusedMs).toBe(200);
    expect(resolveConfig({ ...base, server: { pauseRefused: '700ms' } }).server.pauseRefusedMs).toBe(700);
  });
});

describe('server sizes and workers have upper bounds (hostile pass 2, C1/C2)', () => {
  const errorOf = (server: Record<string, unknown>): string => {
    try {
      resolveConfig({ ...base, server });
      return '';
    } catch (err) {
      return String(err);
    }
  };

  it('refuses maxHeaderSize over 1mb, memory budgets over the machine and more than 256 workers, naming each', () => {
    expect(errorOf({ maxHeaderSize: '1gb' })).toMatch(/server\.maxHeaderSize.*from 1kb to 1mb/);
    // Below 1 kB every ordinary request would be 431 (hostile-3: maxHeaderSize 1 passed --check).
    expect(errorOf({ maxHeaderSize: 1 })).toMatch(/server\.maxHeaderSize: expected a size from 1kb to 1mb.*found 1/);
    expect(errorOf({ maxHeaderSize: '1kb' })).toBe('');
    expect(errorOf({ bodyMemory: '1000gb', maxBodySize: '1mb' })).toMatch(/server\.bodyMemory.*this machine's memory/);
    expect(errorOf({ workers: 1000 })).toMatch(/server\.workers/);
    expect(errorOf({ maxHeaderSize: '64kb', bodyMemory: '64mb', workers: 'auto' })).toBe('');
  });
});

describe('listener hosts (hostile-3: listen.host "not a host" passed --check and failed at start)', () => {
  const errorOf = (extra: Record<string, unknown>): string => {
    try {
      resolveConfig({ ...base, ...extra });
      return '';
    } catch (err) {
      return String(err);
    }
  };

  it('refuses a listen or admin host that is neither an IP address nor a host name, naming the key', () => {
    expect(errorOf({ listen: { host: 'not a host' } })).toMatch(/listen\.host: expected an IP address .* or a host name .*found "not a host"/);
    expect(errorOf({ admin: { host: 'gw/admin' } })).toMatch(/admin\.host: expected an IP address/);
    expect(errorOf({ listen: { host: '-bad.example' } })).toMatch(/listen\.host/);
  });

  it('takes IPv4, IPv6 and host names', () => {
    for (const host of ['127.0.0.1', '0.0.0.0', '::', '::1', 'fe80::1', 'localhost', 'gw.internal', 'a-b.example.com']) {
      expect(errorOf({ listen: { host }, admin: { host } }), host).toBe('');
    }
  });
});
