// Config errors: exact messages naming file, line and key path; exit code 2. The command runs
// in this process (gatewayCommandRun: its own code from the flags to the exit code); the first
// cases spawn it, for the exit status and the streams of a real process. By topic, beside this
// file: config-limits (durations, costs, memory, workers, listeners), config-text (huge,
// deep, non-UTF-8 and aliased YAML), config-docs (the published schema and docs/gateway.md).
import { afterEach, describe, expect, it } from 'vitest';
import { check, configFile, UP } from './config-check.js';
import { cleanup, gatewayCommandRun, sluice } from './helpers.js';

afterEach(cleanup);

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

  it('a number written with a comma in a flow map: the stray key is named as written, with why (smallcfg)', async () => {
    const r = await check(`${UP}routes:\n  - path: /\n    policy: { concurrency: { limit: 1,000 } }\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sluice.yaml:6: routes[0].policy.concurrency["0"]: expected one of the keys limit, algorithm, initialLimit, minLimit, maxLimit, queue, queueTimeout, discipline, found unknown key 000 (YAML read "limit: 1,000" in a flow map as limit: 1 and a key 000 with no value: a comma ends a value there; write 1000)\n',
    );
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
    // The error and where to read the options: as after any flag it cannot read, not the whole usage (it buried the error).
    const HINT = "Run 'sluice gateway --help' for its options.\n";
    const twice = await gatewayCommandRun(['--port', '1', '--port', '2']);
    expect(twice).toEqual({ code: 2, stdout: '', stderr: `sluice gateway: --port (listen.port): expected it once, received "1" and "2"\n${HINT}` });
    expect(await gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', '--prot', '1'])).toEqual({ code: 2, stdout: '', stderr: `sluice gateway: unknown flag --prot\n${HINT}` });
    expect(await gatewayCommandRun(['--upstream'])).toEqual({ code: 2, stdout: '', stderr: `sluice gateway: --upstream (upstreams.<name>.url): expected a value\n${HINT}` });
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
