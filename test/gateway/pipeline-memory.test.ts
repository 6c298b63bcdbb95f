// Requests pipelined behind a held one cost heap (~1.5 kB each: node parses a whole read at
// once), so all connections together may keep at most MAX_WAITING of them waiting: past it, a
// connection pipelining WATCH_BACKLOG or more deep is closed (hostile-18: 261 non-readers
// pipelining 64 kB each took RSS from 295 to 1,522 MB). Behaviour only: counts and closes.
// Since pipeline-feed.ts a connection's reads are parsed a request at a time once 16 wait, so
// only a read the parser takes natively — after a first request sent alone — is parsed whole:
// that is the case the bound is for now.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_WAITING, WATCH_BACKLOG } from '../../src/gateway/pipeline-limit.js';
import { cleanup, sleep } from './helpers.js';
import { GET, HELD, heldGateway, pipeliningClient } from './pipelining-client.js';
import type { PipeliningClient } from './pipelining-client.js';

afterEach(cleanup);

type Client = PipeliningClient;

/** `reached`: whether the held request reached the upstream (the deep pipeline is written after it, in a read of its own). */
async function open(port: number, pipelined: number, reached: () => boolean): Promise<Client> {
  const c = await pipeliningClient(port);
  c.socket.write(HELD);
  for (let t = 0; t < 100 && !reached() && !c.closed; t++) await sleep(20);
  c.socket.write(GET.repeat(pipelined));
  return c;
}

describe('requests waiting behind held ones, all connections together', () => {
  it(`past ${MAX_WAITING} waiting, a connection pipelining deeper than ${WATCH_BACKLOG} is closed; a shallow one is not`, async () => {
    const { held, gw, port } = await heldGateway();
    // Each: one read's worth (64 kB) of small GETs behind a request the upstream holds.
    const deep = Math.floor(65_536 / GET.length) - 2;
    const clients: Client[] = [];
    const wanted = Math.ceil(MAX_WAITING / deep) + 3;
    for (let i = 0; i < wanted; i++) {
      clients.push(await open(port, deep, () => held.length > i));
      // Each connection's read parsed before the next connects: the count grows one read at a time.
      for (let t = 0; t < 100 && gw.status().pipeline.waiting < (i + 1) * deep * 0.9 && gw.status().counters.pipelineCut === 0 && !clients[i]!.closed; t++) await sleep(20);
    }
    for (let t = 0; t < 250 && gw.status().counters.pipelineCut === 0; t++) await sleep(20);
    await sleep(200);
    // Each cut client sees its close (a busy host may take a while to deliver it).
    for (let t = 0; t < 100 && clients.filter((c) => c.closed).length < gw.status().counters.pipelineCut; t++) await sleep(20);
    const cut = clients.filter((c) => c.closed);
    expect(gw.status().counters.pipelineCut).toBeGreaterThan(0);
    expect(cut.length).toBe(gw.status().counters.pipelineCut);
    // Before the budget was reached, nobody was closed: the first connections all stay open.
    expect(clients.slice(0, Math.floor(MAX_WAITING / deep) - 1).every((c) => !c.closed)).toBe(true);
    // A client pipelining no deeper than WATCH_BACKLOG is served, not closed, while over the budget.
    const shallow = await open(port, WATCH_BACKLOG - 1, () => held.length > wanted);
    for (let t = 0; t < 100 && held.length < wanted + 1; t++) await sleep(20);
    await sleep(200);
    expect(shallow.closed).toBe(false);
    // Once the upstream answers, the open connections' requests are answered in order.
    for (const r of held) r.end('held');
    for (let t = 0; t < 250 && (shallow.text.match(/HTTP\/1\.1 200/g) ?? []).length < WATCH_BACKLOG; t++) await sleep(20);
    expect((shallow.text.match(/HTTP\/1\.1 200/g) ?? []).length).toBe(WATCH_BACKLOG);
    expect(shallow.closed).toBe(false);
    // Metrics name it too.
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`sluice_connections_over_limit_total\\{outcome="pipeline_cut"\\} ${gw.status().counters.pipelineCut}`));
    for (const c of [...clients, shallow]) c.socket.destroy();
    // Everyone else is still served.
    expect((await fetch(`${gw.url}/y`)).status).toBe(200);
  }, 60_000);
});
