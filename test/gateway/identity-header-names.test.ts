// A policy limited by a header the gateway itself drops or rewrites before the upstream
// (hostile-8): with `--tenant-header x-forwarded-for`, every request with a new planted address
// got a fresh bucket (a 1/min limit let 4 of 4 through), and the upstream saw the gateway's own
// X-Forwarded-For, not the key. Such a tenant or criticality header is refused in the config
// (--check and the flags: exit 2, the option, what is expected and what was written). In this
// process: gatewayCommandRun.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gatewayCommandRun, tempDir } from './helpers.js';

afterEach(cleanup);

async function check(yaml: string): Promise<{ code: number; lines: string[] }> {
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, yaml);
  const r = await gatewayCommandRun(['--check', '--config', file]);
  return { code: r.code, lines: r.stderr.replaceAll(file, 'sluice.yaml').trimEnd().split('\n') };
}

const policy = (tenant: string, criticality?: string): string =>
  `upstreams: { app: { url: "http://127.0.0.1:3000" } }\nroutes:\n  - path: /\n    policy:\n      tenant: { header: ${tenant} }\n${criticality === undefined ? '' : `      criticalityHeader: ${criticality}\n`}      rateLimits: [{ rate: 1/s }]\n`;

const ADDRESS = "; to limit by the client's address: tenant: ip, with trustProxy behind a proxy";

describe('a tenant or criticality header the upstream never receives as sent', () => {
  it('is refused by --check with its key, line, reason and what to use instead', async () => {
    const r = await check(policy('X-Forwarded-For', 'Connection'));
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([
      `sluice.yaml:5: routes[0].policy.tenant.header: expected a header the upstream receives as the client sent it (X-Forwarded-For is rewritten by the gateway (from the connection, and from trusted proxies): the upstream never sees what a client sent${ADDRESS}), found "X-Forwarded-For"`,
      'sluice.yaml:6: routes[0].policy.criticalityHeader: expected a header the upstream receives as the client sent it (Connection is hop-by-hop: it never reaches the upstream), found "Connection"',
    ]);
  });

  it('whichever of them: forwarding, hop-by-hop and client-address headers', async () => {
    for (const name of ['forwarded', 'x-forwarded-host', 'x-real-ip', 'true-client-ip', 'cf-connecting-ip', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy']) {
      const r = await check(policy(name));
      expect(r.code, name).toBe(2);
      expect(r.lines[0], name).toMatch(/^sluice\.yaml:5: routes\[0\]\.policy\.tenant\.header: expected a header the upstream receives as the client sent it/);
    }
  });

  it('one the operator strips (server.stripHeaders) too', async () => {
    const r = await check(`server: { stripHeaders: [X-Customer] }\n${policy('x-customer')}`);
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([
      `sluice.yaml:6: routes[0].policy.tenant.header: expected a header the upstream receives as the client sent it (x-customer is in server.stripHeaders: the upstream never sees what a client sent${ADDRESS}), found "x-customer"`,
    ]);
  });

  it('written with underscores, judged as the gateway drops it: x_forwarded_for, x_real_ip, proxy_authorization, content_length; a stripHeaders entry x_customer (hostile-11)', async () => {
    // node:http keeps X_Forwarded_For as its own header (the tenant key, fresh per request),
    // and the gateway drops it before the upstream as the X-Forwarded-For it is there.
    for (const name of ['x_forwarded_for', 'X_Real_IP', 'proxy_authorization', 'content_length']) {
      const r = await check(policy(name));
      expect(r.code, name).toBe(2);
      expect(r.lines[0], name).toMatch(/^sluice\.yaml:5: routes\[0\]\.policy\.tenant\.header: expected a header the upstream receives as the client sent it/);
    }
    const stripped = await check(`server: { stripHeaders: [x_customer] }\n${policy('X-Customer')}`);
    expect(stripped.lines).toEqual([
      `sluice.yaml:6: routes[0].policy.tenant.header: expected a header the upstream receives as the client sent it (X-Customer is in server.stripHeaders: the upstream never sees what a client sent${ADDRESS}), found "X-Customer"`,
    ]);
    expect((await check(policy('x_api_key'))).code).toBe(0);
  });

  it('a header that reaches the upstream is fine (Host too: it goes on as X-Forwarded-Host)', async () => {
    for (const name of ['x-api-key', 'authorization', 'host', 'x-tenant']) expect((await check(policy(name))).code, name).toBe(0);
  });

  it('--tenant-header that is not a header name: the flag says what it takes, not the YAML form', async () => {
    for (const bad of ['bad:header', 'x api key', '']) {
      const r = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:3000', '--rate', '1/min', '--tenant-header', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toContain(`--tenant-header (policies.<name>.tenant.header): expected a header name such as X-Api-Key (letters, digits, -), received ${JSON.stringify(bad)}`);
    }
  });

  it('--tenant-header names itself and its key', async () => {
    const r = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:3000', '--rate', '1/min', '--tenant-header', 'x-forwarded-for']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `sluice gateway: --tenant-header (policies.<name>.tenant.header): expected a header the upstream receives as the client sent it (x-forwarded-for is rewritten by the gateway (from the connection, and from trusted proxies): the upstream never sees what a client sent${ADDRESS}), received "x-forwarded-for"\n`,
    );
  });
});
