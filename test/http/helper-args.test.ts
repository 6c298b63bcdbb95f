// sluice/http's exported helpers on bad arguments: each names the argument it cannot use (an
// InvalidArgumentError: `cfg.maxHops: expected an integer in [1, 64], received -1`) instead of a
// TypeError from inside ("Cannot read properties of undefined (reading 'length')"), an answer
// made of garbage (addressKey of a made-up address 300.1.2.3: "44.1.2.0/24"; statusOf('nope'): 503)
// or undefined in silence. The library's own callers use the unchecked functions: what they pass
// was validated at construction. Valid calls answer as before.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, SluiceError } from '../../src/core/index.js';
import type { PolicyFacts } from '../../src/core/index.js';
import { addressKey, clientAddress, clientFromHeader, clientKey, defaultClassify, deltaSeconds, forwardedFor, HttpPermit, isTrusted, limitItem, parseIp, parseNode, pathOf, policyItem, problem, rateLimitHeaders, retryAfterSeconds, setHeaders, sfString, statusOf, trustCheck, writeRefusal } from '../../src/http/index.js';
import type { ClientIpConfig, Refused } from '../../src/http/index.js';

const loose = <T>(v: unknown): T => v as T;
const v4 = parseIp('192.0.2.7')!;
const v6 = parseIp('2001:db8::1')!;
const cfg: ClientIpConfig = { trusted: undefined, header: 'x-forwarded-for', maxHops: 1, ipv4Prefix: 32, ipv6Prefix: 64 };
const req = { headers: {}, socket: { remoteAddress: '192.0.2.7' } };
const facts: PolicyFacts = { policy: 'burst', limit: 100, remaining: 99, windowMs: 60_000, resetMs: 600 };
const res = loose<ServerResponse>({ headersSent: false, statusCode: 200, setHeader: () => res, end: () => res });
const refusal = loose<Refused>({ type: 'rejected', status: 429, headers: [['Retry-After', '1']], body: '{}' });
const trustAll = trustCheck(['0.0.0.0/0', '::/0']);
const PARSED = 'expected a parsed address (what parseIp or parseNode returns)';
const FACTS = (at: string): string => `${at}: expected PolicyFacts (policy, limit, remaining, windowMs, resetMs), received`;
const REASONS = 'expected a rejection reason (one of "rate_limited", "concurrency", "queue_full", "queue_timeout", "circuit_open", "shed", "overloaded", "quota", "keys_full", "store_unavailable", "closed"), received';

