/**
 * bench:redis's command line (bench/redis.ts describes each flag). Unknown flags and bad
 * values are errors that name the flag, what it takes and what it got: a typo must not run
 * the full bench in its place.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KeyedRateLimiter } from '../../src/rate/index.js';
import type { RedisStore } from '../../src/redis/index.js';

export interface RedisBenchFlags {
  readonly quick: boolean;
  readonly callers?: number[];
  readonly openOnly: boolean;
  readonly rate?: number;
  readonly open?: string[];
  readonly clients?: ('plain' | 'auto-pipelining')[];
  readonly openRounds?: number;
  readonly openMs?: number;
  /** The open loop's arrivals: a turn's decisions together ('tick'), or each from its own macrotask ('spread'). */
  readonly arrival?: 'tick' | 'spread' | 'socket';
  readonly label?: string;
  /** A checkout of another commit whose sluice runs beside this one (an A/B in one run). */
  readonly base?: string;
  /** A redis-server of the bench's own (own-redis.ts), not the one at REDIS_URL. */
  readonly ownRedis?: boolean;
  /** Any flag that narrows the run (then it is not saved as redis-latest). */
  readonly partial: boolean;
}

const OPEN_CONTENDERS = ['sluice', 'sluice-base', 'sluice-single', 'sluice-leased', 'rlf', 'ping', 'tick-ping', 'noop'];
const CLIENTS = ['plain', 'auto-pipelining'] as const;

export function parseFlags(argv: readonly string[]): RedisBenchFlags {
  const out: { -readonly [K in keyof RedisBenchFlags]: RedisBenchFlags[K] } = { quick: false, openOnly: false, partial: false };
  for (const a of argv) {
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? undefined : a.slice(eq + 1);
    const list = (): string[] => (value ?? '').split(',').filter((x) => x !== '');
    const positive = (what: string): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`bench:redis: ${name} takes ${what}, a positive integer; received ${JSON.stringify(value)}`);
      return n;
    };
    switch (name) {
      case '--quick':
        out.quick = true;
        break;
      case '--open-only':
        out.openOnly = true;
        break;
      case '--callers':
        out.callers = list().map((x) => {
          const n = Number(x);
          if (!Number.isInteger(n) || n <= 0) throw new Error(`bench:redis: --callers takes positive integers, comma-separated; received ${JSON.stringify(value)}`);
          return n;
        });
        break;
      case '--rate':
        out.rate = positive('decisions per second');
        break;
      case '--open-rounds':
        out.openRounds = positive('a number of rounds');
        break;
      case '--open-ms':
        out.openMs = positive('milliseconds per round');
        break;
      case '--open':
        out.open = list();
        for (const x of out.open) if (!OPEN_CONTENDERS.includes(x)) throw new Error(`bench:redis: --open takes contenders among ${OPEN_CONTENDERS.join(', ')}; received ${JSON.stringify(x)}`);
        break;
      case '--clients':
        out.clients = list() as ('plain' | 'auto-pipelining')[];
        for (const x of out.clients) if (!CLIENTS.includes(x)) throw new Error(`bench:redis: --clients takes ${CLIENTS.join(', ')}; received ${JSON.stringify(x)}`);
        break;
      case '--arrival':
        if (value !== 'tick' && value !== 'spread' && value !== 'socket') throw new Error(`bench:redis: --arrival takes tick, spread or socket; received ${JSON.stringify(value)}`);
        out.arrival = value;
        break;
      case '--label':
        if (value === undefined || !/^[a-z0-9-]+$/.test(value)) throw new Error(`bench:redis: --label takes a name of lowercase letters, digits and '-' (the results file's suffix); received ${JSON.stringify(value)}`);
        out.label = value;
        break;
      case '--own-redis':
        out.ownRedis = true;
        break;
      case '--base':
        if (value === undefined || !existsSync(`${value}/src/redis/index.ts`)) throw new Error(`bench:redis: --base takes a checkout of sluice (a directory with src/redis/index.ts); received ${JSON.stringify(value)}`);
        out.base = value;
        break;
      default:
        throw new Error(`bench:redis: unknown flag ${JSON.stringify(a)} (see bench/redis.ts's header)`);
    }
    if (name !== '--quick' && name !== '--label') out.partial = true;
  }
  if (out.open?.includes('sluice-base') === true && out.base === undefined) throw new Error('bench:redis: --open=sluice-base needs --base=<checkout>; received no --base');
  if (out.base !== undefined && out.open?.some((x) => x === 'sluice-single' || x === 'sluice-leased') === true) throw new Error(`bench:redis: --open with --base takes no sluice-single or sluice-leased (only sluice runs from both checkouts); received ${out.open.join(',')}`);
  if (out.clients?.length === 0) throw new Error('bench:redis: --clients takes at least one client; received none');
  if (out.open?.length === 0) throw new Error('bench:redis: --open takes at least one contender; received none');
  return out;
}

/** Another checkout's KeyedRateLimiter and RedisStore (--base), loaded beside this one's. */
export async function loadBase(dir: string): Promise<{ KeyedRateLimiter: typeof KeyedRateLimiter; RedisStore: typeof RedisStore }> {
  const at = (rel: string): string => pathToFileURL(`${dir.replace(/\/$/, '')}/${rel}`).href;
  const rate = (await import(at('src/rate/index.ts'))) as { KeyedRateLimiter: typeof KeyedRateLimiter };
  const redis = (await import(at('src/redis/index.ts'))) as { RedisStore: typeof RedisStore };
  return { KeyedRateLimiter: rate.KeyedRateLimiter, RedisStore: redis.RedisStore };
}

/** `--help`: print the header comment of the bench's file (what it runs, its flags) and exit. */
export function exitWithHelp(moduleUrl: string): never {
  const src = readFileSync(fileURLToPath(moduleUrl), 'utf8');
  const header = /\/\*\*([\s\S]*?)\*\//.exec(src)?.[1] ?? '';
  console.log(header.split('\n').map((l) => l.replace(/^ \* ?/, '')).join('\n').trim());
  process.exit(0);
}
