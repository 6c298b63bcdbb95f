// node:http's headersTimeout and requestTimeout, and undici's headersTimeout and bodyTimeout
// (an upstream's timeout and idleTimeout), take whole milliseconds only. A config giving
// them a fraction of one (1000.5ms, 0.0015s) passed --check; then the gateway died at start
// with node's words and no key ('The value of "requestTimeout" is out of range. It must be an
// integer. Received 2000.5'), or, for an upstream's, started and answered every request 502
// upstream_unreachable (undici refused its own options: UND_ERR_INVALID_ARG). Now --check
// refuses each, naming the key; a whole number however written (1.5s, 0.25m) is taken.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { flagConfig, parseFlags } from '../../src/cli/gateway-flags.js';
import { cleanup, gatewayCommandRun, tempDir } from './helpers.js';

afterEach(cleanup);

async function check(yaml: string): Promise<{ code: number | null; stderr: string }> {
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, yaml);
  const r = await gatewayCommandRun(['--check', '--config', file]);
  return { code: r.code, stderr: r.stderr.replaceAll(file, 'sluice.yaml') };
}

const WHOLE = 'a whole number of milliseconds (node:http and undici take no fraction of one)';

describe('timeouts handed to node:http and undici', () => {
  it('a fraction of a millisecond is refused by --check, naming each key', async () => {
    const r = await check(
      [
        'upstreams: { api: { url: "http://127.0.0.1:9", timeout: 1000.5ms, idleTimeout: 0.0015s } }',
        'server: { headersTimeout: 1000.5ms, requestTimeout: 20000.25ms }',
        'routes: [ { path: /, upstream: api } ]',
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `sluice.yaml:1: upstreams.api.timeout: expected ${WHOLE}, found "1000.5ms"`,
      `sluice.yaml:1: upstreams.api.idleTimeout: expected ${WHOLE}, found "0.0015s"`,
      `sluice.yaml:2: server.headersTimeout: expected ${WHOLE}, found "1000.5ms"`,
      `sluice.yaml:2: server.requestTimeout: expected ${WHOLE}, found "20000.25ms"`,
    ]);
  });

  it('whole milliseconds written with a fraction of a larger unit are taken', async () => {
    const r = await check('upstreams: { api: { url: "http://127.0.0.1:9", timeout: 1.5s, idleTimeout: 0.25m } }\nserver: { headersTimeout: 1.5s, requestTimeout: 0.5m }\nroutes: [ { path: /, upstream: api } ]\n');
    expect(r).toMatchObject({ code: 0 });
  });

  it('the flag form names the flag', () => {
    expect(() => flagConfig(parseFlags(['--upstream', 'http://127.0.0.1:9', '--timeout', '100.5ms']))).toThrow(`--timeout (upstreams.<name>.timeout): expected ${WHOLE}, received "100.5ms"`);
  });
});
