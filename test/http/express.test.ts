// Express adapter on real loopback sockets, against the oldest and the newest major that
// package.json claims (express 4 through the devDependency alias "express4").
import express from 'express';
import express4 from 'express4';
import type { Request } from 'express';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { GateEvent } from '../../src/core/index.js';
import { admission, HttpAdmission } from '../../src/express/index.js';
import { abandonInFlightAndWaiter, close, get, listen } from './helpers.js';

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map(close));
  servers = [];
});

async function serve(app: express.Express): Promise<number> {
  const server = createServer(app);
  servers.push(server);
  return listen(server);
}

const MAJORS = [
  ['Express 5', express, 'express', '5'],
  ['Express 4', express4, 'express4', '4'],
] as const;

describe.each(MAJORS)('admission (%s)', (_major, express, pkg, major) => {
  it(`runs against the package of that major`, () => {
    expect((createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version.split('.')[0]).toBe(major);
  });

  it('limits with 429 + Retry-After + RateLimit fields + problem+json, and marks successes', async () => {
    const app = express();
    app.use(admission({ rateLimits: [{ algorithm: 'gcra', rate: 0.001, burst: 2, name: 'burst' }], headers: 'x' }));
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const port = await serve(app);
    const first = await get(port);
    expect(first).toMatchObject({ status: 200, body: 'ok' });
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1' });
    await get(port);
    const refused = await get(port);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^[0-9]+$/);
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    expect(JSON.parse(refused.body)).toMatchObject({ type: 'https://iana.org/assignments/http-problem-types#quota-exceeded', status: 429 });
  });

  it('applies route groups and per-route settings; routes sharing a policy share its limits', async () => {
    const shared = new HttpAdmission<Request>({ rateLimits: [{ algorithm: 'gcra', rate: 0.001, burst: 3 }] });
    const app = express();
    const api = express.Router();
    api.use(admission(shared));
    api.get('/a', (_req, res) => void res.send('a'));
    api.get('/b', (_req, res) => void res.send('b'));
    app.use('/api', api);
    app.get('/heavy', admission(shared, { route: { cost: 3 } }), (_req, res) => void res.send('heavy'));
    app.get('/health', (_req, res) => void res.send('up'));
    const port = await serve(app);
    expect((await get(port, '/api/a')).status).toBe(200);
    expect((await get(port, '/api/b')).status).toBe(200);
    expect((await get(port, '/heavy')).status).toBe(429); // 1 left, costs 3
    expect((await get(port, '/api/a')).status).toBe(200);
    expect((await get(port, '/api/b')).status).toBe(429);
    expect((await get(port, '/health')).status).toBe(200);
  });

  it('keys by the authenticated user set by an earlier middleware, and ignores spoofed X-Forwarded-For', async () => {
    const app = express();
    app.use((req, _res, next) => {
      (req as Request & { user?: string | undefined }).user = req.headers['x-user'] as string | undefined;
      next();
    });
    app.use(admission({ tenant: (req) => (req as Request & { user?: string }).user, rateLimits: [{ algorithm: 'gcra', rate: 0.001, burst: 1 }] }));
    app.get('/', (_req, res) => void res.send('ok'));
    const port = await serve(app);
    expect((await get(port, '/', { 'x-user': 'alice' })).status).toBe(200);
    expect((await get(port, '/', { 'x-user': 'alice' })).status).toBe(429);
    expect((await get(port, '/', { 'x-user': 'bob' })).status).toBe(200);
    // No user: the socket address, whatever X-Forwarded-For says.
    expect((await get(port, '/', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
    expect((await get(port, '/', { 'x-forwarded-for': '198.51.100.2' })).status).toBe(429);
  });

  it('releases an abandoned request as dropped and removes an abandoned waiter', async () => {
    const policy = new HttpAdmission<Request>({ concurrency: { limit: 1, maxQueue: 2, maxWaitMs: 10_000 } });
    const outcomes: string[] = [];
    policy.concurrency!.on((e: GateEvent) => void (e.type === 'release' && outcomes.push(e.outcome)));
    const app = express();
    app.use(admission(policy));
    app.get('/hang', () => undefined);
    const port = await serve(app);
    await abandonInFlightAndWaiter(port, '/hang', policy.concurrency!, outcomes);
    expect(outcomes).toEqual(['dropped']);
    expect(policy.concurrency!.inFlight).toBe(0);
  });

  it('hands refusals to onRefused when given', async () => {
    const app = express();
    app.use(
      admission(
        { rateLimits: [{ algorithm: 'gcra', rate: 0.001, burst: 1 }] },
        { onRefused: (refusal, _req, res) => void res.status(refusal.status).json({ error: refusal.rejection.reason }) },
      ),
    );
    app.get('/', (_req, res) => void res.send('ok'));
    const port = await serve(app);
    await get(port);
    const r = await get(port);
    expect(r.status).toBe(429);
    expect(JSON.parse(r.body)).toEqual({ error: 'rate_limited' });
  });
});
