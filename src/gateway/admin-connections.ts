/**
 * The admin listener's connections: at most ADMIN_MAX_CONNECTIONS descriptors (hostile-11),
 * and /healthz and /readyz always answerable within them. Closing connections over the cap at
 * accept (`server.maxConnections`) let 24 idle keep-alive scrapers, 24 heads sent halfway or 24
 * dashboard streams lock the orchestrator's probes out: its /healthz was reset, and a
 * healthy gateway restarted. So:
 *   - a connection over the cap closes the oldest connection with no request in progress
 *     (idle keep-alive, or a head not yet complete) and takes its place; only when every
 *     connection has a request in progress is the new one closed at accept;
 *   - requests other than the probes may be in progress on at most ADMIN_MAX_CONNECTIONS −
 *     ADMIN_PROBE_RESERVE connections at once; past that they are answered 503 (Retry-After: 1)
 *     and their connection closed.
 * So at least ADMIN_PROBE_RESERVE connections have no request in progress, a new connection
 * always finds one to replace, and a probe on it is answered at once (it never waits).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { answerAdminClientErrors } from './admin-errors.js';
import { unreadBodyCloses } from './body-reader.js';
import type { BadVerdict } from './bad-requests.js';
import { hasUserinfo, pathOf, USERINFO_TARGET } from './own-target.js';
import { lingerOnClose } from './responses.js';

/** Connections the admin listener holds at most (file-limit.ts keeps room for them). */
export const ADMIN_MAX_CONNECTIONS = 24;
/** Of them, those other requests may never all take: kept for /healthz and /readyz. */
export const ADMIN_PROBE_RESERVE = 4;
/**
 * Live /dashboard pages open at once, at most (the dashboard's maxSubscribers; one more is
 * answered 503 'too many dashboard pages open'): a page holds its request in progress for as
 * long as it is open, and 20 of them took every slot, so /metrics and /status were answered
 * 503 'admin listener busy' while the pages stayed open. 8 leave 12 for scrapes and /status.
 */
export const ADMIN_DASHBOARD_PAGES = 8;
/** node:http's options for an admin listener: a request's head must come within 10 s. */
export const ADMIN_SERVER_OPTIONS = { headersTimeout: 10_000, requestTimeout: 10_000, connectionsCheckingInterval: 1_000 } as const;

const PROBES: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/** Whether `req` is an orchestrator's probe (/healthz, /readyz), answered whatever else is going on. */
export function isProbe(req: IncomingMessage): boolean {
  return PROBES.has((req.url ?? '/').split('?')[0]!);
}

/** The admin listener's connections, oldest first, and the requests in progress on each. */
export class AdminConnections {
  /** Insertion order is age: the first one without a request in progress is the one replaced. */
  readonly #inProgress = new Map<Socket, number>();
  #busy = 0;

  constructor(readonly max = ADMIN_MAX_CONNECTIONS, readonly reserve = ADMIN_PROBE_RESERVE) {}

  /** Connections held now. */
  get open(): number {
    return this.#inProgress.size;
  }

  /** Requests other than the probes in progress now. */
  get busy(): number {
    return this.#busy;
  }

  /** A connection was accepted: kept, replacing the oldest idle one over the cap, or closed. */
  accepted(socket: Socket): void {
    if (this.#inProgress.size >= this.max) {
      let idle: Socket | undefined;
      for (const [s, n] of this.#inProgress) {
        if (n === 0) {
          idle = s;
          break;
        }
      }
      if (idle === undefined) {
        socket.destroy();
        return;
      }
      this.#inProgress.delete(idle);
      idle.destroy();
    }
    this.#inProgress.set(socket, 0);
    socket.once('close', () => this.#inProgress.delete(socket));
  }

  /**
   * A request arrived: true when it may be served (counted in progress until its response
   * closes); false when it was answered 503 here, the share of the other requests being full.
   */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    const probe = isProbe(req);
    if (!probe && this.#busy >= this.max - this.reserve) {
      const body = 'admin listener busy: too many requests in progress; /healthz and /readyz are still answered\n';
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', 'Retry-After': '1', Connection: 'close' });
      res.end(body);
      return false;
    }
    const socket = req.socket;
    const tracked = this.#inProgress.has(socket);
    if (tracked) this.#inProgress.set(socket, this.#inProgress.get(socket)! + 1);
    if (!probe) this.#busy++;
    res.once('close', () => {
      if (!probe) this.#busy--;
      const n = this.#inProgress.get(socket);
      if (tracked && n !== undefined) this.#inProgress.set(socket, n - 1);
    });
    return true;
  }
}

/** An admin listener's HTTP server: `handler` behind the connection bounds above. */
export function createAdminServer(handler: RequestListener): Server {
  const connections = new AdminConnections();
  const server = createServer(ADMIN_SERVER_OPTIONS, (req, res) => {
    // No admin path takes a body: one declared is not read on after the answer — the connection
    // closes, lingering (hostile-16: GET /healthz declaring 100 GB was answered and kept alive, and
    // node:http read and dropped the body at the client's pace, 400 MB in 4 s, on the proxy's loop).
    if (unreadBodyCloses(req, 0)) {
      res.setHeader('Connection', 'close');
      lingerOnClose(res);
    }
    if (connections.admit(req, res) && originForm(req, res)) handler(req, res);
  });
  server.on('connection', (socket: Socket) => connections.accepted(socket));
  // CONNECT is 405, a target over the head's limit 414, other parse errors 400 with their reason (admin-errors.ts).
  answerAdminClientErrors(server);
  return server;
}

/**
 * An absolute-form target (a server must accept one: RFC 9112 section 3.2.2) is its path
 * (`req.url` becomes it). Its authority is ignored, as Host is: this listener serves its own
 * paths whatever name or address a client reached it by (`localhost`, a DNS name, a port a NAT or
 * a container publishes), and serving them to a client that names another host tells it nothing
 * an origin-form request would not. Until upstream (session 28) only one naming the address
 * the connection reached was served, `http://localhost:9901/status` 400 foreign_target. Another
 * scheme is 421 `foreign_scheme` (this listener serves plain http: RFC 9110 section 7.4), userinfo
 * 400 `bad_target` (RFC 9110 section 4.2.4), as on the proxy port. False: answered.
 */
function originForm(req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url ?? '/';
  if (url.startsWith('/') || url === '*') return true;
  const path = hasUserinfo(url) ? undefined : pathOf(url);
  if (path !== undefined) {
    req.url = path;
    return true;
  }
  const v = hasUserinfo(url) ? USERINFO_TARGET : (otherScheme(url) ?? NOT_A_TARGET);
  const body = `${v.reason}: ${v.detail}\n`;
  res.writeHead(v.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
  return false;
}

const NOT_A_TARGET: BadVerdict = { status: 400, reason: 'bad_target', detail: 'The request target is neither a path starting with / nor an absolute http URL (send the path alone: GET /status).' };

/** An absolute URL in a scheme other than http: 421, naming it. */
function otherScheme(url: string): BadVerdict | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const detail = `The target has the scheme ${u.protocol}, which this listener does not serve (it serves plain http): send the path alone (GET ${u.pathname || '/'}).`;
  return { status: 421, reason: 'foreign_scheme', detail };
}
