/**
 * A response whose request was handed to the upstream carries its forwarding (proxy.ts
 * Forwarding) under a symbol: the response's own events reach it through shared listeners
 * (no closures per request), and the gateway asks of any response whether it was forwarded
 * (its upstream may be working on it) or tells it its client's request turned out malformed.
 */
import type { ServerResponse } from 'node:http';

/** What a response's events tell its forwarding. */
export interface ForwardedHandle {
  /** The response finished or closed. */
  done(): void;
  /** Its client went away (or its request is abandoned). */
  clientGone(): void;
  /** The client's socket took what was pending. */
  drained(): void;
}

/** The forwarding of a response in flight, on the response itself (abandonForwarding and the shared listeners below read it). */
const kForwarding = Symbol('sluice.gateway.forwarding');
type Forwarded = ServerResponse & { [kForwarding]?: ForwardedHandle };

/** Whether the request of `res` was handed to the upstream (undici): it may be working on it. */
export function forwarded(res: ServerResponse): boolean {
  return (res as Forwarded)[kForwarding] !== undefined;
}

/**
 * The client's request turned out malformed after it was forwarded (its body broke the
 * parser: client-errors.ts): end its forwarding now, before undici sends it if it has not
 * yet, as a client that went away ('ignored', the upstream request aborted).
 */
export function abandonForwarding(res: ServerResponse): void {
  (res as Forwarded)[kForwarding]?.clientGone();
}

// The response's listeners, one function each for every request (`this` is the response): no
// closures per request. A response closes once and finishes once (node:http guards both), so
// `on`, not `once` (whose wrapper costs every request).
function onForwardedClose(this: Forwarded): void {
  const f = this[kForwarding];
  if (f === undefined) return;
  f.done();
  if (!this.writableFinished) f.clientGone();
}

const onForwardedFinish = function (this: Forwarded): void { this[kForwarding]?.done(); };
const onForwardedDrain = function (this: Forwarded): void { this[kForwarding]?.drained(); };

/** `f` forwards `res`: its close and finish reach `f`. */
export function watchForwarded(res: ServerResponse, f: ForwardedHandle): void {
  (res as Forwarded)[kForwarding] = f;
  res.on('close', onForwardedClose);
  res.on('finish', onForwardedFinish);
}

/** The response's 'drain' reaches its forwarding (from its first write the socket did not take at once). */
export function watchDrain(res: ServerResponse): void {
  res.on('drain', onForwardedDrain);
}
