/**
 * The proxy listener's drain (moved out of gateway.ts): queued requests are refused, the
 * listener takes what waits in its accept queue and closes, idle connections close after a
 * grace, in-flight requests finish until the deadline (then what the upstream never got is told
 * to retry, and the rest is cut), and the upstream pools close. The gateway then lets go of the
 * rest (leases, store, admin listener, metrics).
 */
import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { acceptWhatWaits } from './accept-queue-grace.js';
import { flushLogs } from './burst-logs.js';
import { answerUnsent } from './crash-answers.js';
import { forwarded } from './forwarded-response.js';
import type { HandlerState } from './handler-state.js';
import type { LoopSaturation } from './loop-saturation.js';
import type { PipelineLimit } from './pipeline-limit.js';
import type { RouteTable } from './route-table.js';

/** How long idle keep-alive connections stay open once a drain began: a request already sent on one is answered, ms. */
const IDLE_GRACE_MS = 250;
/**
 * How long the listener goes on accepting once a drain began, ms: connections already in its
 * accept queue (or on their way) are answered rather than reset by its close. Less than
 * IDLE_GRACE_MS: the last ones accepted have their request read before idle connections go.
 */
const LISTEN_GRACE_MS = 100;
/** Longest the listener goes on accepting while its accept queue holds connections, ms. */
const LISTEN_GRACE_MAX_MS = 1_000;
const COPIES_WAIT_MAX_MS = 5_000; // with workers: longest what a worker accepted waits, unread, for every copy of the listener to close, ms
/** How long connections answered at the drain's deadline get to take the answer before they are cut, ms. */
const DEADLINE_GRACE_MS = 250;

/** What the drain works on: the gateway's parts. */
export interface DrainParts {
  readonly state: HandlerState;
  readonly server: Server;
  readonly pipeline: PipelineLimit;
  readonly loop: LoopSaturation;
  /** Set by a worker: called once a drain closed its copy of the listener; resolves once every worker's is closed (accept-queue-grace.ts). */
  readonly listenerClosed?: () => Promise<void>;
}

/**
 * A drain's deadline, which a later call may bring nearer: a second SIGTERM, or `close()` during
 * a drain, cuts what runs (until hostile-29 the running drain kept its own deadline, 30 s by
 * default, and the second signal waited for every in-flight request: drain-second-signal.test.ts).
 * Its timer holds no process up (the drain's own connections and workers do): a deadline asked
 * after the drain ended, or one nobody waits on, does not keep a process alive until it passes
 * (drain-deadline.test.ts). `Infinity`: no deadline until one is asked.
 */
export class DrainDeadline {
  readonly late: Promise<'late'>;
  #timer: NodeJS.Timeout | undefined;
  #at: number;
  #ms: number;
  #over = false;
  #cut = false;
  #resolve!: (v: 'late') => void;

