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
