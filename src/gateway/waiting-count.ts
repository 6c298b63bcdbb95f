/**
 * The requests waiting for admission in this process, at most `server.maxQueued` across all
 * routes (HandlerState.queued: /status, metrics): a request's ask that must wait takes a place, and
 * so does its slot's, asked for once its body is in (expect-continue.ts withBody) — until bodyask
 * that second wait went uncounted, around the cap and the pipelining guard. Past the cap: 503 queue_full at once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyUnread } from './body-in-flight.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import type { BodySource, WaitingCount } from './expect-continue.js';
import type { HandlerState } from './handler-state.js';
import { writeProblem } from './responses.js';
import type { LiveRoute } from './route-table.js';

/**
 * `req`'s place among the waiting requests, for its ask (request-handler.ts admit) or its slot's
 * (withBody). A client that closes its side of the connection (a FIN) once its request is in is still
 * reading, as HAProxy reads it (no abortonclose): the request keeps its place, and is served
 * or refused (queue_timeout) like any other, then the connection closes (gateway.ts:
 * httpAllowHalfOpen). Only a reset (the socket's close) ends the wait: the response's close
 * aborts it. Requests pipelined behind it must not hide that reset: the connection is read (pipeline-limit.ts).
 */
export function waitingCount(state: HandlerState, route: LiveRoute, req: IncomingMessage, res: ServerResponse, body: BodySource): WaitingCount {
  const socket = req.socket;
  // Counted under the name it entered with: a reload that renames or drops the policy meanwhile leaves the count whole.
  const policy = route.policy?.name;
  return {
    enter: () => {
      if (state.queued >= state.table.config.server.maxQueued) return false;
      state.queued++;
      if (policy !== undefined) state.waiting.set(policy, (state.waiting.get(policy) ?? 0) + 1);
      state.pipeline?.admitting(socket, true);
      return true;
    },
    leave: () => {
      state.queued--;
      if (policy !== undefined) {
        const n = (state.waiting.get(policy) ?? 1) - 1;
        if (n > 0) state.waiting.set(policy, n);
        else state.waiting.delete(policy);
      }
      state.pipeline?.admitting(socket, false);
    },
    refuseFull: () => queueFull(state, route, req, res, body),
  };
}

/**
 * 503 queue_full, counted. Its connection closes only when the answer leaves part of the body
 * unread (closeUnread); a body read whole — the first ask's of a body in hand, or any slot asked
 * for once the body is in — keeps it alive, as every refusal of a request read whole does (until
 * expectlater the slot's ask closed it, the first ask's did not).
 */
export function queueFull(state: HandlerState, route: LiveRoute, req: IncomingMessage, res: ServerResponse, body: BodySource): void {
  state.counters.rejected++;
  state.rejections.count(route.config.name, 'queue_full', 503);
  closeIfPipelined(state, res);
  const close = closeUnread(state, body, res);
  writeProblem(res, 503, 'queue_full', 'The gateway has as many requests waiting as it may hold.', { 'Retry-After': String(GATEWAY_DEFAULTS.retryAfterS), ...close });
  // A connection closing after its answer is not paused: it lingers, read and dropped (responses.ts).
  if (close !== CLOSE) state.pacer.refused(req.socket, GATEWAY_DEFAULTS.retryAfterS * 1000, state.table.trusted);
}

/**
 * For an answer that leaves its request's body unread (body-in-flight.ts): `Connection: close`
 * (writeProblem then lingers), and a request pipelined behind the body is not served.
 */
export function closeUnread(state: HandlerState, body: BodySource, res: ServerResponse): Readonly<Record<string, string>> {
  if (!bodyUnread(body, res)) return {};
  state.badRequests.markAnswered(res.socket ?? res);
  return CLOSE;
}
export const CLOSE = { Connection: 'close' };

/**
 * A refusal while pausing is engaged, with requests pipelined behind it (hostile finding F24):
 * the pause stops new reads, but those were read already, and each would be refused at full
 * speed — a pipelining client makes a pause worth hundreds of refusals. The refusal says
 * Connection: close instead; the backlog is not served (the client retries it, as a client
 * must with pipelined requests a closed connection left unanswered).
 */
export function closeIfPipelined(state: HandlerState, res: ServerResponse): void {
  const socket = res.socket;
  if (socket !== null && state.pacer.engaged && (state.pipeline?.backlog(socket) ?? 0) > 0) res.shouldKeepAlive = false;
}
