/**
 * What rollouts and rehearsals add to a request's way through the gateway, kept apart from
 * the request handler (which calls each from one line): a canary that leaves a tenant alone,
 * a shadow policy's refusal counted instead of given, and a route's injected fault in front
 * of forwarding. See policy-mode.ts and fault-injection.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpDecision, Refused } from '../http/decision.js';
import type { RequestBody } from './body-reader.js';
import type { HttpPermit } from '../http/http-permit.js';
import type { HeaderPair } from '../http/ratelimit-headers.js';
import type { PolicyInstance } from './policy-instance.js';
import { forward } from './upstream-dispatch.js';
import type { ForwardContext } from './proxy.js';
import type { LiveRoute } from './route-table.js';
import type { BurstLogs } from './burst-logs.js';
import type { GatewayCounters } from './gateway-counters.js';

/** The route's policy for this request; undefined when a canary leaves its tenant alone. */
export function activePolicy(route: LiveRoute, req: IncomingMessage): PolicyInstance | undefined {
  const p = route.policy;
  // Outside a canary it applies to everyone: no tenant asked (nor a closure made for asking).
  if (p === undefined || p.rollout.percent >= 100 || p.rollout.applies(() => p.admission.tenantOf(req))) return p;
  return undefined;
}

/** Where a shadow policy's decisions are counted: its logs, and the gateway's counters. */
type ShadowCounts = BurstLogs & { readonly counters: GatewayCounters };

/**
 * A refusal of a shadow policy: counted and logged as would-have-refused; true when the request
 * goes on — admitted, as the gateway's counters have it (`counters.admitted`): until
 * gateway-edges a shadow policy's refused-and-forwarded requests were in neither admitted nor
 * rejected, so `requests` did not add up and a shadow trial seemed to admit less than it forwarded.
 */
export function shadowed(route: LiveRoute, d: Refused, logs: ShadowCounts, at: 'now' | 'later' = 'now'): boolean {
  const rollout = route.policy?.rollout;
  if (rollout?.shadow !== true) return false;
  rollout.wouldRefuse(d.rejection.reason);
  logs.shadowRejections.count(route.config.name, d.rejection.reason, d.status);
  if (at === 'now') logs.counters.admitted++;
  return true;
}

/**
 * A shadow policy's decision that waits: the request goes on now (admitted, counted so); the
 * decision, when it comes, is counted (a refusal) or holds its permit until the response closes (an admission).
 */
export function shadowWait(route: LiveRoute, decision: Promise<HttpDecision>, logs: ShadowCounts, res: ServerResponse, go: () => void): void {
  logs.counters.admitted++;
  decision.then(
    (d) => {
      if (d.type === 'rejected') shadowed(route, d, logs, 'later');
      else if (d.type === 'admitted') {
        // Nobody forwards with this permit: it ends with the response (its status, or ignored when cut).
        const end = (): void => (res.writableFinished ? d.permit.finish(res.statusCode) : d.permit.release('ignored'));
        if (res.writableFinished || res.destroyed) end();
        else res.once('close', end);
      }
    },
    (err: unknown) => logs.admissionFailures.shadowFailed(route.config.name, err),
  );
  go();
}

/** Forward through the route's injected fault, if it has one. */
export function forwardRoute(
  route: LiveRoute,
  req: IncomingMessage,
  res: ServerResponse,
  body: RequestBody,
  permit: HttpPermit | undefined,
  ctx: ForwardContext,
  headers?: readonly HeaderPair[],
): void {
  if (route.fault === undefined) return forward(req, res, route.upstream, body, permit, ctx, headers);
  route.fault.apply(res, () => forward(req, res, route.upstream, body, permit, ctx, headers), permit);
}
