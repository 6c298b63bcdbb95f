// The Express and Fastify adapters as an application writes them. Compiled twice: against the
// newest majors (tsconfig.json: express 5 with @types/express 5, fastify 5) and against the
// oldest that package.json's peer ranges claim (tsconfig.oldest-majors.json maps `express` to
// @types/express 4 and `fastify` to fastify 4; `npm run typecheck` runs both).
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import Fastify from 'fastify';
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import { describe, expectTypeOf, it } from 'vitest';
import { admission } from '../../src/express/index.js';
import { admissionPlugin } from '../../src/fastify/index.js';
import type { FastifyAdmissionOptions } from '../../src/fastify/index.js';
import { HttpAdmission } from '../../src/http/index.js';
import type { Refused } from '../../src/http/index.js';

describe('sluice/express', () => {
  it('is a middleware for an app, a router and a route, with its own refusal handler', () => {
    const app = express();
    const mw = admission({ rateLimits: [{ algorithm: 'gcra', rate: 10, burst: 20 }], concurrency: 100 });
    expectTypeOf(mw).toEqualTypeOf<RequestHandler>();
    app.use(mw);
    const router = express.Router();
    router.use(admission(new HttpAdmission<Request>({ concurrency: 10 })));
    app.use('/api', router);
    app.get('/report', admission({ concurrency: 2 }, { route: { cost: 5, criticality: 'sheddable' } }), (_req, res) => {
      res.send('ok');
    });
    app.use(
      admission(
        { concurrency: 1 },
        {
          onRefused: (refusal, req, res, next) => {
            expectTypeOf(refusal).toEqualTypeOf<Refused>();
            expectTypeOf(req).toEqualTypeOf<Request>();
            expectTypeOf(res).toEqualTypeOf<Response>();
            expectTypeOf(next).toEqualTypeOf<NextFunction>();
            res.status(refusal.status).json({ error: refusal.problem.title });
          },
        },
      ),
    );
    // @ts-expect-error a route's cost is a number
    admission({ concurrency: 1 }, { route: { cost: 'high' } });
  });
});

describe('sluice/fastify', () => {
  it('registers with options or a shared policy; a route says its settings under config.sluice', () => {
    const app = Fastify();
    expectTypeOf(admissionPlugin).toEqualTypeOf<FastifyPluginCallback<FastifyAdmissionOptions>>();
    void app.register(admissionPlugin, { rateLimits: [{ algorithm: 'gcra', rate: 10, burst: 20 }], concurrency: 100 });
    const shared = new HttpAdmission<FastifyRequest>({ concurrency: 10 });
    void app.register((api, _opts, done) => {
      void api.register(admissionPlugin, { policy: shared });
      done();
    });
    app.get('/report', { config: { sluice: { cost: 5 } } }, () => 'ok');
    app.route({ method: 'GET', url: '/healthz', config: { sluice: { exempt: true } }, handler: () => 'ok' });
    // @ts-expect-error a route's cost is a number
    app.get('/bad', { config: { sluice: { cost: 'high' } } }, () => 'ok');
  });
});