const CASES: readonly [string, () => unknown, string][] = [
  // Addresses.
  ['parseIp(undefined)', () => parseIp(loose(undefined)), 'input: expected an address (a string), received undefined'],
  ['parseIp(5)', () => parseIp(loose(5)), 'input: expected an address (a string), received 5'],
  ['parseNode(null)', () => parseNode(loose(null)), 'input: expected a node as proxies write it (a string), received null'],
  ['parseNode({})', () => parseNode(loose({})), 'input: expected a node as proxies write it (a string), received an object'],
  ['addressKey(undefined, 32, 64)', () => addressKey(loose(undefined), 32, 64), `ip: ${PARSED}, received undefined`],
  ['addressKey({ family: 4, text: "x" }, 24, 64)', () => addressKey(loose({ family: 4, text: 'x', groups: undefined }), 24, 64), `ip: ${PARSED}, received an object`],
  ['addressKey({ family: 4, text: "300.1.2.3" }, 24, 64)', () => addressKey(loose({ family: 4, text: '300.1.2.3', groups: undefined }), 24, 64), `ip: ${PARSED}, received an object`],
  ['addressKey({ family: 6, text: v6.text }, 32, 64) without groups', () => addressKey(loose({ family: 6, text: v6.text }), 32, 64), `ip: ${PARSED}, received an object`],
  ['addressKey(v4, 33, 64)', () => addressKey(v4, 33, 64), 'ipv4Prefix: expected an integer in [0, 32], received 33'],
  ['addressKey(v4, NaN, 64)', () => addressKey(v4, NaN, 64), 'ipv4Prefix: expected an integer in [0, 32], received NaN'],
  ['addressKey(v6, 32, -1)', () => addressKey(v6, 32, -1), 'ipv6Prefix: expected an integer in [0, 128], received -1'],
  ['addressKey(v6, 32, Infinity)', () => addressKey(v6, 32, Infinity), 'ipv6Prefix: expected an integer in [0, 128], received Infinity'],
  ['addressKey(v6, 32, "64")', () => addressKey(v6, 32, loose('64')), 'ipv6Prefix: expected an integer in [0, 128], received "64"'],
  // Client address.
  ['clientKey(undefined, cfg)', () => clientKey(loose(undefined), cfg), 'req: expected a request (an object with headers and socket), received undefined'],
  ['clientKey({ socket }, cfg)', () => clientKey(loose({ socket: {} }), cfg), 'req.headers: expected an object of header fields, received undefined'],
  ['clientKey({ headers, socket: 5 }, cfg)', () => clientKey(loose({ headers: {}, socket: 5 }), cfg), 'req.socket: expected a socket (an object with remoteAddress), null or undefined, received 5'],
  ['clientKey(req, undefined)', () => clientKey(req, loose(undefined)), 'cfg: expected a ClientIpConfig (trusted, header, maxHops, ipv4Prefix, ipv6Prefix), received undefined'],
  ['clientKey(req, { ...cfg, maxHops: -1 })', () => clientKey(req, { ...cfg, maxHops: -1 }), 'cfg.maxHops: expected an integer in [1, 64], received -1'],
  ['clientKey(req, { ...cfg, ipv4Prefix: 1e309 })', () => clientKey(req, { ...cfg, ipv4Prefix: 1e309 }), 'cfg.ipv4Prefix: expected an integer in [0, 32], received Infinity'],
  ['clientKey(req, { ...cfg, header: "x-real-ip" })', () => clientKey(req, { ...cfg, header: loose('x-real-ip') }), 'cfg.header: expected one of "x-forwarded-for", "forwarded", received "x-real-ip"'],
  ['clientKey(req, { ...cfg, trusted: ["10.0.0.0/8"] })', () => clientKey(req, { ...cfg, trusted: loose(['10.0.0.0/8']) }), 'cfg.trusted: expected a trust check (a function; trustCheck() makes one) or undefined, received an array of length 1'],
  ['clientKey(req, { ...cfg, maxHop: 2 })', () => clientKey(req, loose({ ...cfg, maxHop: 2 })), 'cfg.maxHop: expected one of the ClientIpConfig fields (did you mean "maxHops"?), received 2'],
  ['clientAddress(null, cfg)', () => clientAddress(loose(null), cfg), 'req: expected a request (an object with headers and socket), received null'],
  ['clientAddress(req, { ...cfg, ipv6Prefix: 129 })', () => clientAddress(req, { ...cfg, ipv6Prefix: 129 }), 'cfg.ipv6Prefix: expected an integer in [0, 128], received 129'],
  ['clientFromHeader(undefined, ...)', () => clientFromHeader(loose(undefined), '198.51.100.1', 'x-forwarded-for', trustAll, 1), `peer: ${PARSED}, received undefined`],
  ['clientFromHeader(v4, 5, ...)', () => clientFromHeader(v4, loose(5), 'x-forwarded-for', trustAll, 1), 'header: expected the header field\'s value (a string) or undefined, received 5'],
  ['clientFromHeader(v4, h, "x-real-ip", ...)', () => clientFromHeader(v4, 'a', loose('x-real-ip'), trustAll, 1), 'kind: expected one of "x-forwarded-for", "forwarded", received "x-real-ip"'],
  ['clientFromHeader(v4, h, kind, ["loopback"], 1)', () => clientFromHeader(v4, 'a', 'forwarded', loose(['loopback']), 1), 'trusted: expected a trust check (a function; trustCheck() makes one), received an array of length 1'],
  ['clientFromHeader(v4, h, kind, trusted, 0)', () => clientFromHeader(v4, 'a', 'forwarded', trustAll, 0), 'maxHops: expected an integer in [1, 64], received 0'],
  ['clientFromHeader(v4, h, kind, trusted, 1.5)', () => clientFromHeader(v4, 'a', 'forwarded', trustAll, 1.5), 'maxHops: expected an integer in [1, 64], received 1.5'],
  ['forwardedFor(undefined)', () => forwardedFor(loose(undefined)), 'element: expected one element of a Forwarded header (a string), received undefined'],
  ['isTrusted(undefined, a)', () => isTrusted(loose(undefined), '10.0.0.1'), 'check: expected a trust check (a function; trustCheck() makes one), received undefined'],
  ['isTrusted(check, 5)', () => isTrusted(trustAll, loose(5)), 'address: expected an address (a string), received 5'],
  ['trustCheck(list, 5)', () => trustCheck(['loopback'], loose(5)), 'name: expected the option\'s name (a non-empty string), received 5'],
  // Headers.
  ['deltaSeconds(NaN)', () => deltaSeconds(NaN), 'ms: expected a number >= 0, received NaN'],
  ['deltaSeconds(-1)', () => deltaSeconds(-1), 'ms: expected a number >= 0, received -1'],
  ['deltaSeconds("30d")', () => deltaSeconds(loose('30d')), 'ms: expected a number >= 0, received "30d"'],
  ['sfString(5)', () => sfString(loose(5)), 's: expected a string, received 5'],
  ['policyItem(undefined)', () => policyItem(loose(undefined)), `${FACTS('facts')} undefined`],
  ['policyItem({ ...facts, limit: NaN })', () => policyItem({ ...facts, limit: NaN }), 'facts.limit: expected a finite number > 0, received NaN'],
  ['policyItem({ ...facts, windowMs: 0 })', () => policyItem({ ...facts, windowMs: 0 }), 'facts.windowMs: expected a finite number > 0, received 0'],
  ['policyItem({ ...facts, policy: 7 })', () => policyItem({ ...facts, policy: loose(7) }), 'facts.policy: expected a policy name (a non-empty string), received 7'],
  ['limitItem({ ...facts, remaining: -1 })', () => limitItem({ ...facts, remaining: -1 }), 'facts.remaining: expected a finite number >= 0, received -1'],
  ['limitItem({ ...facts, resetMs: Infinity })', () => limitItem({ ...facts, resetMs: Infinity }), 'facts.resetMs: expected a finite number >= 0, received Infinity'],
  ['limitItem(facts, -1)', () => limitItem(facts, -1), 'tSeconds: expected an integer in [0, 2147483647], received -1'],
  ['limitItem(facts, 0.5)', () => limitItem(facts, 0.5), 'tSeconds: expected an integer in [0, 2147483647], received 0.5'],
  ['rateLimitHeaders("ietf", [facts])', () => rateLimitHeaders(loose('ietf'), [facts]), 'style: expected one of "draft", "legacy", "x", "none", received "ietf"'],
  ['rateLimitHeaders("draft", facts)', () => rateLimitHeaders('draft', loose(facts)), 'facts: expected an array of PolicyFacts, received an object'],
  ['rateLimitHeaders("draft", [undefined])', () => rateLimitHeaders('draft', loose([undefined])), `${FACTS('facts[0]')} undefined`],
  ['rateLimitHeaders("x", [facts], { index: 1, seconds: 3 })', () => rateLimitHeaders('x', [facts], { index: 1, seconds: 3 }), 'refused.index: expected an integer in [0, 0], received 1'],
  ['rateLimitHeaders("x", [facts], { index: 0 })', () => rateLimitHeaders('x', [facts], loose({ index: 0 })), 'refused.seconds: expected an integer in [0, 2147483647], received undefined'],
  ['rateLimitHeaders("x", [facts], 3)', () => rateLimitHeaders('x', [facts], loose(3)), 'refused: expected the refused policy (an object with index and seconds) or undefined, received 3'],
  ['rateLimitHeaders("x", [facts], { index: 0, seconds: 1, second: 1 })', () => rateLimitHeaders('x', [facts], loose({ index: 0, seconds: 1, second: 1 })), 'refused.second: expected one of the refused fields (did you mean "seconds"?), received 1'],
  ['retryAfterSeconds(NaN, [])', () => retryAfterSeconds(NaN, []), 'retryAfterMs: expected a number >= 0, received NaN'],
  ['retryAfterSeconds(-5, [])', () => retryAfterSeconds(-5, []), 'retryAfterMs: expected a number >= 0, received -5'],
  ['retryAfterSeconds(1000, undefined)', () => retryAfterSeconds(1000, loose(undefined)), 'facts: expected an array of PolicyFacts, received undefined'],
  // Problems and statuses.
  ['statusOf("nope")', () => statusOf(loose('nope')), `reason: ${REASONS} "nope"`],
  ['statusOf(undefined)', () => statusOf(loose(undefined)), `reason: ${REASONS} undefined`],
  ['problem("nope", [], 1)', () => problem(loose('nope'), [], 1), `reason: ${REASONS} "nope"`],
  ['problem("quota", undefined, 1)', () => problem('quota', loose(undefined), 1), 'violated: expected an array of policy names (strings), received undefined'],
  ['problem("quota", [5], 1)', () => problem('quota', loose([5]), 1), 'violated[0]: expected a policy name (a string), received 5'],
  ['problem("quota", [], -1)', () => problem('quota', [], -1), 'retryAfterS: expected an integer in [0, 2147483647], received -1'],
  ['problem("quota", [], NaN)', () => problem('quota', [], NaN), 'retryAfterS: expected an integer in [0, 2147483647], received NaN'],
  ['problem("quota", [], 1, 5)', () => problem('quota', [], 1, loose(5)), 'detail: expected a sentence (a string) or undefined, received 5'],
  ['defaultClassify("500")', () => defaultClassify(loose('500')), 'status: expected an integer in [100, 999], received "500"'],
  ['defaultClassify(NaN)', () => defaultClassify(NaN), 'status: expected an integer in [100, 999], received NaN'],
  // Writing.
  ['pathOf(5)', () => pathOf(loose(5)), 'url: expected a request target (a string) or undefined, received 5'],
  ['pathOf(null)', () => pathOf(loose(null)), 'url: expected a request target (a string) or undefined, received null'],
  ['setHeaders(undefined, [])', () => setHeaders(loose(undefined), []), 'res: expected a response with setHeader(), received undefined'],
  ['setHeaders(res, { a: "b" })', () => setHeaders(res, loose({ a: 'b' })), 'headers: expected an array of [name, value] string pairs, received an object'],
  ['setHeaders(res, [["a"]])', () => setHeaders(res, loose([['a']])), 'headers[0]: expected a [name, value] pair of strings, received an array of length 1'],
  ['writeRefusal(undefined, refusal)', () => writeRefusal(loose(undefined), refusal), 'res: expected a node:http ServerResponse (headersSent, setHeader(), end()), received undefined'],
  ['writeRefusal(res, undefined)', () => writeRefusal(loose(res), loose(undefined)), "refusal: expected a refused decision (type 'rejected', with status, headers and body), received undefined"],
  ['writeRefusal(res, { type: "admitted" })', () => writeRefusal(loose(res), loose({ type: 'admitted' })), "refusal: expected a refused decision (type 'rejected', with status, headers and body), received an object"],
  // The permit.
  ['new HttpPermit(5, [], [], classify)', () => new HttpPermit(loose(5), [], [], defaultClassify), 'gate: expected a gate name (a string), received 5'],
  ['new HttpPermit("g", undefined, [], classify)', () => new HttpPermit('g', loose(undefined), [], defaultClassify), 'permits: expected an array of permits, received undefined'],
  ['new HttpPermit("g", [], null, classify)', () => new HttpPermit('g', [], loose(null), defaultClassify), 'allFacts: expected an array of PolicyFacts, received null'],
  ['new HttpPermit("g", [], [], undefined)', () => new HttpPermit('g', [], [], loose(undefined)), 'classify: expected a function from a status to an outcome, received undefined'],
];

