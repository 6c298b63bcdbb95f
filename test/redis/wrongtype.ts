// A gateway whose limits are in the shared Redis, under a keyPrefix of its own, and then a key
// of another type in place of each of its keys: another program's list where its rate state was.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { gateway, get, onCleanup, tempDir, upstream } from '../gateway/helpers.js';
import { unique } from './servers.js';

export interface Poisoned {
  readonly gw: Awaited<ReturnType<typeof gateway>>;
  readonly keyPrefix: string;
  /** gw.lines' length when the keys were replaced. */
  readonly from: number;
}

/**
 * `yaml`: the config's policies, routes (and server) lines; `warm`: paths requested (answered
 * 200) before, which make the keys that are then replaced. Keys are deleted at cleanup.
 */
export async function poisonedGateway(url: string, yaml = 'policies: { p: { rateLimits: [{ rate: 1000/s, burst: 1000 }] } }\nroutes: [{ path: /, policy: p }]', warm = ['/']): Promise<Poisoned> {
  const up = await upstream((_req, res) => res.end('ok'));
  const keyPrefix = `${unique('wrongtype')}:`;
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, `listen: { host: 127.0.0.1, port: 0 }\nadmin: { port: 0 }\nstore: { url: "${url}", keyPrefix: "${keyPrefix}", timeout: 1s }\nupstreams: { app: { url: ${up.url} } }\n${yaml}\n`);
  const gw = await gateway(['gateway', '--config', file]);
  for (const path of warm) expect((await get(`${gw.url}${path}`)).status).toBe(200);
  const redis = new Redis(url);
  onCleanup(async () => {
    const left = await redis.keys(`${keyPrefix}*`);
    if (left.length > 0) await redis.del(...left);
    redis.disconnect();
  });
  const keys = await redis.keys(`${keyPrefix}*`);
  expect(keys.length).toBeGreaterThan(0);
  for (const k of keys) await redis.multi().del(k).lpush(k, 'another program').exec();
  return { gw, keyPrefix, from: gw.lines.length };
}

/** The requests a log line stands for: its count (a burst's), else 1. */
export const countOf = (o: Record<string, unknown>): number => (typeof o['count'] === 'number' ? o['count'] : 1);
