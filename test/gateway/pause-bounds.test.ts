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
    expect(errorOf({ maxHeaderSize: '1gb' })).toMatch(/server\.maxHeaderSize.*<= 1mb/);
    expect(errorOf({ bodyMemory: '100000gb', maxBodySize: '1mb' })).toMatch(/server\.bodyMemory.*this machine's memory/);
    expect(errorOf({ workers: 1000 })).toMatch(/server\.workers/);
    expect(errorOf({ maxHeaderSize: '64kb', bodyMemory: '64mb', workers: 'auto' })).toBe('');
  });
});
