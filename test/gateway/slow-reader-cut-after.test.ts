// `server.slowReaderCutAfter`: how long a response must have waited for a client that takes
// nothing before a request that finds every slot taken may cut it for its slot (slow-readers.ts).
// Until cutafter22 it was a constant (500 ms) and the key was refused as unknown. The
// assertions count cuts and answers, never time: with 10m nothing can be cut while the test
// runs, however busy the host; with 0s the first request whose non-reader has stopped taking
// bytes is served.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway, GatewayConfig } from '../../src/gateway/index.js';
import type { Duration } from '../../src/gateway/units.js';
import { nonReaders, writeBig } from './big-response.js';
import { cleanup, gatewayCommandRun, get, sleep, startInProcess, tempDir, upstream, within } from './helpers.js';

afterEach(cleanup);

const RANGE = 'expected a duration from 0ms to 10m (with its unit: 100ms, 2s, 1.5m, 1h, 1d)';

/** `sluice gateway --check` of a config whose server section is `server`: its exit code and stderr. */
async function check(server: string): Promise<{ code: number | null; stderr: string }> {
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, `upstreams:\n  app: { url: "http://127.0.0.1:1" }\nserver: ${server}\nroutes:\n  - path: /\n`);
  const r = await gatewayCommandRun(['--check', '--config', file]);
  return { code: r.code, stderr: r.stderr.replaceAll(file, 'sluice.yaml') };
}

describe('server.slowReaderCutAfter, as configured', () => {
  it('a duration from 0s to 10m: anything else is refused, naming the option, the range and the value', async () => {
    expect((await check('{ slowReaderCutAfter: 50ms }')).code).toBe(0);
    expect((await check('{ slowReaderCutAfter: 0s }')).code).toBe(0);
    for (const bad of ['30x', '-1s', '11m', '30d']) {
      const r = await check(`{ slowReaderCutAfter: ${bad} }`);
      expect(r).toEqual({ code: 2, stderr: `sluice.yaml:3: server.slowReaderCutAfter: ${RANGE}, found "${bad}"\n` });
    }
    const bare = await check('{ slowReaderCutAfter: 500 }');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain(`server.slowReaderCutAfter: ${RANGE}, found 500`);
  });
});

function config(up: string, cutAfter: Duration): GatewayConfig {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { port: 0 },
    // writeTimeout far off: a non-reader is cut for its slot or not at all.
    server: { responseBuffer: '64kb', writeTimeout: '5m', slowReaderCutAfter: cutAfter },
    upstreams: { app: { url: up, timeout: '20s' } },
    routes: [{ path: '/', policy: { concurrency: 1 } }],
  };
}

/** A gateway (one slot, no queue) whose slot a non-reader of a 16 MB response holds. */
async function heldByNonReader(cutAfter: Duration): Promise<{ gw: Gateway; url: string }> {
  const up = await upstream((req, res) => {
    req.resume();
    if (req.url === '/big') writeBig(res, 256);
    else res.end('small');
  });
  const gw = await startInProcess(config(up.url, cutAfter));
  nonReaders(gw.url, 1);
  expect(await within(20_000, () => gw.status().counters.slowReadersHeld === 1, 20)).toBe(true);
  return { gw, url: up.url };
}

/** Asks for /small until it is served (at most `tries` times, 100 ms apart): the answers. */
async function askUntilServed(gw: Gateway, tries: number): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < tries; i++) {
    const a = await get(`${gw.url}/small`);
    answers.push(`${a.status} ${a.body.startsWith('small') ? 'small' : a.status}`);
    if (a.status === 200) break;
    await sleep(100);
  }
  return answers;
}

describe('server.slowReaderCutAfter, in the gateway', () => {
  it('10m: the non-reader keeps its slot and every request is refused; reloaded to 0s, a request takes it', { timeout: 60_000 }, async () => {
    const { gw, url } = await heldByNonReader('10m');
    // 30 asks over 3 s: the 500 ms default would have cut the non-reader by then.
    const refused = await askUntilServed(gw, 30);
    expect(refused).toEqual(Array.from({ length: 30 }, () => '503 503'));
    expect(gw.status().counters.slowReadersCut).toBe(0);
    await gw.reload(config(url, '0s'));
    // The kernel's buffers take a non-reader's bytes for a while: asked until it has stopped.
    const served = await askUntilServed(gw, 100);
    expect(served.at(-1)).toBe('200 small');
    expect(gw.status().counters.slowReadersCut).toBe(1);
  });

  it('0s at start: a request takes the non-reader\'s slot; reloaded to 10m, the next non-reader keeps it', { timeout: 60_000 }, async () => {
    const { gw, url } = await heldByNonReader('0s');
    expect((await askUntilServed(gw, 100)).at(-1)).toBe('200 small');
    expect(gw.status().counters.slowReadersCut).toBe(1);
    await gw.reload(config(url, '10m'));
    nonReaders(gw.url, 1);
    expect(await within(20_000, () => gw.status().counters.slowReadersHeld === 2, 20)).toBe(true);
    expect(await askUntilServed(gw, 30)).toEqual(Array.from({ length: 30 }, () => '503 503'));
    expect(gw.status().counters.slowReadersCut).toBe(1);
  });
});
