// register(admissionPlugin, { prefix }) admits only the routes under that prefix, as a Fastify
// user reads the option: Fastify ignores `prefix` for a plugin that does not encapsulate, so the
// policy limited every route (and the options form refused the key).
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { admissionPlugin, HttpAdmission } from '../../src/fastify/index.js';
import type { FastifyAdmissionOptions } from '../../src/fastify/index.js';
import { get } from './helpers.js';

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});

const tight = { rateLimits: [{ algorithm: 'gcra' as const, rate: 0.001, burst: 1, name: 'tight' }] };

async function start(options: FastifyAdmissionOptions & { prefix?: string }, outer?: string): Promise<number> {
  const app = Fastify({ forceCloseConnections: true });
  apps.push(app);
  await app.register(
    async (ctx) => {
      await ctx.register(admissionPlugin, options);
      for (const path of ['/api', '/api/x', '/apix', '/other']) ctx.get(path, async () => 'ok');
    },
    outer === undefined ? {} : { prefix: outer },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** The statuses of two requests to each path, in order. */
async function statuses(port: number, paths: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  for (const path of paths) for (let i = 0; i < 2; i++) out.push((await get(port, path)).status);
  return out;
}

describe('admissionPlugin with a prefix', () => {
  it('options form: routes under /api share the limit, the others pass', async () => {
    const port = await start({ ...tight, prefix: '/api' });
    expect(await statuses(port, ['/other', '/apix', '/api/x', '/api'])).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
  });

  it('policy form, the prefix written without its slash, inside a prefixed context', async () => {
    const port = await start({ policy: new HttpAdmission(tight), prefix: 'api' }, '/v1');
    expect(await statuses(port, ['/v1/other', '/v1/api/x'])).toEqual([200, 200, 200, 429]);
  });
});
