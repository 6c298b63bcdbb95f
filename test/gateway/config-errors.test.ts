// Config errors: exact messages naming file, line and key path; exit code 2. And the
// published schema is the one the code validates with. The command runs in this process
// (gatewayCommandRun: its own code from the flags to the exit code); the first cases spawn
// it, for the exit status and the streams of a real process.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA } from '../../src/gateway/schema.js';
import { cleanup, gateway, gatewayCommandRun, root, sluice, tempDir, upstream } from './helpers.js';

afterEach(cleanup);

function configFile(yaml: string): string {
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** `sluice gateway --check --config <file>` in this process. */
async function check(yaml: string): Promise<{ code: number | null; stderr: string; file: string; stdout: string }> {
  const file = configFile(yaml);
  const r = await gatewayCommandRun(['--check', '--config', file]);
  return { code: r.code, stderr: r.stderr.replaceAll(file, 'sluice.yaml'), file, stdout: r.stdout.trimEnd() };
}

describe('sluice gateway, as a process', () => {
  it('--check: a valid config exits 0 and says so; a bad one exits 2 and names the key', async () => {
    const good = configFile(`${UP}routes:\n  - path: /\n`);
    const ok = sluice(['gateway', '--check', '--config', good]);
    expect(await ok.exited).toBe(0);
    expect(ok.lines).toEqual([`${good}: ok`]);
    const bad = configFile(`listen:\n  prot: 8080\n${UP}routes:\n  - path: /\n`);
    const no = sluice(['gateway', '--check', '--config', bad]);
    expect(await no.exited).toBe(2);
    expect(no.stderr()).toBe(`${bad}:2: listen.prot: expected one of the keys host, port, backlog, found unknown key "prot"\n`);
  });

  it('a refused flag exits 2 with the flag named', async () => {
    const a = sluice(['gateway', '--upstream', 'http://127.0.0.1:1', '--queue-timeout', 'soon', '--concurrency', '5']);
    expect(await a.exited).toBe(2);
    expect(a.stderr()).toBe('sluice gateway: --queue-timeout (policies.<name>.concurrency.queueTimeout): expected a duration from 1ms to 10m (with its unit: 100ms, 2s, 1.5m, 1h, 1d), received "soon"\n');
  });
});

const UP = 'upstreams:\n  app:\n    url: http://127.0.0.1:3000\n';
const TRUSTED = 'an IP address, a CIDR block (address/prefix: 0 to 32 bits for IPv4, 0 to 128 for IPv6) or one of loopback, linklocal, uniquelocal';

describe('sluice gateway --check', () => {
  it('a valid config: exit 0', async () => {
    const r = await check(`${UP}routes:\n  - path: /\n    policy: { concurrency: 10 }\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${r.file}: ok`);
  });

  it('bad YAML', async () => {
    const r = await check(`${UP}routes:\n  - path: /\n    policy: { concurrency: 10\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sluice\.yaml:\d+: \(document\): expected valid YAML, found .+\n$/);
  });

  it('a YAML merge key is named, with its line: YAML 1.2 has none, and "<<" was refused as an unknown key, or taken for a policy named "<<"', async () => {
    const r = await check(`upstreams:\n  app: &up { url: http://127.0.0.1:3000, timeout: 5s }\n  app2:\n    <<: *up\npolicies:\n  <<: { p: { concurrency: { limit: 1 } } }\nroutes:\n  - { path: /, upstream: app }\n`);
    expect(r.code).toBe(2);
    const merge = `(document): expected valid YAML without merge keys (YAML 1.1's "<<: *anchor" is not read: write the keys out; anchors and aliases work), found a merge key "<<"`;
    expect(r.stderr).toBe(`sluice.yaml:4: ${merge}\nsluice.yaml:6: ${merge}\n`);
    // Quoted, it is a key like any other.
    expect((await check(`${UP}policies:\n  "<<": { concurrency: { limit: 1 } }\nroutes:\n  - { path: /, policy: "<<" }\n`)).code).toBe(0);
  });

  it('a key given twice in one mapping is named, with its line (yaml says only "Map keys must be unique", at its first character)', async () => {
    const r = await check(`${UP}  app:\n    url: http://127.0.0.1:3001\nroutes:\n  - { path: /, "path": /x }\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sluice.yaml:4: (document): expected valid YAML, found the key "app" twice in one mapping (map keys must be unique)');
    expect(r.stderr).toContain('sluice.yaml:7: (document): expected valid YAML, found the key "path" twice in one mapping (map keys must be unique)');
  });

  it('two YAML documents in one file are named as such, not with the parser\'s advice to call its API (hostile-13)', async () => {
    const r = await check(`${UP}routes:\n  - path: /\n---\nlisten: { port: 1 }\n`);
    expect(r.code).toBe(2);
    // Before: 'found Source contains multiple documents; please use YAML.parseAllDocuments()'.
    expect(r.stderr).toBe('sluice.yaml:6: (document): expected one YAML document (one config), found a second document (from this "---" on)\n');
  });

  it('bad YAML: each distinct error once (an unclosed flow map three levels deep was reported three times)', async () => {
    const r = await check(`${UP}routes: [ {{{ broken\n`);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(new Set(lines).size).toBe(lines.length);
    for (const l of lines) expect(l).toMatch(/^sluice\.yaml:\d+: \(document\): expected valid YAML, found /);
  });

  it('a header name that could never be sent (a line break in it) is refused, where a policy names one', async () => {
    const r = await check(`${UP}policies:\n  p:\n    tenant: { header: "x-key\\r\\nx-evil" }\n    criticalityHeader: "x crit"\nroutes:\n  - path: /\n    policy: p\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sluice.yaml:6: policies.p.tenant.header: expected a header name, found "x-key\\r\\nx-evil"\n' +
        'sluice.yaml:7: policies.p.criticalityHeader: expected a header name, found "x crit"\n',
    );
  });

  it('an unknown key', async () => {
    const r = await check(`listen:\n  prot: 8080\n${UP}routes:\n  - path: /\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('sluice.yaml:2: listen.prot: expected one of the keys host, port, backlog, found unknown key "prot"\n');
  });

  it('a wrong type, and a bad duration', async () => {
    const r = await check(`${UP}    timeout: fast\nroutes:\n  - path: /\n    policy:\n      concurrency: { limit: ten }\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sluice.yaml:4: upstreams.app.timeout: expected a duration from 1ms to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), found "fast"\n' +
        'sluice.yaml:8: routes[0].policy.concurrency.limit: expected an integer from 1 to 1000000, or adaptive, found "ten"\n',
    );
  });

  it('contradictory limits: burst < 1, a queue timeout without a queue', async () => {
    const r = await check(`${UP}routes:\n  - path: /\n    policy:\n      rateLimits:\n        - { rate: 100/s, burst: 0 }\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('sluice.yaml:8: routes[0].policy.rateLimits[0].burst: expected a number from 1 to 1000000000, found 0\n');
    const q = await check(`${UP}routes:\n  - path: /\n    policy:\n      concurrency:\n        limit: 10\n        queueTimeout: 100ms\n`);
    expect(q.code).toBe(2);
    expect(q.stderr).toBe('sluice.yaml:9: routes[0].policy.concurrency.queueTimeout: expected no queueTimeout without a queue (set queue >= 1), found "100ms"\n');
  });

  it('a policy on an exempt route is refused: the route is forwarded without it, and it limited nothing while /status listed it (hostile-ops)', async () => {
    const named = await check(`${UP}policies:\n  strict: { concurrency: 1 }\nroutes:\n  - { path: /, exempt: true, policy: strict }\n`);
    expect(named).toMatchObject({ code: 2, stderr: 'sluice.yaml:7: routes[0].policy: expected no policy on an exempt route (it is forwarded without admission: the policy would never be asked), found "strict"\n' });
    const inline = await check(`${UP}routes:\n  - path: /\n    exempt: true\n    policy: { concurrency: 1 }\n`);
    expect(inline).toMatchObject({ code: 2, stderr: 'sluice.yaml:7: routes[0].policy: expected no policy on an exempt route (it is forwarded without admission: the policy would never be asked), found a mapping\n' });
    expect((await check(`${UP}routes:\n  - { path: /health, exempt: true }\n  - { path: /, exempt: false, policy: { concurrency: 1 } }\n`)).code).toBe(0);
  });

  it('an empty list where one item is needed is found "an empty list" (it was "found a list", what was expected)', async () => {
    const r = await check(`${UP}routes: []\n`);
    expect(r).toMatchObject({ code: 2, stderr: 'sluice.yaml:4: routes: expected a list of at least 1 item(s), found an empty list\n' });
    const m = await check(`${UP}routes:\n  - { path: /, methods: [] }\n`);
    expect(m.stderr).toBe('sluice.yaml:5: routes[0].methods: expected a list of at least 1 item(s), found an empty list\n');
  });

  it('a canaryPercent between the hash\'s steps of 0.01 is refused: 0.004 was rounded to 0, a canary of no tenant (hostile-ops)', async () => {
    const canary = (p: string): string => `${UP}routes:\n  - path: /\n    policy: { concurrency: 1, mode: canary, canaryPercent: ${p} }\n`;
    const r = await check(canary('0.004'));
    expect(r).toMatchObject({ code: 2, stderr: 'sluice.yaml:6: routes[0].policy.canaryPercent: expected a percentage in steps of 0.01 (tenants are split into 10 000 buckets by the hash of their key), found 0.004\n' });
    expect((await check(canary('12.345'))).code).toBe(2);
    for (const ok of ['0.01', '0.29', '33.33', '100']) expect((await check(canary(ok))).code, ok).toBe(0);
  });

  it('a route an earlier route always takes first is refused: `- path: /` before `- path: /api` sent every /api request to the catch-all, its policy limiting nothing (hostile-ops)', async () => {
    const first = 'comes first and takes every request this one would (the first match wins; put the narrower route first)';
    const r = await check(`${UP}routes:\n  - { name: all, path: / }\n  - { name: api, path: /api, policy: { concurrency: 1 } }\n`);
    expect(r).toMatchObject({ code: 2, stderr: `sluice.yaml:6: routes[1].path: expected a route some request reaches: route "all" (path "/") ${first}, found "/api"\n` });
    // Methods: a GET route takes HEAD too; a route for more methods, or a case-insensitive one, is reached.
    const m = await check(`${UP}routes:\n  - { path: /a, methods: [GET] }\n  - { path: /a/b, methods: [HEAD] }\n  - { path: /a/c, methods: [GET, POST] }\n  - { path: /a, caseInsensitive: true }\n  - { path: /A/x }\n`);
    expect(m.stderr).toBe(`sluice.yaml:6: routes[1].path: expected a route some request reaches: route "route-0" (path "/a", methods GET) ${first}, found "/a/b"\nsluice.yaml:9: routes[4].path: expected a route some request reaches: route "route-3" (path "/a", caseInsensitive) ${first}, found "/A/x"\n`);
    const ok = await check(`${UP}routes:\n  - { path: /healthz, exempt: true }\n  - { path: /api, methods: [POST] }\n  - { path: /api }\n  - { path: /apix }\n  - { path: / }\n`);
    expect(ok.code).toBe(0);
  });

  it('a glob in a route path is refused: `/api/*` took only the literal /api/* and /api/users went past it (hostile-ops)', async () => {
    const path = async (p: string): Promise<string> => (await check(`${UP}routes:\n  - path: '${p}'\n`)).stderr;
    expect(await path('/api/*')).toBe('sluice.yaml:5: routes[0].path: expected a path prefix without wildcards (a route takes its path and everything under it: "/api" takes what this meant), found "/api/*"\n');
    expect(await path('/**')).toContain('"/" takes what this meant), found "/**"');
    expect(await path('/api/v*')).toBe('sluice.yaml:5: routes[0].path: expected a path prefix without wildcards (a route takes its path and everything under it), found "/api/v*"\n');
    expect(await path('/a*b')).toBe(''); // a "*" inside a segment is a character of the path
  });

  it('a mistyped key in tenant: { header } is named: it was "expected \'ip\', or { header: <name> } ..., found a mapping" (hostile-ops)', async () => {
    const tenant = async (t: string): Promise<string> => (await check(`${UP}routes:\n  - path: /\n    policy: { tenant: ${t}, concurrency: 1 }\n`)).stderr;
    expect(await tenant('{ header: x-api-key, fallbak: ip }')).toBe('sluice.yaml:6: routes[0].policy.tenant.fallbak: expected one of the keys header, found unknown key "fallbak"\n');
    expect(await tenant('{ heder: x-api-key }')).toContain('routes[0].policy.tenant.heder: expected one of the keys header, found unknown key "heder"');
    expect(await tenant('IP')).toBe('sluice.yaml:6: routes[0].policy.tenant: expected \'ip\', or { header: <name> } (a header such as an API key), found "IP"\n');
    for (const ok of ['ip', '{ header: x-api-key }']) expect(await tenant(ok), ok).toBe('');
  });

  it('a rate-limit override no request is metered as is refused: "gold-customer", or key:... without tenant: { header }, matched nobody (hostile-ops)', async () => {
    const o = (tenant: string, key: string): string => `${UP}policies:\n  p:\n${tenant}    rateLimits: [{ rate: 10/s, overrides: { "${key}": { rate: 100/s } } }]\nroutes:\n  - { path: /, policy: p }\n`;
    const header = '    tenant: { header: x-api-key }\n';
    expect((await check(o(header, 'gold-customer'))).stderr).toBe(
      'sluice.yaml:7: policies.p.rateLimits[0].overrides.gold-customer: expected a tenant as the gateway names one: "key:<the header\'s value>" or "ip:<client address>", found "gold-customer", which no request is metered as\n',
    );
    expect((await check(o('', 'key:gold'))).stderr).toBe(
      'sluice.yaml:6: policies.p.rateLimits[0].overrides["key:gold"]: expected a tenant as the gateway names one: "ip:<client address>" (key:... only with tenant: { header }), found "key:gold", which no request is metered as\n',
    );
    expect((await check(o(header, 'key:'))).code).toBe(2); // an empty header is metered by address
    for (const [t, k] of [[header, 'key:gold'], [header, 'ip:10.0.0.1'], ['', 'ip:127.0.0.1']] as const) expect((await check(o(t, k))).code, k).toBe(0);
  });

  it('references: an unknown upstream and policy, every problem listed', async () => {
    const r = await check(`${UP}policies:\n  api: { concurrency: 5 }\nroutes:\n  - path: /\n    upstream: nope\n    policy: missing\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sluice.yaml:8: routes[0].upstream: expected one of the upstreams app, found "nope"\n' + 'sluice.yaml:9: routes[0].policy: expected one of the policies api, found "missing"\n',
    );
  });

  it('two policies whose gates would have the same name and kind (one series on /metrics): the second is named', async () => {
    const policies = `policies:\n  a:\n    rateLimits: [{ name: b-c, rate: 10/s }]\n  a-b:\n    rateLimits: [{ name: c, rate: 10/s }]\n`;
    const r = await check(`${UP}${policies}routes:\n  - path: /x\n    policy: a\n  - path: /\n    policy: a-b\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('sluice.yaml:7: policies.a-b: expected gates named apart from other policies\' (/metrics labels a gate by its name and kind): rename a rate limit or the policy, found a keyed-rate gate named "a-b-c", as policy a has\n');
    // The same name on gates of other kinds is other series (a-b-concurrency: a's rate limit, a-b's concurrency gate).
    const ok = await check(`${UP}policies:\n  a:\n    rateLimits: [{ name: b-concurrency, rate: 10/s }]\n  a-b:\n    concurrency: 5\nroutes:\n  - path: /x\n    policy: a\n  - path: /\n    policy: a-b\n`);
    expect(ok.code).toBe(0);
  });

  it('flags: a bad value and a contradiction exit 2 with the flag named', async () => {
    const a = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--queue-timeout', 'soon', '--concurrency', '5']);
    expect(a).toEqual({ code: 2, stdout: '', stderr: 'sluice gateway: --queue-timeout (policies.<name>.concurrency.queueTimeout): expected a duration from 1ms to 10m (with its unit: 100ms, 2s, 1.5m, 1h, 1d), received "soon"\n' });
    const c = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--drain-timeout', '30d']);
    expect(c).toEqual({ code: 2, stdout: '', stderr: 'sluice gateway: --drain-timeout (drain.timeout): expected a duration from 0ms to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), received "30d"\n' });
    const b = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--rate', '10/s', '--burst', '0']);
    expect(b).toEqual({ code: 2, stdout: '', stderr: 'sluice gateway: --burst (policies.<name>.rateLimits[].burst): expected a number from 1 to 1000000000 in decimal digits, received "0"\n' });
  });

  it('a flag given twice exits 2 with both values: one of them was dropped without a word (hostile-8)', async () => {
    // The usage follows, as after any flag it cannot read.
    const up = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--upstream=http://127.0.0.1:2']);
    expect(up.code).toBe(2);
    expect(up.stderr.split('\n')[0]).toBe('sluice gateway: --upstream (upstreams.<name>.url): expected it once, received "http://127.0.0.1:1" and "http://127.0.0.1:2"');
    const rate = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--rate', '10/s', '--port', '0', '--rate', '1/s']);
    expect(rate.code).toBe(2);
    expect(rate.stderr.split('\n')[0]).toBe('sluice gateway: --rate (policies.<name>.rateLimits[].rate): expected it once, received "10/s" and "1/s"');
  });

  it('an upstream on port 0 is refused: no connection can reach it, every request was a 502 (cfg21)', async () => {
    const file = await check(`upstreams:\n  app:\n    url: http://127.0.0.1:0\nroutes:\n  - path: /\n`);
    expect(file).toMatchObject({ code: 2, stderr: 'sluice.yaml:3: upstreams.app.url: expected http://host:port[/base] with a port from 1 to 65535 (port 0 is none to connect to), found "http://127.0.0.1:0"\n' });
    const flag = await gatewayCommandRun(['--upstream', 'http://[::1]:00/api', '--port', '0', '--no-admin']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.split('\n')[0]).toBe('sluice gateway: --upstream (upstreams.<name>.url): expected http://host:port[/base] with a port from 1 to 65535 (port 0 is none to connect to), received "http://[::1]:00/api"');
  });

  it('an upstream URL with a password is shown without it, in the file\'s error, the flag\'s and a flag given twice (it was echoed whole)', async () => {
    const file = await check(`listen: { host: 127.0.0.1, port: 0 }\nupstreams:\n  app: { url: "http://u:hunter2@127.0.0.1:0/x" }\nroutes:\n  - { path: /, upstream: app }\n`);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('found "http://u:***@127.0.0.1:0/x"');
    const flag = await gatewayCommandRun(['--upstream', 'http://u:hunter2@127.0.0.1:0/x', '--port', '0']);
    expect(flag.stderr.split('\n')[0]).toBe('sluice gateway: --upstream (upstreams.<name>.url): expected http://host:port[/base], received "http://u:***@127.0.0.1:0/x"');
    const twice = await gatewayCommandRun(['--upstream', 'http://u:hunter2@127.0.0.1:1', '--upstream', 'http://127.0.0.1:2']);
    expect(twice.stderr.split('\n')[0]).toBe('sluice gateway: --upstream (upstreams.<name>.url): expected it once, received "http://u:***@127.0.0.1:1" and "http://127.0.0.1:2"');
    for (const r of [file, flag, twice]) expect(r.stderr).not.toContain('hunter2');
  });

  it('a flag that takes no value, given twice, exits 2 naming it, as a value flag does (one rule for every flag: --check --check was taken)', async () => {
    const file = configFile(`${UP}routes:\n  - path: /\n`);
    for (const [args, flag] of [
      [['--config', file, '--check', '--check'], '--check'],
      [['--upstream', 'http://127.0.0.1:1', '--no-admin', '--no-admin', '--check'], '--no-admin (admin.enabled)'],
      [['-h', '--help'], '--help'],
    ] as [string[], string][]) {
      const r = await gatewayCommandRun(args);
      expect(r.code, flag).toBe(2);
      expect(r.stdout, flag).toBe('');
      expect(r.stderr.split('\n')[0], flag).toBe(`sluice gateway: ${flag}: expected it once, given 2 times`);
    }
  });

  it('a flag that takes no value refuses one: --no-admin=false served with no admin listener, --check=no checked and exited (hostile-17)', async () => {
    // --check after it: before, the flag was taken and the command stopped at '--check: only with --config'.
    const admin = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--no-admin=false', '--check']);
    expect(admin.code).toBe(2);
    expect(admin.stderr.split('\n')[0]).toBe('sluice gateway: --no-admin (admin.enabled): expected no value (the flag alone turns the admin listener off), received "false"');
    const check = await gatewayCommandRun(['--config', configFile(`${UP}routes:\n  - path: /\n`), '--check=no']);
    expect(check.code).toBe(2);
    expect(check.stdout).toBe('');
    expect(check.stderr.split('\n')[0]).toBe('sluice gateway: --check: expected no value (the flag alone validates and exits), received "no"');
  });

  it('--no-admin with --admin-port is a contradiction: the port was dropped without a word (hostile-17)', async () => {
    // A bad upstream after it: before, the command went on to refuse that instead.
    const r = await gatewayCommandRun(['--upstream', 'not a url', '--no-admin', '--admin-port', '9999']);
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'sluice gateway: --admin-port (admin.port): expected no admin port with --no-admin (there is no admin listener), received "9999"\n' });
  });

  it('a trustProxy block without its prefix (10.0.0.0/) is refused: it was a /0, every address trusted (hostile-11)', async () => {
    const file = await check(`${UP}trustProxy: [loopback, "10.0.0.0/"]\nroutes:\n  - path: /\n`);
    expect(file.code).toBe(2);
    expect(file.stderr).toBe(`sluice.yaml:4: trustProxy[1]: expected ${TRUSTED}, found "10.0.0.0/"\n`);
    const flag = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--trust-proxy', 'loopback,10.0.0.0/', '--port', '0', '--no-admin']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.split('\n')[0]).toBe(`sluice gateway: --trust-proxy (trustProxy[1]): expected ${TRUSTED}, received "10.0.0.0/" (item 2 of the list)`);
  });

  it('every bad trustProxy item is named with its index, not the whole list (the flag quoted "loopback,10.0.0.0/33,foo"; the file named the first alone)', async () => {
    const file = await check(`${UP}trustProxy: [loopback, 10.0.0.0/33, bogus, "::1/129"]\nroutes:\n  - path: /\n`);
    expect(file.code).toBe(2);
    expect(file.stderr).toBe(['"10.0.0.0/33"', '"bogus"', '"::1/129"'].map((v, i) => `sluice.yaml:4: trustProxy[${i + 1}]: expected ${TRUSTED}, found ${v}\n`).join(''));
    const flag = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--trust-proxy', 'loopback, 10.0.0.0/33,foo', '--port', '0', '--no-admin']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.split('\n').slice(0, 2)).toEqual([
      `sluice gateway: --trust-proxy (trustProxy[1]): expected ${TRUSTED}, received "10.0.0.0/33" (item 2 of the list)`,
      `sluice gateway: --trust-proxy (trustProxy[2]): expected ${TRUSTED}, received "foo" (item 3 of the list)`,
    ]);
    const empty = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--trust-proxy', 'loopback,,10.0.0.0/8', '--port', '0', '--no-admin']);
    expect(empty.stderr.split('\n')[0]).toBe('sluice gateway: --trust-proxy (trustProxy[1]): expected a non-empty string, received "" (item 2 of the list)');
  });
});

describe('durations: a unit always, and a range no timer overflows', () => {
  const range = (a: string, b: string): string => `expected a duration from ${a} to ${b} (with its unit: 100ms, 2s, 1.5m, 1h, 1d)`;

  it('every duration past what a Node timer holds is refused, naming the field, the range and the value', async () => {
    const r = await check(
      `${UP}    timeout: 30d\n    idleTimeout: 25d\ndrain: { timeout: 30d, retryAfter: 2h }\nserver: { headersTimeout: 1d, requestTimeout: 30d, keepAliveTimeout: 11m, pauseRefused: 2m, workerTimeout: 30d }\n` +
        `routes:\n  - path: /\n    maxWait: 30d\n    policy:\n      concurrency: { limit: 1, queue: 5, queueTimeout: 30d }\n      breaker: { openFor: 30d }\n      shed: { slowAt: 2m, rejectAt: 30d, interval: 30d }\n      rateLimits: [{ limit: 5, window: 30d }]\n      maxWait: 30d\n    fault: { delay: { duration: 30d, percent: 1 } }\n`,
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `sluice.yaml:4: upstreams.app.timeout: ${range('1ms', '1h')}, found "30d"`,
      `sluice.yaml:5: upstreams.app.idleTimeout: ${range('1ms', '1h')}, found "25d"`,
      `sluice.yaml:6: drain.timeout: ${range('0ms', '1h')}, found "30d"`,
      `sluice.yaml:6: drain.retryAfter: ${range('0ms', '1h')}, found "2h"`,
      `sluice.yaml:7: server.headersTimeout: ${range('1ms', '10m')}, found "1d"`,
      `sluice.yaml:7: server.requestTimeout: ${range('0ms', '1h')}, found "30d"`,
      `sluice.yaml:7: server.keepAliveTimeout: ${range('1ms', '10m')}, found "11m"`,
      `sluice.yaml:7: server.pauseRefused: ${range('0ms', '1m')}, found "2m"`,
      `sluice.yaml:7: server.workerTimeout: ${range('0ms', '1h')}, found "30d"`,
      `sluice.yaml:10: routes[0].maxWait: ${range('0ms', '10m')}, found "30d"`,
      `sluice.yaml:12: routes[0].policy.concurrency.queueTimeout: ${range('1ms', '10m')}, found "30d"`,
      `sluice.yaml:13: routes[0].policy.breaker.openFor: ${range('1ms', '1h')}, found "30d"`,
      `sluice.yaml:14: routes[0].policy.shed.slowAt: ${range('0ms', '1m')}, found "2m"`,
      `sluice.yaml:14: routes[0].policy.shed.rejectAt: ${range('0ms', '1m')}, found "30d"`,
      `sluice.yaml:14: routes[0].policy.shed.interval: ${range('1ms', '1m')}, found "30d"`,
      `sluice.yaml:15: routes[0].policy.rateLimits[0].window: ${range('1ms', '7d')}, found "30d"`,
      `sluice.yaml:16: routes[0].policy.maxWait: ${range('0ms', '10m')}, found "30d"`,
      `sluice.yaml:17: routes[0].fault.delay.duration: ${range('1ms', '10m')}, found "30d"`,
    ]);
  });

  it('a value of a YAML type (!!binary, !!timestamp, !!set) is named as what it is, not as a mapping', async () => {
    const r = await check(`${UP}    timeout: !!binary aGVsbG8=\n    idleTimeout: !!timestamp 2001-12-14\n    maxSockets: !!set { a }\nroutes:\n  - path: /\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('upstreams.app.timeout: expected a duration from 1ms to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), found binary data (!!binary, 5 bytes)');
    expect(r.stderr).toContain('upstreams.app.idleTimeout: expected a duration from 1ms to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), found a timestamp (2001-12-14T00:00:00.000Z)');
    expect(r.stderr).toContain('found a set (!!set)');
    expect(r.stderr).not.toContain('found a mapping');
  });

  it('a bare number is refused (a unit is required), and the largest durations in range pass', async () => {
    const r = await check(`${UP}    timeout: 5000\nroutes:\n  - path: /\n`);
    expect(r.stderr).toBe(`sluice.yaml:4: upstreams.app.timeout: ${range('1ms', '1h')}, found 5000\n`);
    const ok = await check(`${UP}    timeout: 1h\ndrain: { timeout: 60m }\nroutes:\n  - path: /\n    policy: { rateLimits: [{ limit: 5, window: 7d, quota: true }], concurrency: { limit: 1, queue: 1, queueTimeout: 10m } }\n`);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });
});

describe('cost and burst', () => {
  it('a route cost above its policy\'s burst, limit or a tenant override\'s is refused', async () => {
    const r = await check(
      `${UP}policies:\n  api:\n    tenant: { header: x-api-key }\n    rateLimits:\n      - { name: burst, rate: 100/s, burst: 50, overrides: { "key:small": { rate: 1/s, burst: 2 } } }\n      - { name: daily, limit: 1000, window: 1d }\n` +
        `routes:\n  - { path: /a, policy: api, cost: 3 }\n  - { path: /b, policy: { rateLimits: [{ limit: 4, window: 1m }] }, cost: 5 }\n  - { path: /c, policy: { rateLimits: [{ rate: 10/s }] }, cost: 10 }\n`,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sluice.yaml:11: routes[0].cost: expected a cost <= 2 (the burst of rate limit "burst" for key:small of policy api; a request that costs more than a full bucket is refused for ever), found 3\n' +
        'sluice.yaml:12: routes[1].cost: expected a cost <= 4 (the limit of rate limit "default" of the route\'s policy; a request that costs more than a full bucket is refused for ever), found 5\n',
    );
  });
});

describe('memory budgets', () => {
  it('a body memory that could never hold the largest allowed body, or a response memory smaller than one buffer, is refused', async () => {
    const r = await check(`${UP}server: { bodyMemory: 1mb, responseBuffer: 2mb, responseMemory: 1mb }\nroutes:\n  - { path: /up, maxBodySize: 5mb }\n  - { path: / }\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sluice.yaml:4: server.bodyMemory: expected bodyMemory (1048576 bytes) >= the largest maxBodySize (10485760 bytes): a body that size could never be read, found otherwise\n' +
        'sluice.yaml:4: server.responseMemory: expected responseMemory (1048576 bytes) >= responseBuffer (2097152 bytes), found otherwise\n',
    );
  });
});

describe('fixed concurrency limits and workers (hostile-3 H3)', () => {
  it('a fixed limit below server.workers is refused, named or inline; equal, adaptive or one worker passes', async () => {
    const r = await check(
      `${UP}server: { workers: 3 }\npolicies:\n  a: { concurrency: 2 }\n  b: { concurrency: { limit: 1, queue: 5 } }\n  c: { concurrency: 3 }\n  d: { concurrency: adaptive }\nroutes:\n  - { path: /a, policy: a }\n  - { path: /, policy: { concurrency: 1 } }\n`,
    );
    expect(r.code).toBe(2);
    const why = 'with fewer slots than workers, a request reaching a worker without one waits until a slot moves from an idle worker (100 ms and more) or, without a queue, is refused (lower server.workers, or raise the limit)';
    expect(r.stderr).toBe(
      `sluice.yaml:6: policies.a.concurrency: expected a fixed limit >= server.workers (3): ${why}, found 2\n` +
        `sluice.yaml:7: policies.b.concurrency.limit: expected a fixed limit >= server.workers (3): ${why}, found 1\n` +
        `sluice.yaml:12: routes[1].policy.concurrency: expected a fixed limit >= server.workers (3): ${why}, found 1\n`,
    );
    expect((await check(`${UP}server: { workers: 3 }\npolicies: { c: { concurrency: 3 } }\nroutes: [ { path: /, policy: c } ]\n`)).code).toBe(0);
    expect((await check(`${UP}policies: { a: { concurrency: 1 } }\nroutes: [ { path: /, policy: a } ]\n`)).code).toBe(0);
  });

  it('the flags say the same: --concurrency 1 --workers 2 exits 2', async () => {
    const r = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--concurrency', '1', '--workers', '2', '--port', '0', '--no-admin']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/concurrency.*expected a fixed limit >= server\.workers \(2\)/);
  });
});

describe('listeners that cannot open (hostile-3 H7)', () => {
  it('a port in use is exit 2 naming the flag or key and which listener', async () => {
    const taken = await upstream((_req, res) => res.end());
    const at = `127.0.0.1:${taken.port}`;
    const proxy = await gatewayCommandRun(['--upstream', taken.url, '--host', '127.0.0.1', '--port', String(taken.port), '--no-admin']);
    expect(proxy).toMatchObject({ code: 2, stderr: `sluice gateway: --port (listen.port): ${at} is in use by another process, so the proxy listener cannot open it (EADDRINUSE)\n` });
    const admin = await gatewayCommandRun(['--upstream', taken.url, '--host', '127.0.0.1', '--port', '0', '--admin-port', String(taken.port)]);
    expect(admin).toMatchObject({ code: 2, stderr: `sluice gateway: --admin-port (admin.port): ${at} is in use by another process, so the admin listener cannot open it (EADDRINUSE)\n` });
    const file = configFile(`${UP}listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: ${taken.port} }\nroutes: [ { path: / } ]\n`);
    const fromFile = await gatewayCommandRun(['--config', file]);
    expect(fromFile).toMatchObject({ code: 2, stderr: `sluice gateway: admin.port: ${at} is in use by another process, so the admin listener cannot open it (EADDRINUSE)\n` });
  });
});

describe('the admin listener on the proxy\'s port (hostile-ops)', () => {
  // Before, --check passed it and the start failed blaming "another process" for the gateway's own listener.
  it('same port and address (or a wildcard): --check exits 2 naming the key written, the flags name the flag', async () => {
    const r = await check(`${UP}listen: { host: 127.0.0.1, port: 18086 }\nadmin: { port: 18086 }\nroutes: [ { path: / } ]\n`);
    expect(r).toMatchObject({ code: 2, stderr: `sluice.yaml:5: admin.port: expected a port other than the proxy's (18086 on 127.0.0.1: the two listeners cannot share it; 0 picks a free one), found 18086\n` });
    const wildcard = await check(`${UP}listen: { host: 127.0.0.1, port: 18086 }\nadmin: { host: 0.0.0.0, port: 18086 }\nroutes: [ { path: / } ]\n`);
    expect(wildcard.code).toBe(2);
    const byDefault = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--port', '9901']);
    expect(byDefault).toMatchObject({
      code: 2,
      stderr: `sluice gateway: --port (listen.port): expected a port other than the admin listener's (9901 on 127.0.0.1 by default: the two listeners cannot share it; give the admin listener another port, or turn it off), received "9901"\n`,
    });
    const flags = await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--host', '127.0.0.1', '--port', '18086', '--admin-port', '18086']);
    expect(flags.code).toBe(2);
    expect(flags.stderr).toMatch(/^sluice gateway: --admin-port \(admin\.port\): expected a port other than the proxy's \(18086 on 127\.0\.0\.1/);
  });

  it('other addresses, port 0, or no admin listener: fine', async () => {
    expect((await check(`${UP}listen: { host: 127.0.0.1, port: 18086 }\nadmin: { host: 127.0.0.2, port: 18086 }\nroutes: [ { path: / } ]\n`)).code).toBe(0);
    expect((await check(`${UP}listen: { host: 127.0.0.1, port: 0 }\nadmin: { port: 0 }\nroutes: [ { path: / } ]\n`)).code).toBe(0);
    expect((await check(`${UP}listen: { host: 127.0.0.1, port: 18086 }\nadmin: { enabled: false, port: 18086 }\nroutes: [ { path: / } ]\n`)).code).toBe(0);
  });

  it('the spawned command exits 2 before listening', async () => {
    const s = sluice(['gateway', '--upstream', 'http://127.0.0.1:1', '--host', '127.0.0.1', '--port', '18086', '--admin-port', '18086']);
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toContain('--admin-port (admin.port): expected a port other than the proxy');
  }, 30_000);
});

describe('a huge value or key (hostile-ops)', () => {
  // Before, each error echoed it whole: a 900 KB value made a 900 KB error, and a rejected reload's log line as long.
  it('is shown cut at 200 characters with its length, in --check and in a rejected reload\'s log line', async () => {
    const value = 'x'.repeat(900_000);
    const r = await check(`upstreams:\n  app: { url: http://127.0.0.1:3000, timeout: ${value} }\nroutes: [ { path: / } ]\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`sluice.yaml:2: upstreams.app.timeout: expected a duration from 1ms to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), found "${'x'.repeat(200)}"... (900000 characters)\n`);
    const key = 'k'.repeat(500_000);
    const k = await check(`upstreams:\n  app: { url: http://127.0.0.1:3000, ${key}: 1 }\nroutes: [ { path: / } ]\n`);
    expect(k.code).toBe(2);
    expect(k.stderr.length).toBeLessThan(1000);
    expect(k.stderr).toContain(`found unknown key "${'k'.repeat(200)}"... (500000 characters)`);
    const doc = await check(`${'y'.repeat(1_000_000)}\n`);
    expect(doc.code).toBe(2);
    expect(doc.stderr).toBe(`sluice.yaml:1: (document): expected a mapping, found "${'y'.repeat(200)}"... (1000000 characters)\n`);

    const up = await upstream((_req, res) => res.end('ok'));
    const file = configFile(`listen: { host: 127.0.0.1, port: 0 }\nadmin: { port: 0 }\nupstreams:\n  app: { url: ${up.url} }\nroutes: [ { path: / } ]\n`);
    const gw = await gateway(['gateway', '--config', file]);
    const from = gw.lines.length;
    writeFileSync(file, `listen: { host: 127.0.0.1, port: 0 }\nadmin: { port: 0 }\nupstreams:\n  app: { url: ${up.url}, timeout: ${value} }\nroutes: [ { path: / } ]\n`);
    gw.child.kill('SIGHUP');
    const line = await gw.waitFor('reload rejected: the previous config keeps serving', 10_000, from);
    expect(String(line['error']).length).toBeLessThan(1000);
    expect(String(line['error'])).toContain('... (900000 characters)');
  }, 60_000);
});

describe('YAML nested deeper than the parser\'s stack (hostile-ops)', () => {
  it('exits 2 saying so, not with the RangeError\'s words', async () => {
    const r = await check(`${UP}x-deep: ${'['.repeat(5000)}${']'.repeat(5000)}\nroutes: [ { path: / } ]\n`);
    expect(r).toMatchObject({ code: 2, stderr: 'sluice.yaml:4: (document): expected YAML nested as deep as a config is (a few levels), found lists or mappings nested too deep for the parser to read (it ran out of stack)\n' });
  });
});

describe('a file that is not UTF-8 (hostile-ops)', () => {
  /** `--check` of these bytes. */
  async function checkBytes(bytes: Buffer): Promise<{ code: number | null; stderr: string }> {
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, bytes);
    const r = await gatewayCommandRun(['--check', '--config', file]);
    return { code: r.code, stderr: r.stderr.replaceAll(file, 'sluice.yaml') };
  }
  const policyWithKey = (key: Buffer): Buffer =>
    Buffer.concat([Buffer.from(`${UP}policies:\n  p:\n    tenant: { header: x-api-key }\n    rateLimits:\n      - rate: 10/s\n        overrides:\n          "key:`), key, Buffer.from('": { rate: 100/s }\nroutes:\n  - { path: /, policy: p }\n')]);

  it('is refused with the line and the byte: a Latin-1 override key was read as "key:caf\uFFFD", a key no client sends, and passed', async () => {
    expect(await checkBytes(policyWithKey(Buffer.from('caf\xe9', 'latin1')))).toEqual({
      code: 2,
      stderr: 'sluice.yaml:10: (document): expected UTF-8 text, found byte 0xe9 at column 19, which UTF-8 cannot have there (a file in another encoding: Latin-1, Windows-1252?)\n',
    });
    // Not UTF-8 either: an overlong "/" (C0 AF), an encoded surrogate (ED A0 80), a sequence cut short at the end.
    for (const [bytes, byte] of [[[0xc0, 0xaf], '0xc0'], [[0xed, 0xa0, 0x80], '0xed'], [[0xe2, 0x82], '0xe2']] as const) {
      const r = await checkBytes(Buffer.concat([Buffer.from(`${UP}routes:\n  - path: /\n# `), Buffer.from(bytes)]));
      expect(r.stderr).toBe(`sluice.yaml:6: (document): expected UTF-8 text, found byte ${byte} at column 3, which UTF-8 cannot have there (a file in another encoding: Latin-1, Windows-1252?)\n`);
    }
  });

  it('a UTF-16 file is named as such', async () => {
    const r = await checkBytes(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${UP}routes:\n  - path: /\n`, 'utf16le')]));
    expect(r).toEqual({ code: 2, stderr: 'sluice.yaml:1: (document): expected UTF-8 text, found a UTF-16 file (byte order mark 0xfffe)\n' });
  });

  it('UTF-8 passes: accents, a 4-byte character, a byte order mark', async () => {
    expect((await checkBytes(policyWithKey(Buffer.from('café-😀')))).code).toBe(0);
    expect((await checkBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), policyWithKey(Buffer.from('ü'))]))).code).toBe(0);
  });
});

describe('YAML aliases', () => {
  it('an alias bomb is refused with the file and the line of the alias that overflows', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]'];
    const r = await check(`${bomb.join('\n')}\n${UP}routes:\n  - path: /\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sluice\.yaml:4: \(document\): expected YAML whose aliases expand to at most 100 nodes \(anchors and aliases are for small repeats\), found an alias \*c that expands beyond it\n$/);
  });

  it('a few aliases are fine', async () => {
    const r = await check(`x-timeout: &t 5s\nupstreams:\n  app: { url: http://127.0.0.1:3000, timeout: *t, idleTimeout: *t }\nroutes:\n  - path: /\n`);
    expect(r.stderr).toContain('x-timeout'); // an unknown top-level key is still an error, the aliases are not
    expect(r.stderr).not.toContain('alias');
  });
});

// After a schema change, write the published files from the code's:
//   npx tsx -e "import('./src/gateway/schema.ts').then(({ CONFIG_SCHEMA: s }) => require('node:fs').writeFileSync('docs/sluice.schema.json', JSON.stringify(s, null, 2) + '\n'))"
describe('the published JSON Schema', () => {
  it('docs/sluice.schema.json is the schema the code validates with', () => {
    expect(JSON.parse(readFileSync(join(root, 'docs/sluice.schema.json'), 'utf8'))).toEqual(CONFIG_SCHEMA);
  });
});

describe('docs/gateway.md', () => {
  it('its --check sample output is what --check prints for its sample config: every error in one run', async () => {
    const text = readFileSync(join(root, 'docs/gateway.md'), 'utf8');
    const yaml = /```yaml\n(# sluice\.yaml with four mistakes\n[\s\S]*?)```/.exec(text)![1]!;
    const shown = /```sh\n\$ npx sluice gateway --check --config sluice\.yaml\n([\s\S]*?)```/.exec(text)![1]!;
    const r = await check(yaml);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(shown);
    expect(shown.trimEnd().split('\n')).toHaveLength(4);
  });

  it('its example sluice.yaml is valid', async () => {
    const { parseConfigText } = await import('../../src/gateway/index.js');
    const text = readFileSync(join(root, 'docs/gateway.md'), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(text)![1]!;
    const config = parseConfigText(yaml, 'docs/gateway.md');
    expect(config.routes.length).toBe(5);
  });
});
