/**
 * The node:http adapter: wrap a request listener so that each request is admitted first.
 * Admitted requests get the RateLimit headers and run the handler; refused ones get 429 or
 * 503 with Retry-After and a problem+json body; a request whose client left while it
 * waited gets nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPromise } from '../core/gate-base.js';
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import { optFunction } from '../core/options.js';
import { HttpAdmission } from './admission.js';
import type { HttpDecision } from './decision.js';
import type { HttpAdmissionOptions, RouteAdmission } from './options.js';
import { resolveRoute } from './options.js';
import { pathOf, setHeaders, writeRefusal } from './write.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface NodeAdmissionOptions {
  /** Per-request route settings (cost, criticality, exempt, maxWaitMs) — a router's lookup, say. @default none */
  readonly route?: (req: IncomingMessage) => RouteAdmission | undefined;
  /** Called when admission or the handler throws or rejects. @default answer 500 if nothing was sent, else destroy the response */
  readonly onError?: (error: unknown, req: IncomingMessage, res: ServerResponse) => void;
}

const NODE_KEYS = optionKeys<NodeAdmissionOptions>({ route: true, onError: true });

/**
 * @example
 * const server = http.createServer(withAdmission({ rateLimits: [{ algorithm: 'gcra', rate: 10, burst: 20 }] }, (req, res) => res.end('ok')));
 */
export function withAdmission(
  policy: HttpAdmission<IncomingMessage> | HttpAdmissionOptions<IncomingMessage>,
  handler: NodeHandler,
  options: NodeAdmissionOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  optKnownKeys('withAdmission', options, NODE_KEYS);
  optFunction('route', options.route);
  optFunction('onError', options.onError);
  const admission = policy instanceof HttpAdmission ? policy : new HttpAdmission<IncomingMessage>(policy);
  const route = options.route;
  const onError = options.onError ?? defaultOnError;
  const fail = (err: unknown, req: IncomingMessage, res: ServerResponse): void => onError(err, req, res);
  const proceed = (d: HttpDecision, req: IncomingMessage, res: ServerResponse): void => {
    if (d.type === 'admitted') setHeaders(res, d.headers);
    else if (d.type === 'rejected') return writeRefusal(res, d);
    else if (d.type === 'abandoned') return;
    const out = handler(req, res);
    if (isPromise(out)) out.then(undefined, (err: unknown) => fail(err, req, res));
  };
  return (req, res) => {
    try {
      const r = route === undefined ? undefined : resolveRoute(route(req));
      const d = admission.handle(req, res, r, pathOf(req.url));
      if (isPromise(d)) d.then((x) => proceed(x, req, res)).catch((err: unknown) => fail(err, req, res));
      else proceed(d, req, res);
    } catch (err) {
      fail(err, req, res);
    }
  };
}

function defaultOnError(_error: unknown, _req: IncomingMessage, res: ServerResponse): void {
  if (!res.headersSent) {
    res.statusCode = 500;
    res.end();
  } else {
    res.destroy();
  }
}
