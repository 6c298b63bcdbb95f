// PipelineLimit with thousands of requests waiting on one connection (hostile-2 P1): 20
// connections each pipelining 5,000 GETs to an exempt route, then closing, killed the gateway
// with "RangeError: Maximum call stack size exceeded" — every waiting request that declined its
// turn (its client gone) called the next one's from inside its own. Fakes stand in for the
// socket and responses: the limit reads only these fields of them.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PipelineLimit } from '../../src/gateway/pipeline-limit.js';

/** Far more than one stack holds when each waiting request costs a few frames. */
const DEEP = 20_000;

class FakeResponse extends EventEmitter {
  destroyed = false;
  shouldKeepAlive = true;
  headersSent = false;
  /** No header set: a response that closes its connection says so by shouldKeepAlive here. */
  getHeader(): undefined {
    return undefined;
  }
}

/** Whether the connection is being read, as its libuv handle would say. */
interface Reading {
  on: boolean;
  starts: number;
}

function connection(reading?: Reading): { socket: Socket; request: () => { req: IncomingMessage; res: FakeResponse } } {
  // Without `reading`, no _handle: the limit has no reading to stop or start on it (as for a test's duplex).
  const handle = reading && {
    readStop: () => ((reading.on = false), 0),
    readStart: () => ((reading.on = true), reading.starts++, 0),
  };
  const socket = { destroyed: false, ...(handle === undefined ? {} : { _handle: handle }) } as unknown as Socket;
  return {
    socket,
    request: () => ({ req: { socket } as unknown as IncomingMessage, res: new FakeResponse() }),
  };
}

function pipeline(limit: PipelineLimit, n: number, reading?: Reading): { socket: Socket; responses: FakeResponse[]; handled: number[] } {
  const c = connection(reading);
  const responses: FakeResponse[] = [];
  const handled: number[] = [];
  for (let i = 0; i < n; i++) {
    const { req, res } = c.request();
    responses.push(res);
    limit.run(req, res as unknown as ServerResponse, () => handled.push(i));
  }
  return { socket: c.socket, responses, handled };
}

describe('PipelineLimit', () => {
  it('serves pipelined requests one at a time, in order', () => {
    const limit = new PipelineLimit();
    const { responses, handled } = pipeline(limit, 3);
    expect(handled).toEqual([0]);
    responses[0]!.emit('close');
    expect(handled).toEqual([0, 1]);
    responses[1]!.emit('close');
    responses[2]!.emit('close');
    expect(handled).toEqual([0, 1, 2]);
    expect(limit.waiting).toBe(0);
  });

  it(`a client that leaves with ${DEEP} requests waiting: none is served, and nothing throws`, () => {
    const limit = new PipelineLimit();
    const { socket, responses, handled } = pipeline(limit, DEEP);
    expect(limit.waiting).toBe(DEEP - 1);
    (socket as { destroyed: boolean }).destroyed = true;
    for (const r of responses) r.destroyed = true;
    expect(() => responses[0]!.emit('close')).not.toThrow();
    expect(handled).toEqual([0]);
    expect(limit.waiting).toBe(0);
  });

  it(`a response that closes its connection with ${DEEP} requests behind it: none is served, and nothing throws`, () => {
    const limit = new PipelineLimit();
    const { responses, handled } = pipeline(limit, DEEP);
    responses[0]!.shouldKeepAlive = false;
    expect(() => responses[0]!.emit('close')).not.toThrow();
    expect(handled).toEqual([0]);
    expect(limit.waiting).toBe(0);
  });

  it('after requests that declined their turn, the next live one is served', () => {
    const limit = new PipelineLimit();
    const { responses, handled } = pipeline(limit, 5);
    // Requests 1-3 were answered elsewhere meanwhile (destroyed); 4 still waits for its turn.
    for (const i of [1, 2, 3]) responses[i]!.destroyed = true;
    responses[0]!.emit('close');
    expect(handled).toEqual([0, 4]);
    expect(limit.waiting).toBe(0);
  });

  // Hostile-2 P2: a client pipelining 100,000 GETs and never reading had 14,000 of them parsed
  // and waiting after 4 s — each turn read the connection again, one more read's worth of
  // requests each time. Requests parsed behind the one whose turn it is mean its body is in.
  it('a turn does not read the connection again while requests already parsed wait behind it', () => {
    const reading: Reading = { on: true, starts: 0 };
    const limit = new PipelineLimit();
    const { responses, handled } = pipeline(limit, 4, reading);
    expect(reading.on).toBe(false);
    responses[0]!.emit('close');
    responses[1]!.emit('close');
    expect(handled).toEqual([0, 1, 2]);
    expect(reading).toEqual({ on: false, starts: 0 });
    // The last one parsed: its body may still be in the kernel, so its turn reads again.
    responses[2]!.emit('close');
    expect(handled).toEqual([0, 1, 2, 3]);
    expect(reading).toEqual({ on: true, starts: 1 });
    responses[3]!.emit('close');
    expect(reading).toEqual({ on: true, starts: 1 });
  });

  // The responses being served are the drain's to answer (gateway-drain.ts): a list through the lines
  // themselves now, not a Set with an add and a delete per request (bench:refusal's profile).
  it('serving() and closeAfterCurrent() reach every connection\'s response being served, whatever order they end in', () => {
    const limit = new PipelineLimit();
    const a = pipeline(limit, 2);
    const b = pipeline(limit, 1);
    const c = pipeline(limit, 3);
    const d = pipeline(limit, 1);
    const serving = (): FakeResponse[] => limit.serving() as unknown as FakeResponse[];
    expect(new Set(serving())).toEqual(new Set([a.responses[0], b.responses[0], c.responses[0], d.responses[0]]));
    c.responses[0]!.emit('close'); // in the middle: its next request is served
    b.responses[0]!.emit('close'); // its connection has nothing more
    d.responses[0]!.emit('close');
    expect(new Set(serving())).toEqual(new Set([a.responses[0], c.responses[1]]));
    c.responses[1]!.headersSent = true;
    limit.closeAfterCurrent();
    expect([a.responses[0]!.shouldKeepAlive, c.responses[1]!.shouldKeepAlive, a.responses[1]!.shouldKeepAlive]).toEqual([false, true, true]);
    a.responses[0]!.emit('close'); // said Connection: close: the one behind it is not served
    expect(a.handled).toEqual([0]);
    expect(serving()).toEqual([c.responses[1]]);
    c.responses[1]!.emit('close');
    c.responses[2]!.emit('close');
    expect(serving()).toEqual([]);
    // Served again after all that: listed again, once.
    const e = pipeline(limit, 1);
    expect(serving()).toEqual([e.responses[0]]);
  });
});