describe('sluice/http helpers name a bad argument', () => {
  it.each(CASES)('%s', (_label, call, message) => {
    expect(call).toThrow(SluiceError);
    expect(call).toThrow(message);
  });
  it('every one is an InvalidArgumentError', () => {
    for (const [label, call] of CASES) {
      try {
        call();
      } catch (err) {
        expect(err instanceof InvalidArgumentError, label).toBe(true);
        continue;
      }
      expect.fail(`${label} did not throw`);
    }
  });
});

describe('valid calls answer as before', () => {
  it('addresses', () => {
    expect(parseIp('::ffff:10.0.0.7')).toEqual({ family: 4, text: '10.0.0.7', groups: undefined });
    expect(parseIp('not an address')).toBeUndefined();
    expect(parseNode('[2001:db8::1]:80')?.text).toBe('2001:db8:0:0:0:0:0:1');
    expect(parseNode('unknown')).toBeUndefined();
    expect(addressKey(v4, 24, 64)).toBe('192.0.2.0/24');
    expect(addressKey(v6, 32, 48)).toBe('2001:db8:0:0:0:0:0:0/48');
    expect(addressKey(parseNode('192.0.2.7:8080')!, 32, 64)).toBe('192.0.2.7');
    expect(clientKey(req, cfg)).toBe('192.0.2.7');
    expect(clientKey({ headers: {}, socket: null }, cfg)).toBe('unknown');
    expect(clientAddress({ headers: { 'x-forwarded-for': '198.51.100.1' }, socket: { remoteAddress: '10.0.0.1' } }, { ...cfg, trusted: trustCheck(['uniquelocal']) })?.text).toBe('198.51.100.1');
    expect(clientFromHeader(parseIp('10.0.0.1')!, '198.51.100.1', 'x-forwarded-for', trustAll, 1).text).toBe('198.51.100.1');
    expect(forwardedFor('for="[2001:db8::1]:80";proto=https')?.family).toBe(6);
    expect(isTrusted(trustCheck(['loopback']), '127.0.0.1')).toBe(true);
    expect(isTrusted(trustCheck(['loopback']), 'garbage')).toBe(false);
  });
  it('headers and problems', () => {
    expect(deltaSeconds(1)).toBe(1);
    expect(deltaSeconds(0)).toBe(0);
    expect(deltaSeconds(Infinity)).toBe(2_147_483_647);
    expect(sfString('a"b')).toBe('"a\\"b"');
    expect(policyItem(facts)).toBe('"burst";q=100;w=60');
    expect(limitItem(facts)).toBe('"burst";r=99;t=1');
    expect(limitItem(facts, 7)).toBe('"burst";r=99;t=7');
    expect(rateLimitHeaders('draft', [facts])).toEqual([['RateLimit-Policy', '"burst";q=100;w=60'], ['RateLimit', '"burst";r=99;t=1']]);
    expect(rateLimitHeaders('x', [facts], { index: 0, seconds: 3 })).toEqual([['X-RateLimit-Limit', '100'], ['X-RateLimit-Remaining', '99'], ['X-RateLimit-Reset', '3']]);
    expect(rateLimitHeaders('none', [facts])).toEqual([]);
    expect(retryAfterSeconds(1500, [facts])).toBe(2);
    expect(retryAfterSeconds(Infinity, [facts])).toBeUndefined();
    expect(statusOf('quota')).toBe(429);
    expect(statusOf('queue_full')).toBe(503);
    expect(problem('rate_limited', ['burst'], 2)).toMatchObject({ status: 429, 'violated-policies': ['burst'], 'retry-after': 2 });
    expect(problem('closed', [], undefined, 'Bye.').detail).toBe('Bye.');
    expect(defaultClassify(503)).toBe('failure');
    expect(defaultClassify(404)).toBe('success');
  });
  it('writing', () => {
    const set: [string, unknown][] = [];
    const out = { headersSent: false, statusCode: 200, setHeader: (n: string, v: unknown) => set.push([n, v]), end: (body: string) => set.push(['body', body]) };
    setHeaders(loose(out), [['A', 'b']]);
    writeRefusal(loose(out), refusal);
    expect(set).toEqual([['A', 'b'], ['Retry-After', '1'], ['Content-Length', 2], ['body', '{}']]);
    expect(out.statusCode).toBe(429);
    expect(pathOf(undefined)).toBe('/');
    expect(pathOf('/a?b')).toBe('/a');
    const p = new HttpPermit('g', [], [facts], defaultClassify);
    expect(p.facts).toBe(facts);
    p.finish(200);
    expect(p.released).toBe(true);
  });
});
