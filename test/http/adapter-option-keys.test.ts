// Misspelt options of the HTTP adapters and of channel iteration are refused when the
// middleware, handler, route or iterator is made, naming the option and the nearest known key:
// a silently ignored `onRefuse` or `signl` would leave the default behaviour in place unseen.
import Fastify from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { admission } from '../../src/express/index.js';
import { admissionPlugin } from '../../src/fastify/index.js';
import { withAdmission } from '../../src/http/index.js';
import { Channel } from '../../src/queue/index.js';
import { close, get, listen } from './helpers.js';
import { thrown } from '../option-error.js';

const loose = (o: Record<string, unknown>): never => o as never;

describe('unknown option keys: adapters and channel iteration', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['express admission options', () => admission({}, loose({ onRefuse: () => undefined })), /^onRefuse: expected one of the express admission options \(did you mean "onRefused"\?\), received/],
    ['express route', () => admission({}, { route: loose({ cots: 2 }) }), /^route\.cots: expected one of the route options \(did you mean "cost"\?\), received 2$/],
    ['withAdmission options', () => withAdmission({}, () => undefined, loose({ onErorr: () => undefined })), /^onErorr: expected one of the withAdmission options \(did you mean "onError"\?\)/],
    ['withAdmission onError not a function', () => withAdmission({}, () => undefined, loose({ onError: 'log' })), /^onError: expected a function, received/],
    ['channel.values', () => new Channel<number>({ capacity: 1 }).values(loose({ signl: new AbortController().signal })), /^signl: expected one of the values options \(did you mean "signal"\?\)/],
    ['channel.batches', () => new Channel<number>({ capacity: 1 }).batches(4, loose({ sigal: new AbortController().signal })), /^sigal: expected one of the batches options \(did you mean "signal"\?\)/],
  ];
  it.each(cases)('%s', (_name, make, message) => {
    expect(thrown(make).message).toMatch(message);
  });

  it('fastify: a misspelt route setting under config.sluice is refused when the route is added', async () => {
    const app = Fastify();
    try {
      await app.register(admissionPlugin, {});
      const err = thrown(() => app.get('/x', { config: { sluice: loose({ maxWait: 10 }) } }, async () => 'x'));
      expect(err.message).toMatch(/^GET \/x config\.sluice\.maxWait: expected one of the route options \(did you mean "maxWaitMs"\?\), received 10$/);
    } finally {
      await app.close();
    }
  });

  it('withAdmission: a per-request route with a misspelt key goes to onError, the handler does not run', async () => {
    const errors: unknown[] = [];
    let ran = 0;
    const handler = withAdmission({}, (_req: IncomingMessage, res: ServerResponse) => { ran++; res.end('ok'); }, {
      route: () => loose({ exmpt: true }),
      onError: (err, _req, res) => { errors.push(err); res.statusCode = 500; res.end(); },
    });
    const server = createServer(handler);
    const port = await listen(server);
    try {
      expect((await get(port, '/')).status).toBe(500);
    } finally {
      await close(server);
    }
    expect(ran).toBe(0);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toMatch(/^route\.exmpt: expected one of the route options \(did you mean "exempt"\?\), received true$/);
  });

  it('well-spelt options still pass', () => {
    const ac = new AbortController();
    expect(() => admission({}, { route: { cost: 2, exempt: false, maxWaitMs: 5, criticality: 'critical' }, onRefused: () => undefined })).not.toThrow();
    expect(() => withAdmission({}, () => undefined, { route: () => undefined, onError: () => undefined })).not.toThrow();
    expect(() => new Channel<number>({ capacity: 1 }).values({ signal: ac.signal })).not.toThrow();
    expect(() => new Channel<number>({ capacity: 1 }).batches(2, { signal: ac.signal })).not.toThrow();
  });
});
