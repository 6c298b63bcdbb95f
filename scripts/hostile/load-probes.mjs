// Many-connection probes: clients nobody controls, run beside one well-behaved client. Each
// checks that the honest client is served, nothing hangs, and the upstream never has more in
// flight than the concurrency limit.
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { raw, sleep, status } from './lib.mjs';

/** One request on `agent`: { status, ms } or { status: 0, error } (bounded by `timeoutMs`). */
export function call(port, path, { agent, method = 'GET', headers = {}, body, timeoutMs = 15_000 } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: agent ?? false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Date.now() - started, retryAfter: res.headers['retry-after'] }));
      res.on('error', (e) => resolve({ status: 0, error: e.code ?? e.message, ms: Date.now() - started }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('hung'), { code: 'HUNG' })));
    req.on('error', (e) => resolve({ status: 0, error: e.code ?? e.message, ms: Date.now() - started }));
    req.end(body);
  });
}

/**
 * `clients` keep-alive clients, each re-sending at once whatever answer it gets, for `ms`.
 * Returns counts by status (and error code) and the longest answer.
 */
export async function hammer(port, { clients = 50, ms = 4_000, path = '/slow/h', headers = () => ({}) } = {}) {
  const counts = {};
  let longest = 0;
  const until = Date.now() + ms;
  const one = async (i) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    while (Date.now() < until) {
      const r = await call(port, path, { agent, headers: headers(i) });
      const key = r.status === 0 ? r.error : r.status;
      counts[key] = (counts[key] ?? 0) + 1;
      longest = Math.max(longest, r.ms);
      if (r.status === 0) await sleep(5);
    }
    agent.destroy();
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => one(i)));
  return { counts, longest };
}

const fmt = (counts) => Object.entries(counts).map(([k, v]) => `${k}×${v}`).join(' ');

/** Open `n` sockets, each writing `first` then calling `drip(socket)` every second. */
function crowd(port, n, first, drip) {
  const sockets = [];
  for (let i = 0; i < n; i += 1) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.pause();
    s.write(first);
    sockets.push(s);
  }
  const timer = drip === undefined ? undefined : setInterval(() => sockets.forEach((s) => !s.destroyed && drip(s)), 1_000);
  return {
    sockets,
    closedByGateway: () => sockets.filter((s) => s.destroyed || s.readableEnded || s.closed).length,
    stop: () => {
      if (timer !== undefined) clearInterval(timer);
      sockets.forEach((s) => s.destroy());
    },
  };
}

/**
 * Run the load probes; `limit` is the upstream concurrency the gateway must keep to.
 * Returns rows { name, ok, expected, actual }.
 */
