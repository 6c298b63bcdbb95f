/**
 * The floor for the gateway's overhead: the least a Node reverse proxy does — node:http in,
 * a keep-alive agent out, hop-by-hop headers dropped, bodies piped both ways — and no
 * admission control at all.
 */
import { Agent, createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

export async function startBareProxy(upstreamUrl: string, maxSockets = 256): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const target = new URL(upstreamUrl);
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    const headers = endToEnd(req.headers);
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    const up = request({ agent, host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, endToEnd(ur.headers));
      ur.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

/**
 * The floor for a refusal: a node:http server that answers every request 503 with
 * Retry-After at once, proxying nothing. What no Node gateway can beat per refused request,
 * and what the load generator and loopback add to a refusal's latency on this machine.
 */
export async function startBareRefuser(): Promise<{ url: string; close: () => Promise<void> }> {
  const body = '{"status":503,"title":"Service Unavailable"}';
  const head = ['Content-Type', 'application/problem+json', 'Retry-After', '1', 'Content-Length', String(body.length)];
  const server = createServer({ keepAliveTimeout: 5000 }, (_req, res) => {
    res.writeHead(503, head);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
