// admissionPlugin (sluice/fastify) given options that are not an object, or called instead of
// registered: each named. Fastify hands a number, string or array on as given, and the plugin
// read "x" as an unknown key `0`, 5 and [] as no options (a policy that limits nothing); called
// directly it threw "ready is not a function". HttpAdmission's `rateLimits: 5` and `gates: 5`
// threw "number 5 is not iterable" before their own check.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/index.js';
import { admissionPlugin } from '../../src/fastify/index.js';
import { HttpAdmission } from '../../src/http/index.js';
import type { HttpAdmissionOptions } from '../../src/http/index.js';

const OPTIONS = "options: expected an object of admissionPlugin options (a policy's options, or { policy }), received";

async function registered(options: unknown): Promise<unknown> {
  const app = Fastify();
  try {
    await app.register(admissionPlugin, options as never);
    await app.ready();
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await app.close();
  }
}

describe('admissionPlugin names options that are not an object', () => {
  it.each([
    ['a number', 5, `${OPTIONS} 5`],
    ['a string', 'x', `${OPTIONS} "x"`],
    ['an array', [{ concurrency: 1 }], `${OPTIONS} an array of length 1`],
  ] as const)('%s', async (_label, options, message) => {
    const err = await registered(options);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toBe(message);
  });

  it('rateLimits and gates that are not arrays are named', async () => {
    for (const [options, message] of [
      [{ rateLimits: 5 }, 'rateLimits: expected an array, received 5'],
      [{ gates: 5 }, 'gates: expected an array of gates, received 5'],
    ] as const) {
      const err = await registered(options);
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as Error).message).toBe(message);
      expect(() => new HttpAdmission(options as unknown as HttpAdmissionOptions<never>)).toThrow(message);
    }
  });

  it('called instead of registered, it says so', () => {
    const call = (): unknown => (admissionPlugin as unknown as (...a: unknown[]) => unknown)(Fastify(), {});
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow("done: expected Fastify's plugin callback (register the plugin: app.register(admissionPlugin, options)), received undefined");
  });

  it('registers with no options, null or an object as before', async () => {
    expect(await registered(undefined)).toBeUndefined();
    expect(await registered(null)).toBeUndefined();
    expect(await registered({ concurrency: 2 })).toBeUndefined();
  });
});
