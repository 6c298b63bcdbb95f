/**
 * One server under test for `bench/http.ts`, in its own process: `tsx bench/http-server.ts
 * <contender>` listens on a free loopback port and sends `{ port }` to its parent over IPC.
 * Every limit is set far above the load, so what is measured is the cost of the limiter,
 * not its refusals (the parent checks that every response was a 2xx). On 'start' / 'stop'
 * messages it reports its CPU time in between.
 */
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { admission } from '../src/express/index.js';
import { admissionPlugin } from '../src/fastify/index.js';

export const CONTENDERS = ['fastify', 'fastify+@fastify/rate-limit', 'fastify+sluice', 'express', 'express+express-rate-limit', 'express+sluice'] as const;
export type HttpContender = (typeof CONTENDERS)[number];

/** Far above anything the load reaches: no request is ever refused. */
const HUGE = 1e9;
/** sluice: a per-client GCRA limit plus a concurrency limit, as the issue asks. */
const sluicePolicy = { rateLimits: [{ algorithm: 'gcra' as const, rate: HUGE, burst: HUGE }], concurrency: 10_000 };
const body = { hello: 'world' };

async function start(name: HttpContender): Promise<{ port: number; close: () => Promise<void> }> {
  if (name.startsWith('fastify')) {
    const app = Fastify({ logger: false });
    if (name === 'fastify+@fastify/rate-limit') await app.register(fastifyRateLimit, { max: HUGE, timeWindow: 60_000 });
    if (name === 'fastify+sluice') await app.register(admissionPlugin, sluicePolicy);
    app.get('/', async () => body);
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  }
  const app = express();
  app.disable('x-powered-by');
  if (name === 'express+express-rate-limit') app.use(rateLimit({ windowMs: 60_000, limit: HUGE, standardHeaders: 'draft-8', legacyHeaders: false, validate: false }));
  if (name === 'express+sluice') app.use(admission(sluicePolicy));
  app.get('/', (_req, res) => {
    res.json(body);
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

if (process.send !== undefined) {
  const name = process.argv[2] as HttpContender;
  if (!CONTENDERS.includes(name)) throw new Error(`unknown contender ${name}; one of ${CONTENDERS.join(', ')}`);
  const server = await start(name);
  process.send({ port: server.port });
  // CPU time of this process between 'start' and 'stop': the server's own cost, whatever the load generator manages.
  let from = process.cpuUsage();
  process.on('message', (m: string) => {
    if (m === 'start') from = process.cpuUsage();
    if (m === 'stop') {
      const u = process.cpuUsage(from);
      process.send!({ cpuUs: u.user + u.system });
    }
  });
  process.on('SIGTERM', () => {
    void server.close().finally(() => process.exit(0));
  });
}
