/**
 * The Express adapter: a middleware that admits each request by an {@link HttpAdmission}
 * policy. Mount it where the limits apply — `app.use(...)` for everything, a router for a
 * route group, or per route with route settings. Middlewares made from one policy object
 * share its limits; each made from options gets its own.
 *
 * Express is only a type here (an optional peer): nothing is imported at run time.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isPromise } from '../core/gate-base.js';
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import { optFunction } from '../core/options.js';
import { HttpAdmission } from '../http/admission.js';
import type { HttpDecision, Refused } from '../http/decision.js';
import type { HttpAdmissionOptions, RouteAdmission } from '../http/options.js';
import { resolveRoute } from '../http/options.js';
import { pathOf, setHeaders, writeRefusal } from '../http/write.js';

export interface ExpressAdmissionOptions {
  /** This route's settings (cost, criticality, exempt, maxWaitMs). @default none */
  readonly route?: RouteAdmission;
  /** Answer a refusal yourself (another body format, say); call `next(err)` to hand it to Express. @default 429/503 with problem+json */
  readonly onRefused?: (refusal: Refused, req: Request, res: Response, next: NextFunction) => void;
}

const EXPRESS_KEYS = optionKeys<ExpressAdmissionOptions>({ route: true, onRefused: true });

/**
 * @example
 * app.use(admission({ rateLimits: [{ algorithm: 'gcra', rate: 10, burst: 20 }], concurrency: 100 }));
 */
export function admission(policy: HttpAdmission<Request> | HttpAdmissionOptions<Request>, options: ExpressAdmissionOptions = {}): RequestHandler {
  // Before the policy is built: a misspelt `onRefuse` must not leave the default 429 answering.
  optKnownKeys('express admission', options, EXPRESS_KEYS);
  const gate = policy instanceof HttpAdmission ? policy : new HttpAdmission<Request>(policy);
  const route = resolveRoute(options.route);
  const onRefused = options.onRefused;
  optFunction('onRefused', onRefused);
  const proceed = (d: HttpDecision, req: Request, res: Response, next: NextFunction): void => {
    switch (d.type) {
      case 'admitted':
        setHeaders(res, d.headers);
        return next();
      case 'exempt':
        return next();
      case 'rejected':
        return onRefused === undefined ? writeRefusal(res, d) : onRefused(d, req, res, next);
      case 'abandoned':
        return;
    }
  };
  return (req, res, next) => {
    let d: HttpDecision | Promise<HttpDecision>;
    try {
      d = gate.handle(req, res, route, pathOf(req.originalUrl));
    } catch (err) {
      return next(err);
    }
    if (isPromise(d)) d.then((x) => proceed(x, req, res, next), next);
    else proceed(d, req, res, next);
  };
}
