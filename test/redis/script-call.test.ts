// ScriptCommand writes the same bytes as ioredis's own Command (its one-Buffer encoding is an
// allocation saving, not a protocol of its own): empty, numeric, multi-byte and Buffer
// arguments, a keyPrefix, argument counts past the reused length table; and a script call
// through it against the real Redis (REDIS_URL), NOSCRIPT reload included.
import { Command, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptCall, ScriptCommand } from '../../src/redis/script-call.js';
import { sharedRedis, unique } from './servers.js';

const wire = (c: Command): Buffer => {
  const w = c.toWritable(undefined as never);
  return typeof w === 'string' ? Buffer.from(w, 'utf8') : w;
};

describe('ScriptCommand', () => {
  const cases: [string, (string | number | Buffer)[], { keyPrefix?: string }][] = [
    ['a batch-shaped call', ['0123456789abcdef0123456789abcdef01234567', 2, 'p{t1}:g', 'p{t2}:g', '', 1, 'g', 1000, 1000, 1000, 'c1:1:0'], {}],
    ['multi-byte keys and values', ['sha', 2, 'é{ключ}:g', '{🙂}:t', 'ü', '日本語', 1.5, -3, 1e21], {}],
    ['no keys and no ARGV', ['sha', 0], {}],
    ['a Buffer argument', ['sha', 1, 'k', Buffer.from([0, 255, 13, 10])], {}],
    ['a keyPrefix (applied to the keys by ioredis before writing)', ['sha', 2, 'a', 'bé', 'x'], { keyPrefix: 'pré:' }],
    ['more arguments than the reused length table holds', ['sha', 100, ...Array.from({ length: 100 }, (_, i) => `k${i}${'é'.repeat(i % 7)}`), 'spec'], {}],
  ];
  for (const [what, args, opts] of cases) {
    it(`writes what ioredis's Command writes: ${what}`, () => {
      const ours = new ScriptCommand('evalsha', args.slice(), { replyEncoding: 'utf8', ...opts });
      const theirs = new Command('evalsha', args.slice(), { replyEncoding: 'utf8', ...opts });
      expect(wire(ours).equals(wire(theirs))).toBe(true);
    });
  }
});

const svc = await sharedRedis();
let raw: Redis;
if (svc.up) {
  beforeAll(() => {
    raw = new Redis(svc.url, { keyPrefix: `${unique('sc')}:` });
  });
  afterAll(() => raw.disconnect());
}

describe.skipIf(!svc.up)('ScriptCall against Redis', () => {
  it('runs a script on prefixed multi-byte keys, and reloads it after SCRIPT FLUSH', async () => {
    const call = new ScriptCall(raw, "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1]) .. '|' .. ARGV[2] .. '|' .. KEYS[2]");
    expect(await call.send(['', 2, 'ключ', 'b', 'värde', ''])).toBe(`värde||${raw.options.keyPrefix}b`);
    await raw.script('FLUSH');
    expect(await call.send(['', 2, 'ключ', 'b', 'again', 'x'])).toBe(`again|x|${raw.options.keyPrefix}b`);
    expect(await raw.get('ключ')).toBe('again');
  });
});

// Redis 6 names the command, not the subcommand, in a NOPERM (acl.c: "this user has no
// permissions to run the 'script' command or its subcommand"; Redis 7: "User u has no
// permissions to run the 'script|load' command"). No Redis 6 here: a client that answers as
// one whose user may run EVALSHA only.
describe('ScriptCall under a Redis 6 user who may run neither EVAL nor SCRIPT LOAD', () => {
  it('rejects with the error naming both and the ACL to allow, as under Redis 7', async () => {
    const sent: string[] = [];
    const redis6 = {
      options: {},
      sendCommand(cmd: Command) {
        sent.push(cmd.name);
        const what = cmd.name === 'evalsha' ? 'NOSCRIPT No matching script. Please use EVAL.' : `NOPERM this user has no permissions to run the '${cmd.name}' command or its subcommand`;
        cmd.reject(new Error(what));
      },
    };
    const call = new ScriptCall(redis6, 'return 1');
    const err = await call.send(['', 0]).then(() => undefined, (e: unknown) => e as Error);
    expect(sent).toEqual(['evalsha', 'eval', 'script']);
    expect(err?.message).toMatch(/^NOPERM the Redis user may run neither EVAL nor SCRIPT LOAD.*allow \+script\|load \(or \+eval\) in its ACL/);
  });
});
