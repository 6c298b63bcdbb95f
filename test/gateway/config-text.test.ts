// Config errors, the file's text: a huge value or key cut short, YAML nested too deep, bytes
// that are not UTF-8, aliases that expand without bound.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { check, configFile, UP } from './config-check.js';
import { cleanup, gateway, gatewayCommandRun, tempDir, upstream } from './helpers.js';

afterEach(cleanup);

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