export async function runLoad(port, adminPort, upstream, limit) {
  const rows = [];
  const honest = async () => (await call(port, '/honest', { timeoutMs: 10_000 })).status;
  const settle = async () => {
    for (let i = 0; i < 50 && upstream.state.inFlight > 0; i += 1) await sleep(100);
    return upstream.state.inFlight;
  };

  // 1. re-send at once after a 503
  upstream.resetMax();
  const before = upstream.state.total;
  const h = await hammer(port, { clients: 60, ms: 4_000 });
  const admitted = upstream.state.total - before;
  const ok200 = h.counts[200] ?? 0;
  rows.push({
    name: 'resend at once after 503 (60 clients, /slow 1 s)',
    ok: upstream.state.max <= limit && ok200 === admitted && Object.keys(h.counts).every((k) => k === '200' || k === '503' || k === '429') && (await settle()) === 0,
    expected: `upstream max ≤ ${limit}; 200s = upstream total; only 200/503`,
    actual: `${fmt(h.counts)}; upstream max ${upstream.state.max}, total ${admitted}; longest ${h.longest} ms`,
  });

  // 2. uploads at one byte a second hold no slot
  upstream.resetMax();
  const n0 = upstream.records.length;
  const trickle = crowd(port, 40, 'POST /upload HTTP/1.1\r\nHost: gw\r\nContent-Length: 100\r\n\r\n', (s) => s.write('x'));
  await sleep(3_000);
  const hs = await honest();
  const reached = upstream.records.slice(n0).filter((r) => r.url === '/upload').length;
  trickle.stop();
  rows.push({ name: '40 uploads at 1 byte/s', ok: hs === 200 && reached === 0, expected: 'none reaches the upstream; honest 200', actual: `honest ${hs}; uploads at upstream ${reached}; closed by gateway ${trickle.closedByGateway()}` });

  // 3. heads at one byte a second
  const slowloris = crowd(port, 40, 'GET /x HTTP/1.1\r\n', (s) => s.write('X'));
  await sleep(2_000);
  const hl = await honest();
  slowloris.stop();
  rows.push({ name: '40 heads at 1 byte/s', ok: hl === 200, expected: 'honest 200', actual: `honest ${hl}` });

  // 4. never read the response (a 20 MB one)
  upstream.resetMax();
  const readers = crowd(port, 30, 'GET /big HTTP/1.1\r\nHost: gw\r\n\r\n');
  await sleep(3_000);
  const hr = await honest();
  const st = await status(adminPort);
  readers.stop();
  const left = await settle();
  rows.push({
    name: '30 non-readers of 20 MB',
    ok: hr === 200 && upstream.state.max <= limit && left === 0,
    expected: `honest 200; upstream max ≤ ${limit}; 0 in flight after`,
    actual: `honest ${hr}; upstream max ${upstream.state.max}; slowReadersCut ${st?.counters?.slowReadersCut}; in flight after ${left}`,
  });

  // 5. 100 pipelined requests, never read: small answers (load like any other: the honest
  // client may be refused, never left hanging) and 20 MB ones (cut for their slots)
  for (const target of ['/p', '/big']) {
    upstream.resetMax();
    const pipe = crowd(port, 20, `GET ${target} HTTP/1.1\r\nHost: gw\r\n\r\n`.repeat(100));
    await sleep(3_000);
    const hp = await honest();
    pipe.stop();
    const leftP = await settle();
    await sleep(500);
    const after = await honest();
    const waiting = (await status(adminPort))?.pipeline?.waiting;
    const answered = target === '/p' ? [200, 503] : [200];
    rows.push({
      name: `20 × 100 pipelined ${target}, never read`,
      ok: answered.includes(hp) && after === 200 && upstream.state.max <= limit && leftP === 0 && (waiting === undefined || waiting === 0),
      expected: `honest ${answered.join('/')} during, 200 after; upstream max ≤ ${limit}; waiting 0 after`,
      actual: `honest ${hp} during, ${after} after; upstream max ${upstream.state.max}; in flight after ${leftP}; pipeline waiting after ${waiting}`,
    });
  }

  // 6. Expect: 100-continue, then never the body
  const expect = crowd(port, 40, 'POST /e HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n');
  await sleep(2_000);
  const he = await honest();
  const e0 = upstream.state.inFlight;
  expect.stop();
  rows.push({ name: '40 × Expect 100-continue, no body', ok: he === 200 && e0 <= limit, expected: 'honest 200; no slot held', actual: `honest ${he}; upstream in flight while held ${e0}` });

  // 7. a pipelined keep-alive line that closes at once after sending (client gone)
  upstream.resetMax();
  const n7 = upstream.state.total;
  const gone = [];
  for (let i = 0; i < 100; i += 1) gone.push(raw(port, ['GET /slow/gone HTTP/1.1\r\nHost: gw\r\n\r\n', 5], { waitMs: 20, settleMs: 0 }));
  await Promise.all(gone);
  const left7 = await settle();
  rows.push({ name: '100 × /slow then reset', ok: upstream.state.max <= limit && left7 === 0, expected: `upstream max ≤ ${limit}; 0 after`, actual: `reached ${upstream.state.total - n7}; upstream max ${upstream.state.max}; in flight after ${left7}` });
  return rows;
}
