/**
 * When does undici write a request handed to it as the previous response completes?
 * (issue 9, "slot turnaround": the gateway's freed slot reaches the upstream only when undici
 * writes the next admitted request.)
 *
 * Two ways of handing the next request over, as a gateway would on a permit's release:
 * - `pool after`: what the gateway does today — the release resolves a promise, and the
 *   continuation (microtasks after undici's parser callback) dispatches on the Pool;
 * - `same client, in onComplete`: the next request is dispatched synchronously from inside
 *   the completing response's onComplete, onto the very Client that response ran on (still
 *   running it, so the request queues there as pending) — the design issue 9's handoff brief
 *   proposed, expecting undici to write it at once.
 * For each handoff the script records, at the moment undici writes the request (its
 * handler's onConnect, called from client-h1.js writeH1), how many loop phases have passed
 * since the completion: a setImmediate queued first thing in onComplete marks the check phase
 * of that loop iteration, and one more marks the next iteration. The upstream records each
 * request's remote port (same connection or not).
 *
 * A third row: node:http's own client over a keep-alive Agent, the next request made in the
 * completing response's 'end' listener (the node limit floor's `node` client, issue 9).
 *
 * With `--unsolicited`, the upstream follows each answer, in the same write, with a response
 * nobody asked for (the bytes GHSA-35p6-xmwp-9g52 is about): the script counts the requests
 * that got that response instead of their own, and the requests that failed.
 *
 *   npx tsx bench/undici-write-phase.ts [--port 0] [--handoffs 200] [--pipelining 1] [--unsolicited]
 *
 * Behaviour, not speed: the phase a write happens in does not depend on the machine's load.
 */
import { Agent, createServer, request } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Client, Pool } from 'undici';
import type { Dispatcher } from 'undici';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, handoffs: { type: 'string', default: '200' }, pipelining: { type: 'string', default: '1' }, unsolicited: { type: 'boolean', default: false } } });
const HANDOFFS = Number(values.handoffs);
const PIPELINING = Number(values.pipelining);

/** Where a write happened, relative to the completion that handed its request over. */
type Phase = 'poll (at once)' | 'check, same iteration' | 'a later iteration';

interface Tally {
  phases: Record<Phase, number>;
  sameConnection: number;
  /** Requests answered with the unsolicited response (`--unsolicited`). */
  foreign: number;
  failed: number;
}

