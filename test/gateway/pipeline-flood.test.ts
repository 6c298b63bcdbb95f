// Connections that pipeline a whole read of GETs (64 kB, ~2,200 of them) and do not read
// (bench/pipeline-flood.ts): node:http parsed every read whole, so each connection held ~2,200
// parsed requests waiting, past MAX_WAITING connections were closed (their requests lost, and
// an Error with its stack made for each at the close), and 300 of them stalled the event loop
// for 24 s. Now a connection's read is parsed a request at a time while WATCH_BACKLOG wait on
// it; the rest is held unparsed and the connection not read (pipeline-feed.ts). Behaviour only:
// counts, and what each client receives.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WATCH_BACKLOG } from '../../src/gateway/pipeline-limit.js';
import { cleanup, oneRoute, sleep, startInProcess, upstream } from './helpers.js';
import { answers, GET, HELD, heldGateway, pipeliningClient } from './pipelining-client.js';
import type { PipeliningClient } from './pipelining-client.js';

afterEach(cleanup);

/** One read's worth (64 kB) of small GETs behind the held one. */
const DEEP = Math.floor(65_536 / GET.length) - 2;
/** Connections: together DEEP each is more than MAX_WAITING (20,000) would keep. */
const FLOODERS = 12;

type Client = PipeliningClient;

/** A connection that writes a request the upstream holds and `pipelined` GETs behind it, at once. */
async function open(port: number, pipelined: number): Promise<Client> {
  const c = await pipeliningClient(port);
  c.socket.write(HELD + GET.repeat(pipelined));
  return c;
}

describe('a pipelining flood', () => {
  it(`each connection has at most ${WATCH_BACKLOG} requests parsed and waiting; none is cut; the rest is answered in order once served`, async () => {
    const { held, gw, port } = await heldGateway();
    const clients: Client[] = [];
    for (let i = 0; i < FLOODERS; i++) {
      clients.push(await open(port, DEEP));
      for (let t = 0; t < 100 && held.length <= i && !clients[i]!.closed; t++) await sleep(20);
    }
    await sleep(300);
    const s = gw.status();
    // Before: 12 x ~2,200 parsed, past MAX_WAITING: connections closed, their requests unanswered.
    expect(s.counters.pipelineCut).toBe(0);
    expect(clients.every((c) => !c.closed)).toBe(true);
    expect(s.pipeline.waiting).toBeLessThanOrEqual(FLOODERS * WATCH_BACKLOG);
    expect(s.pipeline.holding).toBe(FLOODERS);
    expect(s.counters.pipelineHeld).toBeGreaterThanOrEqual(FLOODERS);
    // Anyone else is served meanwhile.
    expect((await fetch(`${gw.url}/y`)).status).toBe(200);
    // Served, each flooder's requests are all answered, in order: what was held is parsed as the ones before it go.
    for (const c of clients.slice(2)) c.socket.destroy();
    for (const r of held) r.end('held');
    const kept = clients.slice(0, 2);
    for (let t = 0; t < 1500 && kept.some((c) => answers(c) < DEEP + 1); t++) await sleep(20);
    for (const c of kept) {
      expect(answers(c)).toBe(DEEP + 1);
      expect(c.text.indexOf('held')).toBeGreaterThanOrEqual(0);
      expect(c.text.indexOf('held')).toBeLessThan(c.text.indexOf('ok'));
      expect(c.closed).toBe(false);
    }
    expect(gw.status().pipeline.holding).toBe(0);
    for (const c of kept) c.socket.destroy();
  }, 60_000);

  it('a body pipelined among the GETs is parsed whole: Content-Length and chunked bodies reach the upstream intact, in order', async () => {
    const bodies: string[] = [];
    const held: ServerResponse[] = [];
    const up = await upstream((req, res) => {
      if (req.url === '/held') return void held.push(res);
      let b = '';
      req.setEncoding('latin1');
      req.on('data', (d: string) => (b += d));
      req.on('end', () => {
        if (req.method === 'POST') bodies.push(b);
        res.end('ok');
      });
    });
    const gw = await startInProcess(oneRoute(up.url, '30s'));
    const port = Number(new URL(gw.url).port);
    const body = 'x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';
    const withLength = `POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const chunked = `POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    // Deeper than WATCH_BACKLOG before each body: both are in the part of the read held unparsed.
    const c = await open(port, 0);
    c.socket.write(GET.repeat(WATCH_BACKLOG + 4) + withLength + GET.repeat(WATCH_BACKLOG + 4) + chunked + GET.repeat(3));
    for (let t = 0; t < 100 && held.length === 0; t++) await sleep(20);
    await sleep(200);
    expect(gw.status().pipeline.holding).toBe(1);
    for (const r of held) r.end('held');
    const total = 1 + 2 * (WATCH_BACKLOG + 4) + 2 + 3;
    for (let t = 0; t < 500 && answers(c) < total; t++) await sleep(20);
    expect(answers(c)).toBe(total);
    expect(bodies).toEqual([body, body]);
    expect(c.text).not.toMatch(/HTTP\/1\.1 [45]\d\d/);
    c.socket.destroy();
  }, 60_000);
});
