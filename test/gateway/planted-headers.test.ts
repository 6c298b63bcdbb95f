// Client-planted identity headers never reach the upstream (issue 10, finding 4): the gateway
// CLI, spawned, with a header list of its operator's, in front of an upstream that records
// what it receives. From an untrusted client every planted header is gone (the forwarding
// headers carry the real peer); through a trusted proxy they are its to pass on.
import { writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STRIPPED_HEADERS } from '../../src/gateway/forward-headers.js';
import { cleanup, gateway, get, ONE_START_MS, tempDir, upstream } from './helpers.js';

afterEach(cleanup);

const PLANTED: Record<string, string> = {
  ...Object.fromEntries(STRIPPED_HEADERS.map((n) => [n, '6.6.6.6'])),
  'X-Forwarded-For': '6.6.6.6',
  'X-Forwarded-Host': 'evil.example',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Port': '443',
  'X-Forwarded-Prefix': '/admin',
  Forwarded: 'for=6.6.6.6',
  'X-User-Id': 'root',
  'x-internal-auth': 'yes',
  // A client certificate as TLS-terminating proxies pass it on (RFC 9440, IIS ARR and ASP.NET
  // Core's certificate forwarding, nginx/HAProxy conventions): the gateway terminates no TLS,
  // so any is planted — an upstream that authenticates by it took a client for whoever's
  // (public) certificate it named. And the scheme and original target as ingress-nginx, Tornado
  // and Envoy pass them (hostile-15: all were forwarded).
  'Client-Cert': ':6.6.6.6:',
  'Client-Cert-Chain': ':6.6.6.6:',
  'X-ARR-ClientCert': '6.6.6.6',
  'X-ARR-SSL': '6.6.6.6',
  'X-SSL-Client-Cert': '6.6.6.6',
  'X-SSL-Client-Verify': 'SUCCESS 6.6.6.6',
  'X-SSL-Client-S-DN': 'CN=root',
  'SSL-Client-Cert': '6.6.6.6',
  'SSL-Client-Verify': 'SUCCESS 6.6.6.6',
  'X-Client-Cert': '6.6.6.6',
  'X-Client-Verify': 'SUCCESS 6.6.6.6',
  'X-Scheme': 'https',
  'X-Original-URI': '/admin',
  'X-Envoy-Original-Path': '/admin',
  // What an Envoy sidecar in front of the upstream (a service mesh) obeys from a request it
  // takes for internal — the gateway's are: retries and timeouts of its own, one admitted
  // request made eleven at the upstream (hostile-15: forwarded).
  'X-Envoy-Retry-On': '5xx',
  'X-Envoy-Max-Retries': '10',
  'X-Envoy-Upstream-Rq-Timeout-Ms': '0',
  // ... and a Linkerd proxy in ingress mode beside the gateway routes by this one: to any service.
  'L5d-Dst-Override': 'admin.internal.svc.cluster.local:80',
  // Underscored twins, which CGI-style upstreams read as the dashed names (hostile finding F4b).
  X_Real_IP: '6.6.6.6',
  'X-Forwarded_For': '6.6.6.6',
  'X-Original_URL': '/admin',
  X_User_Id: 'root',
};

async function start(trustProxy: string): Promise<{ url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const up = await upstream((req, res) => {
    seen.push(req.headers);
    res.end('ok');
  });
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(
    file,
    [
      'listen: { host: 127.0.0.1, port: 0 }',
      'admin: { enabled: false }',
      'server: { stripHeaders: [X-User-Id, x-internal-auth] }',
      `trustProxy: [${trustProxy}]`,
      `upstreams: { app: { url: "${up.url}" } }`,
      'routes: [{ path: / }]',
      '',
    ].join('\n'),
  );
  const gw = await gateway(['gateway', '--config', file]);
  return { url: gw.url, seen };
}

describe('planted headers', () => {
  it('from an untrusted client: none reaches the upstream, whose forwarding headers name the real peer', async () => {
    const { url, seen } = await start('10.0.0.0/8');
    expect((await get(`${url}/x`, { headers: { ...PLANTED, 'X-Kept': 'yes' } })).status).toBe(200);
    const h = seen[0]!;
    for (const name of [...STRIPPED_HEADERS, 'x-forwarded-port', 'x-forwarded-prefix', 'x-user-id', 'x-internal-auth']) expect(h[name], name).toBeUndefined();
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe(new URL(url).host);
    expect(h['forwarded']).toMatch(/^for=127\.0\.0\.1;/);
    expect(h['x-kept']).toBe('yes');
    for (const name of ['x_real_ip', 'x-forwarded_for', 'x-original_url', 'x_user_id']) expect(h[name], name).toBeUndefined();
    expect(Object.keys(h).filter((n) => n.startsWith('x-envoy-') || n.startsWith('l5d-'))).toEqual([]);
    expect(JSON.stringify(h)).not.toMatch(/6\.6\.6\.6|evil|root|\/admin|https/);
  }, ONE_START_MS + 30_000); // the start, and the rest

  it('through a trusted proxy: they are passed on (the proxy wrote them)', async () => {
    const { url, seen } = await start('loopback');
    expect((await get(`${url}/x`, { headers: PLANTED })).status).toBe(200);
    const h = seen[0]!;
    expect(h['x-real-ip']).toBe('6.6.6.6');
    expect(h['true-client-ip']).toBe('6.6.6.6');
    expect(h['x-user-id']).toBe('root');
    expect(h['x-forwarded-port']).toBe('443');
    expect(h['x-envoy-max-retries']).toBe('10');
    expect(h['l5d-dst-override']).toBe('admin.internal.svc.cluster.local:80');
    expect(h['x-forwarded-for']).toBe('6.6.6.6, 127.0.0.1');
  }, ONE_START_MS + 30_000); // the start, and the rest
});
