// Numbers a config file or a flag could write that are no setting (hostile-4, round-3 leftovers):
// `1e300`, `1e309`, `-0`, `0x10`, `0o17`, `+5`, `010`, `.inf`, a 20-digit integer, `99999999999999999999gb`.
// Each is refused by --check (exit 2) naming the key and line, what was expected (with its
// bound) and what was written; each flag names itself and its key. In this process: gatewayCommandRun.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gatewayCommandRun, tempDir } from './helpers.js';

afterEach(cleanup);

const UP = 'upstreams:\n  app:\n    url: http://127.0.0.1:3000\n';

async function check(yaml: string): Promise<{ code: number; lines: string[] }> {
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, yaml);
  const r = await gatewayCommandRun(['--check', '--config', file]);
  return { code: r.code, lines: r.stderr.replaceAll(file, 'sluice.yaml').trimEnd().split('\n') };
}

const FORM = 'expected a number in decimal digits (like 8080 or 0.5; no exponent, sign, leading zero, hex, octal or .inf), found';

describe('numbers in sluice.yaml', () => {
  it('a number not written in decimal digits is refused where its value would fit (0x10 is a port, -0 a queue)', async () => {
    for (const v of ['0x10', '0o17', '+5', '010', '-0', '1e3', '1e300', '.inf']) {
      const r = await check(`listen: { port: ${v} }\n${UP}routes:\n  - path: /\n    policy: { concurrency: { limit: 5, queue: ${v} } }\n`);
      expect(r.code, v).toBe(2);
      expect(r.lines, v).toEqual([`sluice.yaml:1: listen.port: ${FORM} ${v}`, `sluice.yaml:7: routes[0].policy.concurrency.queue: ${FORM} ${v}`]);
    }
  });

  it('a duration written as such a number is told what a duration is (a bare number never is one), not how to write numbers', async () => {
    for (const v of ['0x10', '1e3', '-0', '+5', '.inf']) {
      const r = await check(`${UP}    timeout: ${v}\nroutes:\n  - path: /\n    policy: { concurrency: { limit: 5, queue: 5, queueTimeout: ${v} } }\n`);
      expect(r.code, v).toBe(2);
      expect(r.lines, v).toEqual([
        `sluice.yaml:4: upstreams.app.timeout: expected a duration from 1ms to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), found ${v}`,
        `sluice.yaml:7: routes[0].policy.concurrency.queueTimeout: expected a duration from 1ms to 10m (with its unit: 100ms, 2s, 1.5m, 1h, 1d), found ${v}`,
      ]);
    }
  });

  it('every count, size and rate has a stated maximum: a 20-digit integer is refused at each', async () => {
    const n = '12345678901234567890';
    const r = await check(
      [
        `server: { maxConnections: ${n}, maxQueued: ${n}, maxBodySize: ${n}, bodyMemory: ${n} }`,
        `upstreams: { app: { url: "http://127.0.0.1:3000", maxSockets: ${n} } }`,
        'routes:',
        '  - path: /',
        `    cost: ${n}`,
        `    policy: { rateLimits: [{ rate: ${n}, burst: ${n}, maxKeys: ${n} }], concurrency: { limit: ${n}, queue: ${n} }, breaker: { failures: ${n} } }`,
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(2);
    // As written: read as a double, it was 12345678901234567000 (hostile-5).
    const found = `found ${n}`;
    expect(r.lines).toEqual([
      `sluice.yaml:1: server.maxBodySize: expected a size from 1 byte to 1gb: 16kb, 10mb, 1gb, or a number of bytes, ${found}`,
      `sluice.yaml:1: server.bodyMemory: expected a size from 1 byte to 1024gb: 16kb, 10mb, 1gb, or a number of bytes, ${found}`,
      `sluice.yaml:1: server.maxConnections: expected an integer from 1 to 1000000, ${found}`,
      `sluice.yaml:1: server.maxQueued: expected an integer from 0 to 1000000, ${found}`,
      `sluice.yaml:2: upstreams.app.maxSockets: expected an integer from 1 to 65535, ${found}`,
      `sluice.yaml:5: routes[0].cost: expected a number from 1 to 1000000000, ${found}`,
      `sluice.yaml:6: routes[0].policy.rateLimits[0].rate: expected a rate of at least one each 7d and at most 1000000000/s: 2000/s, 100/min, 5/h, 1/d, or a number per second, ${found}`,
      `sluice.yaml:6: routes[0].policy.rateLimits[0].burst: expected a number from 1 to 1000000000, ${found}`,
      `sluice.yaml:6: routes[0].policy.rateLimits[0].maxKeys: expected an integer from 2 to 100000000, ${found}`,
      `sluice.yaml:6: routes[0].policy.concurrency.limit: expected an integer from 1 to 1000000, ${found}`,
      `sluice.yaml:6: routes[0].policy.concurrency.queue: expected an integer from 0 to 1000000, ${found}`,
      `sluice.yaml:6: routes[0].policy.breaker.failures: expected an integer from 1 to 1000000, ${found}`,
    ]);
  });

  it('a size or rate written with its unit is judged by its value: 99999999999999999999gb, 999999999999/s, "30d" for a duration', async () => {
    const r = await check(`server: { maxBodySize: 99999999999999999999gb, headersTimeout: 30d }\n${UP}routes:\n  - path: /\n    policy: { rateLimits: [{ rate: 999999999999/s }] }\n`);
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([
      'sluice.yaml:1: server.headersTimeout: expected a duration from 1ms to 10m (with its unit: 100ms, 2s, 1.5m, 1h, 1d), found "30d"',
      'sluice.yaml:1: server.maxBodySize: expected a size from 1 byte to 1gb: 16kb, 10mb, 1gb, or a number of bytes, found "99999999999999999999gb"',
      'sluice.yaml:7: routes[0].policy.rateLimits[0].rate: expected a rate of at least one each 7d and at most 1000000000/s: 2000/s, 100/min, 5/h, 1/d, or a number per second, found "999999999999/s"',
    ]);
  });

  it('a number over its bound is shown as written, not as the double it was read as (1e+22, a long fraction)', async () => {
    const r = await check(`server: { maxConnections: 10000000000000000000000, maxQueued: 1000001.00000000000000001, maxHeaderSize: 99999999999999999999 }\n${UP}routes:\n  - path: /\n`);
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([
      'sluice.yaml:1: server.maxHeaderSize: expected a size from 1kb to 1mb (the whole head of a request is held per connection; below 1kb ordinary requests are refused 431): 8kb, 16kb, 64kb, or a number of bytes, found 99999999999999999999',
      'sluice.yaml:1: server.maxConnections: expected an integer from 1 to 1000000, found 10000000000000000000000',
      'sluice.yaml:1: server.maxQueued: expected an integer from 0 to 1000000, found 1000001.00000000000000001',
    ]);
  });

  it('server.maxHeaderSize out of its own range (1kb to 1mb) is told that range, whatever else is wrong (hostile-5: 2gb was told the 1gb of every size)', async () => {
    const expected = 'expected a size from 1kb to 1mb (the whole head of a request is held per connection; below 1kb ordinary requests are refused 431): 8kb, 16kb, 64kb, or a number of bytes';
    for (const [v, found] of [['2gb', '"2gb"'], ['2mb', '"2mb"'], ['512', '512'], ['1048577', '1048577']]) {
      const alone = await check(`server: { maxHeaderSize: ${v} }\n${UP}routes:\n  - path: /\n`);
      expect(alone, v).toEqual({ code: 2, lines: [`sluice.yaml:1: server.maxHeaderSize: ${expected}, found ${found}`] });
      // Beside another broken key of server: the same message (the server section's own rules did not run then).
      const beside = await check(`server: { maxHeaderSize: ${v}, maxQueued: -1 }\n${UP}routes:\n  - path: /\n`);
      expect(beside.lines[0], v).toBe(`sluice.yaml:1: server.maxHeaderSize: ${expected}, found ${found}`);
    }
  });

  it('server.minReadRate: bytes per second from 0 (off) to 1gb; the message names the key, the form and what it found', async () => {
    const expected = 'expected bytes per second: a size from 0 (off) to 1gb, as 1kb, 512b, or a number of bytes';
    for (const [value, found] of [['fast', '"fast"'], ['2gb', '"2gb"'], ['-1', '-1'], ['1kb/s', '"1kb/s"']] as const) {
      const r = await check(`server: { minReadRate: ${value} }\n${UP}routes:\n  - path: /\n`);
      expect(r.code).toBe(2);
      expect(r.lines).toEqual([`sluice.yaml:1: server.minReadRate: ${expected}, found ${found}`]);
    }
    for (const value of ['0', '1kb', '512']) expect((await check(`server: { minReadRate: ${value} }\n${UP}routes:\n  - path: /\n`)).code).toBe(0);
  });

  it('a port that is no integer names the key, the range and what was written: 8080.5, !!float 8080 (a tag YAML could not apply)', async () => {
    const expected = 'listen.port: expected an integer from 0 to 65535';
    const r = await check(`listen: { port: 8080.5 }\n${UP}routes:\n  - path: /\n`);
    expect(r).toEqual({ code: 2, lines: [`sluice.yaml:1: ${expected}, found 8080.5`] });
    // YAML's core schema reads !!float only on a number with a fraction or exponent: on 8080 the tag fails and the value is the string "8080".
    const tagged = await check(`listen: { port: !!float 8080 }\n${UP}routes:\n  - path: /\n`);
    expect(tagged).toEqual({ code: 2, lines: [`sluice.yaml:1: ${expected}, found !!float 8080 (a tag YAML could not apply to the value: read as a string)`] });
    const custom = await check(`${UP}routes:\n  - path: /\n    cost: !weight 2\n`);
    expect(custom.lines).toEqual(['sluice.yaml:6: routes[0].cost: expected a number from 1 to 1000000000, found !weight 2 (a tag YAML could not apply to the value: read as a string)']);
  });

  it('a rate slower than one a week is refused: 0.0001/d gave a Retry-After of 27 years', async () => {
    const expected = 'expected a rate of at least one each 7d and at most 1000000000/s: 2000/s, 100/min, 5/h, 1/d, or a number per second';
    for (const [v, found] of [['0.0001/d', '"0.0001/d"'], ['0.005/h', '"0.005/h"'], ['0.000001', '0.000001']]) {
      const r = await check(`${UP}routes:\n  - path: /\n    policy: { rateLimits: [{ rate: ${v} }] }\n`);
      expect(r, v).toEqual({ code: 2, lines: [`sluice.yaml:6: routes[0].policy.rateLimits[0].rate: ${expected}, found ${found}`] });
    }
    for (const v of ['1/d', '0.15/d', '0.000002']) expect((await check(`${UP}routes:\n  - path: /\n    policy: { rateLimits: [{ rate: ${v} }] }\n`)).code, v).toBe(0);
  });

  it('a duration, integer or size written with spaces around it is refused, as the flags refuse it', async () => {
    const r = await check(`listen: { port: " 8080 " }\n${UP}    timeout: " 5s "\nserver: { maxBodySize: " 10mb " }\nroutes:\n  - path: /\n`);
    expect(r).toEqual({
      code: 2,
      lines: [
        'sluice.yaml:1: listen.port: expected an integer from 0 to 65535, found " 8080 "',
        'sluice.yaml:5: upstreams.app.timeout: expected a duration from 1ms to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), found " 5s "',
        'sluice.yaml:6: server.maxBodySize: expected a size from 1 byte to 1gb: 16kb, 10mb, 1gb, or a number of bytes, found " 10mb "',
      ],
    });
  });

  it('1e309 (Infinity to YAML) and Infinity (a string to YAML) are refused too', async () => {
    const r = await check(`${UP}routes:\n  - path: /\n    policy: { concurrency: 1e309, rateLimits: [{ rate: Infinity }] }\n`);
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([
      `sluice.yaml:6: routes[0].policy.concurrency: ${FORM} 1e309`,
      'sluice.yaml:6: routes[0].policy.rateLimits[0].rate: expected a rate of at least one each 7d and at most 1000000000/s: 2000/s, 100/min, 5/h, 1/d, or a number per second, found "Infinity"',
    ]);
  });
});

describe('ranges in sluice.yaml: every message states both bounds, whichever was crossed', () => {
  it('below and above: a port, a queue, a percentage, a ratio, a status, a load', async () => {
    const r = await check(
      [
        'listen: { port: -1 }',
        'admin: { port: 65536 }',
        'server: { maxQueued: -1, pauseRefusedLoad: 1, maxConnections: 0 }',
        UP.trimEnd(),
        'routes:',
        '  - path: /',
        '    cost: 0',
        '    fault: { abort: { status: 600, percent: 50 } }',
        '    policy: { canaryPercent: 0, mode: canary, concurrency: { limit: 0, queue: -1 }, breaker: { failureRatio: 2 } }',
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([
      'sluice.yaml:1: listen.port: expected an integer from 0 to 65535, found -1',
      'sluice.yaml:2: admin.port: expected an integer from 0 to 65535, found 65536',
      'sluice.yaml:3: server.maxConnections: expected an integer from 1 to 1000000, found 0',
      'sluice.yaml:3: server.maxQueued: expected an integer from 0 to 1000000, found -1',
      'sluice.yaml:3: server.pauseRefusedLoad: expected a number from 0 to 0.99, found 1',
      'sluice.yaml:9: routes[0].cost: expected a number from 1 to 1000000000, found 0',
      'sluice.yaml:10: routes[0].fault.abort.status: expected an integer from 400 to 599, found 600',
      'sluice.yaml:11: routes[0].policy.concurrency.limit: expected an integer from 1 to 1000000, found 0',
      'sluice.yaml:11: routes[0].policy.concurrency.queue: expected an integer from 0 to 1000000, found -1',
      'sluice.yaml:11: routes[0].policy.breaker.failureRatio: expected a number above 0 and at most 1, found 2',
      'sluice.yaml:11: routes[0].policy.canaryPercent: expected a number above 0 and at most 100, found 0',
    ]);
  });
});

describe('numbers in flags: each error names the flag and its config key', () => {
  const run = (...args: string[]): Promise<{ code: number; stderr: string }> => gatewayCommandRun(['--upstream', 'http://127.0.0.1:1', ...args]);
  it.each([
    // A port's whole range in every message (until gateway-edges -1 was told '>= 0' and 70000 '<= 65535').
    [['--port', '0x10'], '--port (listen.port): expected an integer from 0 to 65535 in decimal digits, received "0x10"'],
    [['--port', '-0'], '--port (listen.port): expected an integer from 0 to 65535 in decimal digits, received "-0"'],
    [['--admin-port', '1e3'], '--admin-port (admin.port): expected an integer from 0 to 65535 in decimal digits, received "1e3"'],
    [['--port', '70000'], '--port (listen.port): expected an integer from 0 to 65535 in decimal digits, received "70000"'],
    [['--admin-port', '65536'], '--admin-port (admin.port): expected an integer from 0 to 65535 in decimal digits, received "65536"'],
    // Every flag's whole range, whichever bound was crossed (until cfg21 '>= 1' or '<= 1000000' alone).
    [['--concurrency', '1e300'], '--concurrency (policies.<name>.concurrency.limit): expected an integer from 1 to 1000000 in decimal digits, or adaptive, received "1e300"'],
    [['--concurrency', '0'], '--concurrency (policies.<name>.concurrency.limit): expected an integer from 1 to 1000000 in decimal digits, or adaptive, received "0"'],
    [['--concurrency', '12345678901234567890'], '--concurrency (policies.<name>.concurrency.limit): expected an integer from 1 to 1000000 in decimal digits, or adaptive, received "12345678901234567890"'],
    [['--concurrency', '5', '--queue', '99999999'], '--queue (policies.<name>.concurrency.queue): expected an integer from 0 to 1000000 in decimal digits, received "99999999"'],
    [['--rate', '10/s', '--burst', '0x10'], '--burst (policies.<name>.rateLimits[].burst): expected a number from 1 to 1000000000 in decimal digits, received "0x10"'],
    [['--rate', '10/s', '--burst', '0'], '--burst (policies.<name>.rateLimits[].burst): expected a number from 1 to 1000000000 in decimal digits, received "0"'],
    [['--rate', '10/s', '--burst', '2000000000'], '--burst (policies.<name>.rateLimits[].burst): expected a number from 1 to 1000000000 in decimal digits, received "2000000000"'],
    [['--rate', '99999999999999999999999/s'], '--rate (policies.<name>.rateLimits[].rate): expected a rate of at least one each 7d and at most 1000000000/s: 2000/s, 100/min, 5/h, 1/d, or a number per second, received "99999999999999999999999/s"'],
    [['--workers', '12345678901234567890'], "--workers (server.workers): expected processes serving the listener: an integer 1..256, or 'auto' (one per available core), received \"12345678901234567890\""],
    // Every form a worker count is refused in is told the range (until gateway-edges 0, -1 and 1.5 were told 'an integer >= 1 or auto').
    ...['0', '-1', '1.5', '0x2', 'Auto', '999'].map((w) => [['--workers', w], `--workers (server.workers): expected processes serving the listener: an integer 1..256, or 'auto' (one per available core), received "${w}"`] as [string[], string]),
    [['--timeout', '1e300'], '--timeout (upstreams.<name>.timeout): expected a duration from 1ms to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), received "1e300"'],
    [['--concurrency', '5', '--queue-timeout', '30d'], '--queue-timeout (policies.<name>.concurrency.queueTimeout): expected a duration from 1ms to 10m (with its unit: 100ms, 2s, 1.5m, 1h, 1d), received "30d"'],
    // Spaces around a value: refused for a duration as for an integer (until session 18 a duration flag was trimmed and taken).
    [['--concurrency', '5', '--queue-timeout', ' 5s '], '--queue-timeout (policies.<name>.concurrency.queueTimeout): expected a duration from 1ms to 10m (with its unit: 100ms, 2s, 1.5m, 1h, 1d), received " 5s "'],
    [['--timeout', '5s '], '--timeout (upstreams.<name>.timeout): expected a duration from 1ms to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), received "5s "'],
    [['--drain-timeout', '\t1s'], '--drain-timeout (drain.timeout): expected a duration from 0ms to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), received "\\t1s"'],
    [['--port', ' 8080'], '--port (listen.port): expected an integer from 0 to 65535 in decimal digits, received " 8080"'],
  ])('%j', async (args, message) => {
    expect(await run(...args)).toMatchObject({ code: 2, stderr: `sluice gateway: ${message}\n` });
  });
});
