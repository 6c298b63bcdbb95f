// Redis Streams settlements run their scripts by EVALSHA: each script's text crosses the wire once
// (an EVAL, which caches it, when the server answers NOSCRIPT), not with every ack, retry, extend
// and dead letter. A SCRIPT FLUSH (as after a restart) is such a NOSCRIPT, and the owner check
// holds as before. Against a redis-server of the test's own, stopped by PID.
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../src/brokers/index.js';
import type { Delivery } from '../../src/brokers/index.js';
import { RedisStreamsSource } from '../../src/redis-streams/index.js';
import { unique } from '../brokers/services.js';
import { haveRedisServer, useOwnRedis } from '../redis/servers.js';
import type { OwnRedis } from '../redis/servers.js';

const can = haveRedisServer();

describe.skipIf(!can)('redis-streams: settlement scripts by EVALSHA', () => {
  let own: OwnRedis;
  let r: Redis;
  useOwnRedis((o, raw) => {
    own = o;
    r = raw;
  });

  /** The server's EVAL and EVALSHA calls since the last CONFIG RESETSTAT. */
  const scriptCalls = async (): Promise<{ eval: number; evalsha: number }> => {
    const s = await r.info('commandstats');
    const calls = (name: string): number => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(s)?.[1] ?? 0);
    return { eval: calls('eval'), evalsha: calls('evalsha') };
  };
  /** `n` entries of a new stream, pulled by a new source (consumer 'a'). */
  const take = async (n: number): Promise<{ stream: string; a: RedisStreamsSource; got: Delivery[] }> => {
    const stream = unique('evalsha');
    for (let i = 0; i < n; i++) await r.xadd(stream, '*', 'body', `m${i}`);
    const a = await RedisStreamsSource.open({ url: own.url, stream, group: 'workers', consumer: 'a', claimIdleMs: 300, blockMs: 100 });
    const got: Delivery[] = [];
    await a.pull(n, (d) => got.push(d), new AbortController().signal);
    expect(got).toHaveLength(n);
    return { stream, a, got };
  };
  /** Settle `d` by the i-th of four ways (counting the script calls each makes: 1, 1, 2, 1). */
  const settle = async (d: Delivery, i: number): Promise<void> => {
    if (i % 4 === 0) await d.ack();
    else if (i % 4 === 1) await d.retry(0, 'again');
    else if (i % 4 === 2) {
      await d.extend();
      await d.ack();
    } else await d.deadLetter('boom');
  };

  it('40 settlements (acks, retries, extends then acks, dead letters) are 50 EVALSHAs; the text of each of the 3 scripts is sent once (EVAL)', async () => {
    const { stream, a, got } = await take(40);
    await r.script('FLUSH');
    await r.config('RESETSTAT');
    for (const [i, d] of got.entries()) await settle(d, i);
    expect(await scriptCalls()).toEqual({ eval: 3, evalsha: 50 });
    expect(((await r.xpending(stream, 'workers')) as [number])[0]).toBe(10); // the retried, pending until claimed
    expect(await r.xlen(`${stream}:dead`)).toBe(10);
    await a.close();
    await r.del(stream, `${stream}:dead`);
  });

  it('after SCRIPT FLUSH (NOSCRIPT) the scripts are loaded again: settlements go through, and those of entries a peer claimed still reject with LeaseLostError, leaving them to the peer', async () => {
    const { stream, a, got } = await take(8);
    await settle(got[0]!, 0); // the scripts loaded, then flushed
    await r.script('FLUSH');
    for (const d of got.slice(4)) await r.xclaim(stream, 'workers', 'b', 0, d.id, 'JUSTID');
    for (const [i, d] of got.slice(1, 4).entries()) await settle(d, i + 1);
    for (const [i, d] of got.slice(4).entries()) {
      const late = i === 2 ? d.extend() : i === 0 ? d.ack() : i === 1 ? d.retry(0, 'again') : d.deadLetter('boom');
      await expect(late).rejects.toSatisfy((e) => e instanceof LeaseLostError && /claimed by "b"/.test((e as Error).message));
    }
    const pending = ((await r.xpending(stream, 'workers', '-', '+', 10)) as [string, string][]).map(([id, c]) => [id, c]);
    expect(pending).toEqual([[got[1]!.id, 'a'], ...got.slice(4).map((d) => [d.id, 'b'])]);
    expect(await r.xlen(`${stream}:dead`)).toBe(1);
    await a.close();
    await r.del(stream, `${stream}:dead`);
  });
});
