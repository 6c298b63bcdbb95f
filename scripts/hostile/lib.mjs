// The hostile probes' tools: an upstream that records what reaches it and counts what it has
// in flight, the gateway as a child process, and a client that writes bytes as given and
// parses what comes back (no HTTP library between the probe and the gateway).
import { spawn } from 'node:child_process';
import { createServer, get } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * An upstream on `port`: a target with `/slow` answers after `slowMs`, `/hold` never, `/big` sends `bigBytes`, anything
 * else echoes method, target, raw headers and body length as JSON after 5 ms. Each request is
 * recorded; in flight counts from its arrival to its response's 'close'.
 */
export function startUpstream(port, { slowMs = 1_000, bigBytes = 20 * 1024 * 1024 } = {}) {
  const records = [];
  const state = { inFlight: 0, max: 0, total: 0 };
  const server = createServer((req, res) => {
    state.inFlight += 1;
    state.total += 1;
    state.max = Math.max(state.max, state.inFlight);
    res.on('close', () => (state.inFlight -= 1));
    const record = { method: req.method, url: req.url, raw: req.rawHeaders, body: 0, trailers: req.rawTrailers, done: false };
    records.push(record);
    req.on('data', (c) => (record.body += c.length));
    req.on('error', () => undefined);
    req.on('end', () => {
      record.done = true;
      record.trailers = req.rawTrailers;
      if (req.url.includes('/big')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bigBytes) });
        res.end(Buffer.alloc(bigBytes, 97));
        return;
      }
      if (req.url.includes('/hold')) return; // never answered (until the gateway or the probe goes)
      const wait = req.url.includes('/slow') ? slowMs : 5;
      setTimeout(() => {
        if (res.destroyed) return;
        const body = JSON.stringify({ method: req.method, url: req.url, raw: req.rawHeaders, body: record.body });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
      }, wait);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({
        records,
        state,
        resetMax: () => (state.max = state.inFlight),
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      }),
    );
  });
}

/** `node bin/sluice.js gateway …args`; its output goes to `log` (a path). */
export function spawnGateway(args, logStream) {
  const child = spawn(process.execPath, ['bin/sluice.js', 'gateway', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(logStream, { end: false });
  child.stderr.pipe(logStream, { end: false });
  child.lastLines = [];
  child.stderr.setEncoding('utf8').on('data', (d) => child.lastLines.push(...d.trim().split('\n').slice(-3)));
  child.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return child;
}

/** GET `http://127.0.0.1:port{path}`: { status, body } or { status: 0, error }. */
export function httpGet(port, path, timeoutMs = 3_000) {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }));
      res.on('error', (e) => resolve({ status: 0, error: e.code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, error: e.code ?? e.message }));
  });
}

export async function waitReady(adminPort, ms = 60_000, child) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child !== undefined && child.exitCode !== null) throw new Error(`the gateway exited ${child.exitCode} before it was ready: ${child.lastLines.slice(-3).join(' | ')}`);
    const r = await httpGet(adminPort, '/readyz', 1_000);
    if (r.status === 200) return;
    await sleep(150);
  }
  throw new Error(`the gateway's admin port ${adminPort} did not answer /readyz 200 within ${ms} ms`);
}

export async function status(adminPort) {
  const r = await httpGet(adminPort, '/status');
  return r.status === 200 ? JSON.parse(r.body) : undefined;
}

/**
 * Parse the HTTP/1.x responses in `buf` (latin1 text). `heads[i]` true: the i-th final
 * response answers a HEAD (no body). Returns the complete ones and whether bytes are left.
 */
export function parseResponses(text, heads = []) {
  const out = [];
  let at = 0;
  let finals = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const head = text.slice(at, end);
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (m === null) return { responses: out, rest: text.slice(at), garbage: true };
    const status = Number(m[1]);
    const headers = {};
    for (const line of head.split('\r\n').slice(1)) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).trim().toLowerCase();
      headers[name] = headers[name] === undefined ? line.slice(i + 1).trim() : `${headers[name]}, ${line.slice(i + 1).trim()}`;
    }
    let bodyEnd = end + 4;
    if (status >= 200 && !heads[finals] && status !== 204 && status !== 304) {
      if (headers['content-length'] !== undefined) {
        bodyEnd += Number(headers['content-length']);
        if (bodyEnd > text.length) break;
      } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        let p = bodyEnd;
        let complete = false;
        for (;;) {
          const le = text.indexOf('\r\n', p);
          if (le < 0) break;
          const size = parseInt(text.slice(p, le), 16);
          if (size === 0) {
            const te = text.indexOf('\r\n\r\n', le - 2 < p ? p : le - 2);
            if (te < 0) break;
            p = te + 4;
            complete = true;
            break;
          }
          p = le + 2 + size + 2;
          if (p > text.length) break;
        }
        if (!complete) break;
        bodyEnd = p;
      } else {
        bodyEnd = text.length; // close-delimited
      }
    }
    out.push({ status, head, headers, body: text.slice(end + 4, bodyEnd) });
    if (status >= 200) finals += 1;
    at = bodyEnd;
  }
  return { responses: out, rest: text.slice(at), garbage: false };
}

/**
 * A raw exchange: write `parts` (strings are latin1 bytes; a number between them is a pause in
 * ms) to the port, then read until the connection closes, `want` final responses are complete,
 * (and `settleMs` more, to see whether it closes), or `waitMs` has passed. `read: false` never reads (the socket is paused) until `waitMs`.
 */
export function raw(port, parts, { want = 1, waitMs = 5_000, heads = [], read = true, end = false, settleMs = 250 } = {}) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    let finished = false;
    const started = Date.now();
    const finish = (why) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const parsed = parseResponses(text, heads);
      const finals = parsed.responses.filter((r) => r.status >= 200);
      resolve({ why, closed, ms: Date.now() - started, responses: parsed.responses, finals, first: finals[0], rest: parsed.rest, bytes: text.length });
      socket.destroy();
    };
    const timer = setTimeout(() => finish(read ? 'timeout' : 'waited'), waitMs);
    if (!read) socket.pause();
    socket.setEncoding('latin1');
    socket.on('data', (/** @type {string} */ d) => {
      text += d;
      const finals = parseResponses(text, heads).responses.filter((r) => r.status >= 200);
      if (finals.length >= want) setTimeout(() => finish('answered'), settleMs);
    });
    socket.on('close', () => {
      closed = true;
      finish('closed');
    });
    socket.on('error', () => undefined);
    void (async () => {
      for (const part of parts) {
        if (finished) return;
        if (typeof part === 'number') await sleep(part);
        else socket.write(Buffer.isBuffer(part) ? part : Buffer.from(part, 'latin1'));
      }
      if (end && !finished) socket.end();
    })();
  });
}

/** The reason of a problem+json body, or '' */
export function reasonOf(response) {
  if (response === undefined) return '';
  try {
    return JSON.parse(response.body).reason ?? '';
  } catch {
    return '';
  }
}

/** The raw headers an upstream echo body shows, as [name, value] pairs (lowercased names). */
export function echoed(response) {
  try {
    const raw = JSON.parse(response.body).raw;
    const pairs = [];
    for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i].toLowerCase(), raw[i + 1]]);
    return { url: JSON.parse(response.body).url, pairs };
  } catch {
    return undefined;
  }
}