const ports: number[] = []; // remote port of each request, in arrival order at the upstream
let served = 0;
const UNSOLICITED = 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nEVIL!';
const upstream = values.unsolicited
  ? // Raw: each request's answer and an unsolicited one go out in one write (one read at the gateway).
    createTcpServer((socket) => {
      let buf = '';
      socket.on('data', (d) => {
        buf += d.toString('latin1');
        for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
          buf = buf.slice(end + 4);
          ports.push(socket.remotePort ?? 0);
          const body = `own-${served++}`;
          socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}${UNSOLICITED}`);
        }
      });
      socket.on('error', () => {});
    })
  : createServer((req, res) => {
      ports.push(req.socket.remotePort ?? 0);
      res.end('ok');
    });
await new Promise<void>((r) => upstream.listen(Number(values.port), '127.0.0.1', r));
const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

/** Started first thing at a completion: the phase a write is in, counted from then. */
function phaseSince(): () => Phase {
  // The first immediate runs in this iteration's check phase, the second in the next iteration's.
  let phases = 0;
  setImmediate(() => {
    phases = 1;
    setImmediate(() => (phases = 2));
  });
  return () => (phases === 0 ? 'poll (at once)' : phases === 1 ? 'check, same iteration' : 'a later iteration');
}

const newTally = (): Tally => ({ phases: { 'poll (at once)': 0, 'check, same iteration': 0, 'a later iteration': 0 }, sameConnection: 0, foreign: 0, failed: 0 });

/** A handler that relays nothing and runs `then` in onComplete; `client` is the Client it was dispatched on. */
class Probe implements Dispatcher.DispatchHandler {
  client: Client | undefined;
  written: (() => void) | undefined;
  body = '';
  constructor(
    readonly then: (self: Probe) => void,
    readonly failed: (self: Probe) => void = () => {},
  ) {}
  onConnect(): void {
    this.written?.();
  }
  onHeaders(): boolean {
    return true;
  }
  onData(chunk: Buffer): boolean {
    this.body += chunk.toString('latin1');
    return true;
  }
  onComplete(): void {
    this.then(this);
  }
  onError(): void {
    this.failed(this);
  }
}

async function run(mode: 'pool after' | 'same client, in onComplete'): Promise<Tally> {
  const tally = newTally();
  // The factory wraps each Client's dispatch: a handler learns which Client it runs on.
  const pool = new Pool(origin, {
    connections: 4,
    pipelining: PIPELINING,
    factory: (o, opts) => {
      const c = new Client(o, opts as Client.Options);
      const dispatch = c.dispatch.bind(c);
      c.dispatch = (d, h) => {
        (h as Probe).client = c;
        return dispatch(d, h);
      };
      return c;
    },
  });
  const opts: Dispatcher.DispatchOptions = { origin, method: 'GET', path: '/' };
  let left = HANDOFFS;
  await new Promise<void>((done) => {
    const completed = (prev: Probe): void => {
      if (left-- === 0) return done();
      const phase = phaseSince();
      const before = ports.length;
      const next = new Probe(
        (self) => {
          if (ports[ports.length - 1] === ports[before - 1]) tally.sameConnection++;
          if (self.body === 'EVIL!') tally.foreign++;
          completed(self);
        },
        // A failed request hands over from nowhere: the next goes on the pool.
        () => {
          tally.failed++;
          completed(new Probe(() => {}));
        },
      );
      next.written = () => tally.phases[phase()]++;
      if (mode === 'same client, in onComplete' && prev.client !== undefined) prev.client.dispatch(opts, next);
      else queueMicrotask(() => pool.dispatch(opts, next));
    };
    pool.dispatch(opts, new Probe(completed, () => completed(new Probe(() => {}))));
  });
  await pool.close();
  return tally;
}

/**
 * node:http's client over a keep-alive Agent of 4 sockets (bench/gateway/floor-upstream.ts's
 * `node`): the next request made in the completing response's 'end' listener, as the node
 * limit floor's slot release does. It is written (the request's 'socket' event, emitted in
 * onSocketNT just before `_flush()` writes the head) on whichever socket the Agent hands it.
 */
async function runNode(): Promise<Tally> {
  const tally = newTally();
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let left = HANDOFFS;
  await new Promise<void>((done) => {
    const send = (phase: (() => Phase) | undefined): void => {
      const before = ports.length;
      const req = request(origin, { agent }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString('latin1')));
        res.on('end', () => {
          if (ports[ports.length - 1] === ports[before - 1]) tally.sameConnection++;
          if (body === 'EVIL!') tally.foreign++;
          if (left-- === 0) return done();
          send(phaseSince());
        });
      });
      req.on('socket', () => {
        if (phase !== undefined) tally.phases[phase()]++;
      });
      req.on('error', () => {
        tally.failed++;
        if (left-- === 0) return done();
        send(undefined);
      });
      req.end();
    };
    send(undefined);
  });
  agent.destroy();
  return tally;
}

console.log(`undici write phase: ${HANDOFFS} handoffs each, Pool of 4 connections, pipelining ${PIPELINING}; node:http Agent of 4 sockets; node ${process.version}${values.unsolicited ? ', an unsolicited response after each answer' : ''}`);
console.log("| handoff | written in the poll phase that freed the slot | in that iteration's check phase | later | on the same connection | got the unsolicited response | failed |");
console.log('|:--|--:|--:|--:|--:|--:|--:|');
for (const mode of ['pool after', 'same client, in onComplete', 'node:http Agent, in end'] as const) {
  const t = mode === 'node:http Agent, in end' ? await runNode() : await run(mode);
  console.log(`| ${mode} | ${t.phases['poll (at once)']} | ${t.phases['check, same iteration']} | ${t.phases['a later iteration']} | ${t.sameConnection} | ${t.foreign} | ${t.failed} |`);
}
upstream.close();
