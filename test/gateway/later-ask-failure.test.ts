// expectlater: a request decided before its body (Expect: 100-continue, or a body still arriving)
// asks for its concurrency slot once the body is in (expect-continue.ts withBody). When that ask
// fails — its gate throws, or its wait rejects with an error that is no refusal — the request is
// answered 500 admission_failed at once, counted with the route's failed admissions, as the ask
// before the body is; it holds nothing after. Until expectlater it got no answer at all (its
// client waited until its own timeout) and /status counted nothing. The failure is injected
// through the gateway's clock (GatewayOptions.clock: the gates' clock), armed once the head was
// decided: the next reading of it — the slot's gate, every slot taken, reading it to queue the ask — throws.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { Clock } from '../../src/core/clock.js';
import type { Gateway, GatewayConfig } from '../../src/gateway/index.js';
import { ExpectClient, finalResponse, head } from './expect-client.js';
import { cleanup, get, oneRoute, sleep, startInProcess, within } from './helpers.js';
import { rawSocket } from './raw-client.js';
import { firstResponse, recordingUpstream, statuses } from './upload-client.js';

afterEach(cleanup);

/** The system clock, whose next reading throws once `armed`. */
class ArmedClock implements Clock {
  armed = false;
  readonly timerSlackMs = 2;
  now(): number {
    if (this.armed) {
      this.armed = false;
      throw new Error('the clock failed');
    }
    return systemClock.now();
  }
  setTimer(fn: () => void, ms: number): ReturnType<Clock['setTimer']> {
    return systemClock.setTimer(fn, ms);
  }
  clearTimer(h: ReturnType<Clock['setTimer']>): void {
    systemClock.clearTimer(h);
  }
}

const config = (up: string): GatewayConfig => oneRoute(up, '10s', { routes: [{ path: '/', policy: { concurrency: { limit: 1, queue: 2, queueTimeout: '5s' } } }] } as Partial<GatewayConfig>);

/** An upstream that holds `/hold` until `release()`, and a gateway whose one slot it holds. */
async function slotHeld(): Promise<{ gw: Gateway; clock: ArmedClock; seen: string[]; release: () => Promise<void> }> {
  const held: ServerResponse[] = [];
  const up = await recordingUpstream((res) => (res.req.url === '/hold' ? held.push(res) : res.end('ok')));
  const clock = new ArmedClock();
  const gw = await startInProcess(config(up.url), { clock });
  const holder = get(`${gw.url}/hold`);
  expect(await within(10_000, () => up.seen.length === 1)).toBe(true);
  const release = async (): Promise<void> => {
    held.splice(0).forEach((r) => r.end('held'));
    expect((await holder).status).toBe(200);
  };
  return { gw, clock, seen: up.seen, release };
}

/** The failed request holds nothing (the holder's slot aside), and is counted as a failed admission. */
async function heldNothing(gw: Gateway, release: () => Promise<void>): Promise<void> {
  const gate = (): { inFlight?: number; queued: number } => gw.status().policies[0]!.gates[0]!;
  expect([gate().inFlight, gate().queued, gw.status().queued]).toEqual([1, 0, 0]);
  expect(gw.status().routes[0]!.admissionFailures).toMatchObject({ count: 1, failing: true, lastError: 'Error: the clock failed' });
  await release();
  expect(await within(10_000, () => gate().inFlight === 0)).toBe(true);
  expect(gw.status().counters).toMatchObject({ admitted: 1, rejected: 0 });
}

describe('the slot asked for once the body is in, failing', () => {
  it('Expect: 100-continue: 500 admission_failed once the body is in, nothing held', async () => {
    const { gw, clock, seen, release } = await slotHeld();
    const c = new ExpectClient(gw.url);
    c.write(head('Content-Length: 5\r\n'));
    expect(await c.until((t) => t.includes('100 Continue'))).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    clock.armed = true;
    c.write('hello');
    // Before expectlater: 'nothing matched within 5 s; got "HTTP/1.1 100 Continue\r\n\r\n"'.
    const answer = await c.until(finalResponse);
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 500 /);
    expect(answer).toContain('"reason":"admission_failed"');
    c.close();
    expect(clock.armed).toBe(false);
    await heldNothing(gw, release);
    expect(seen).toEqual(['GET /hold 0']);
  });

  it('a body still arriving: 500 admission_failed once it is in, nothing held', async () => {
    const { gw, clock, seen, release } = await slotHeld();
    const { socket, text } = rawSocket(gw.url);
    socket.write('POST /up HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\n');
    // Decided at its head (no slot taken), its body not in yet.
    expect(await within(10_000, () => gw.status().counters.requests === 2)).toBe(true);
    await sleep(50);
    clock.armed = true;
    socket.write('hello');
    // Before expectlater: 'expected false to be true' — no answer came.
    expect(await within(10_000, () => statuses(text()).length > 0)).toBe(true);
    expect(statuses(text())).toEqual([500]);
    expect(JSON.parse(firstResponse(text()).body)).toMatchObject({ reason: 'admission_failed' });
    socket.destroy();
    expect(clock.armed).toBe(false);
    await heldNothing(gw, release);
    expect(seen).toEqual(['GET /hold 0']);
  });
});
