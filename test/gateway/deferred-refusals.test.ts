// Admission refusals are written at the end of the loop turn, behind the turn's upstream
// dispatches (deferred-refusals.ts, issue 9): undici writes a request on a reused connection
// from an Immediate, and it must not wait behind the refusals' writes. Every refusal is still
// answered (with its Retry-After), and answers on a connection stay in order.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { DeferredRefusals } from '../../src/gateway/deferred-refusals.js';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawConversation } from './raw-client.js';

afterEach(cleanup);

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A response that records what is written on it into `log`. */
function fakeResponse(name: string, log: string[], state: { destroyed?: boolean } = {}): ServerResponse {
  return {
    get destroyed() {
      return state.destroyed ?? false;
    },
    headersSent: false,
    writeHead(status: number, head: string[]) {
      log.push(`${name} ${status} ${head.join(' ')}`);
    },
    end(body: string) {
      log.push(`${name} end ${body}`);
    },
  } as unknown as ServerResponse;
}

describe('DeferredRefusals', () => {
  it('writes nothing at once, then every refusal in the order it was decided, at the end of the turn', async () => {
    const log: string[] = [];
    const d = new DeferredRefusals();
    d.write(fakeResponse('a', log), 503, ['Retry-After', '1'], 'A');
    d.write(fakeResponse('b', log), 429, ['Retry-After', '2'], 'B');
    expect(log).toEqual([]);
    expect(d.pending).toBe(2);
    await turn();
    expect(log).toEqual(['a 503 Retry-After 1', 'a end A', 'b 429 Retry-After 2', 'b end B']);
    expect(d.pending).toBe(0);
    expect(d.written).toBe(2);
  });

  it('goes behind an Immediate set by a dispatch after the first refusal (undici writing an admitted request)', async () => {
    const log: string[] = [];
    const d = new DeferredRefusals();
    d.write(fakeResponse('a', log), 503, [], 'A');
    setImmediate(() => log.push('upstream write'));
    d.dispatched();
    d.write(fakeResponse('b', log), 503, [], 'B');
    await turn();
    await turn();
    expect(log).toEqual(['upstream write', 'a 503 ', 'a end A', 'b 503 ', 'b end B']);
  });

  it('writes at once while not wanted (room on the loop)', () => {
    const log: string[] = [];
    const d = new DeferredRefusals(() => false);
    d.write(fakeResponse('a', log), 503, [], 'A');
    expect(log).toEqual(['a 503 ', 'a end A']);
  });

  it('a dispatch in the check phase that flushes the batch does not move it into the next turn', async () => {
    const log: string[] = [];
    const d = new DeferredRefusals();
    d.write(fakeResponse('a', log), 503, [], 'A');
    // undici's Immediate for a request dispatched in the poll phase, which in the check phase
    // parses a response already read and so dispatches again (the next waiter).
    setImmediate(() => {
      d.dispatched();
      log.push('check-phase dispatch');
    });
    d.dispatched();
    await turn();
    expect(log).toEqual(['check-phase dispatch', 'a 503 ', 'a end A']);
  });

  it('skips a response closed before its turn (its client left), and a dispatch with nothing queued costs nothing', async () => {
    const log: string[] = [];
    const d = new DeferredRefusals();
    d.dispatched();
    const gone = { destroyed: false };
    d.write(fakeResponse('a', log, gone), 503, [], 'A');
    d.write(fakeResponse('b', log), 503, [], 'B');
    gone.destroyed = true;
    await turn();
    expect(log).toEqual(['b 503 ', 'b end B']);
    expect(d.written).toBe(1);
  });
});

const request = (key: string, last = false): string => `GET /x HTTP/1.1\r\nHost: gw\r\nx-key: ${key}\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

// pauseRefusedLoad 0: the loop counts as saturated by refusals, so refusals are deferred (pausing stays off: pauseRefused 0s).
describe('refusals written at the end of the turn, through the gateway', () => {
  it('a pipelined connection gets its admitted and refused answers in order, each refusal with Retry-After', async () => {
    const up = await upstream((req, res) => res.end(`ok ${req.headers['x-key'] as string}`));
    const gw = await startInProcess(
      oneRoute(up.url, '10s', {
        server: { pauseRefused: '0s', pauseRefusedLoad: 0 },
        policies: { perKey: { tenant: { header: 'x-key' }, rateLimits: [{ rate: '1/min', burst: 1 }] } },
        routes: [{ path: '/', policy: 'perKey' }],
      }),
    );
    const { text } = await rawConversation(gw.url, request('a') + request('a') + request('b') + request('a') + request('c', true));
    expect(statuses(text)).toEqual([200, 429, 200, 429, 200]);
    expect(text.match(/ok [a-c]/g)).toEqual(['ok a', 'ok b', 'ok c']);
    expect(text.match(/\r\nRetry-After: \d+\r\n/gi)).toHaveLength(2);
  });

  it('refusals on many connections at once are all answered, with Retry-After, while the admitted one is served', async () => {
    let release: (() => void) | undefined;
    const up = await upstream((_req, res) => {
      release = () => res.end('ok');
    });
    const gw = await startInProcess(oneRoute(up.url, '10s', { server: { pauseRefused: '0s', pauseRefusedLoad: 0 }, policies: { one: { concurrency: { limit: 1, queue: 0 } } }, routes: [{ path: '/', policy: 'one' }] }));
    const held = rawConversation(gw.url, request('held', true));
    while (release === undefined) await new Promise((r) => setTimeout(r, 5));
    const refused = await Promise.all(Array.from({ length: 40 }, () => rawConversation(gw.url, request('x', true))));
    for (const { text } of refused) {
      expect(statuses(text)).toEqual([503]);
      expect(text).toMatch(/\r\nRetry-After: \d+\r\n/i);
    }
    release();
    expect(statuses((await held).text)).toEqual([200]);
    expect(gw.status().counters.rejected).toBe(40);
  });
});