  constructor(ms: number) {
    this.#ms = ms;
    this.#at = performance.now() + ms;
    this.late = new Promise<'late'>((resolve) => (this.#resolve = resolve));
    this.#arm(ms);
  }

  /** The deadline in force, ms from when it was asked: the first, or a later sooner one (0: `close()`). */
  get ms(): number {
    return this.#ms;
  }

  /** Whether a later call brought the deadline nearer than the first. */
  get cutShort(): boolean {
    return this.#cut;
  }

  /** The deadline `ms` from now, if that is sooner than the one set (nothing once it passed or was cleared). */
  shorten(ms: number): void {
    if (this.#over || performance.now() + ms >= this.#at) return;
    this.#at = performance.now() + ms;
    this.#ms = ms;
    this.#cut = true;
    clearTimeout(this.#timer);
    this.#arm(ms);
  }

  clear(): void {
    this.#over = true;
    clearTimeout(this.#timer);
  }

  #arm(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.#timer = setTimeout(() => {
      this.#over = true;
      this.#resolve('late');
    }, ms);
    this.#timer.unref();
  }
}

/** Drain the proxy listener within `deadline`; resolves once it is closed and its upstream pools are destroyed. */
export async function drainProxy(parts: DrainParts, deadline: DrainDeadline): Promise<void> {
  const { state, server, pipeline, loop } = parts;
  const deadlineMs = deadline.ms;
  const logger = state.logger;
  state.draining = true;
  logger.info('draining', { deadlineMs, queued: state.queued });
  // Responses still to come close their connections after them, rather than going idle.
  pipeline.closeAfterCurrent();
  // Queued requests are answered 503 + Retry-After now; admitted ones run on. First: a
  // request read below from a paused connection then meets a closed gate (503 closed, the
  // drain's Retry-After) — until reload22 it met the open one, and a full queue refused it
  // queue_full with the gate's Retry-After of a second, to a client of a server going away.
  for (const p of state.table.policies.values()) p.close();
  // A paused connection may hold a request its client already sent: read it (it is
  // answered with Connection: close) before server.close() closes idle connections.
  state.pacer.maxPauseMs = 0;
  if (state.pacer.paused > 0) {
    state.pacer.resumeAll();
    // After a timer, an immediate runs once the poll phase between them has read what they hold.
    await new Promise((resolve) => setTimeout(() => setImmediate(resolve), 0));
  }
  const drainStart = performance.now();
  // Connections whose handshake the kernel completed wait in the listener's accept queue
  // until this process accepts them; closing the listener resets every one still there —
  // clients that connected in the first ~30-40 ms of a drain (the signal's and, with
  // workers, the primary's call's way here) got ECONNRESET after sending their request.
  // The listener stays open for a grace (what comes is answered 503 + Connection: close,
  // or served on an exempt route), then until a loop turn accepts nothing: the queue is
  // empty (accept-queue-grace.ts). Connections after the close are refused (ECONNREFUSED:
  // nothing was sent, a client or balancer retries elsewhere).
  // No new connections; idle keep-alive ones are closed after a grace, not at once (hostile
  // finding F26): a request a client sent on one just before the drain began is read and
  // answered (503 + Connection: close) instead of being lost to the close. (node:http's
  // close() would close them at once: net's stops accepting only.)
  let closed!: Promise<void>; // set by stopListening, which acceptWhatWaits calls in the call of an accept
  const stopListening = (): void => void (closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve())));
  // What this worker holds waits for the other copies to close until the deadline in force (a second signal cuts that wait too).
  const listenerClosed = parts.listenerClosed;
  const copies = listenerClosed === undefined ? undefined : { closedHere: () => Promise.race([listenerClosed(), deadline.late.then(() => undefined)]), maxWaitMs: Math.min(COPIES_WAIT_MAX_MS, deadlineMs) };
  if (deadlineMs > 0) await acceptWhatWaits(server, Math.min(LISTEN_GRACE_MS, deadlineMs), Math.min(LISTEN_GRACE_MAX_MS, deadlineMs), stopListening, copies);
  else stopListening();
  if (deadlineMs <= 0) void copies?.closedHere(); // nothing held: the primary counts its copy closed
  // Idle connections close IDLE_GRACE_MS into the drain, and not before the listener has closed:
  // a connection accepted meanwhile is not read until then (accept-queue-grace.ts), and
  // closing it unread would reset it.
  let idle: NodeJS.Timeout | undefined;
  const grace = setTimeout(() => {
    server.closeIdleConnections();
    idle = setInterval(() => server.closeIdleConnections(), 50);
  }, Math.max(0, Math.min(IDLE_GRACE_MS, deadlineMs) - (performance.now() - drainStart)));
  logger.info('listener closed: new connections are refused', {});
  const outcome = await Promise.race([closed.then(() => 'done' as const), deadline.late]);
  deadline.clear();
  clearTimeout(grace);
  clearInterval(idle);
  // node:http's own close, for what it stops besides listening (its timeout checks); the server is closed already.
  server.close(() => undefined);
  loop.stop();
  if (outcome === 'late') {
    // What the upstream never got (an upload still arriving) is told to retry, not cut.
    const serving = [...pipeline.serving()];
    const told = await answerUnsent(serving, Math.max(1, Math.ceil(state.table.config.drain.retryAfterMs / 1000)), forwarded, DEADLINE_GRACE_MS);
    // The deadline in force (a second signal's, close()'s 0), and what it cuts: requests whose response has not ended.
    const cut = serving.filter((res) => !res.writableEnded).length;
    logger.warn('drain deadline passed: cutting connections', { deadlineMs: deadline.ms, ...(deadline.cutShort ? { cutShort: true, askedMs: deadlineMs } : {}), answered: told, cut });
    server.closeAllConnections();
    await closed;
  }
  flushLogs(state);
  await destroyUpstreams(state.table);
}

/** Every upstream pool of `table` destroyed: its connections closed, what they still carry cut. */
export async function destroyUpstreams(table: RouteTable): Promise<void> {
  await Promise.all([...table.upstreams.values()].flatMap((u) => [u.pool.destroy(), u.headPool.destroy()]));
}
