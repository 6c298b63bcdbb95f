// startGateway's second argument (the programmatic API's options) is checked like every other
// options object, before anything is bound: a logger without the four level methods, a clock
// that is no Clock, an unknown key or a non-object reject with the option error naming it.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/index.js';
import { JsonLogger, quickConfig, startGateway } from '../../src/gateway/index.js';
import type { GatewayOptions } from '../../src/gateway/index.js';

const loose = <T>(v: unknown): T => v as T;
const config = quickConfig({ upstream: 'http://127.0.0.1:9', port: 0, host: '127.0.0.1', adminPort: false });

/** The error startGateway rejects with; a gateway that started anyway is closed and fails the test. */
async function refusal(options: unknown): Promise<Error> {
  let gw;
  try {
    gw = await startGateway(config, loose<GatewayOptions>(options));
  } catch (err) {
    return err as Error;
  }
  await gw.close();
  throw new Error('started without an error');
}

describe('startGateway checks its options', () => {
  it('a logger that is not one', async () => {
    for (const [logger, shown] of [
      ['info', '"info"'],
      [5, '5'],
      [null, 'null'],
    ] as const) {
      const err = await refusal({ logger });
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect(err.message).toBe(`logger: expected a pino-compatible logger (an object with debug, info, warn and error functions) or a JsonLogger, received ${shown}`);
    }
  });
  it('a logger missing a level method', async () => {
    const err = await refusal({ logger: { info() {}, warn() {}, error() {} } });
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err.message).toBe('logger.debug: expected a function (a pino-compatible logger has debug, info, warn and error), received undefined');
    const worker = await refusal({ logger: { debug() {}, info: 'x', warn() {}, error() {} } });
    expect(worker.message).toBe('logger.info: expected a function (a pino-compatible logger has debug, info, warn and error), received "x"');
  });
  it('a logger is checked before the primary forks its workers', async () => {
    let gw;
    try {
      gw = await startGateway(quickConfig({ upstream: 'http://127.0.0.1:9', port: 0, host: '127.0.0.1', adminPort: false, workers: 2 }), loose({ logger: {} }));
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as Error).message).toMatch(/^logger\.debug: expected a function/);
      return;
    }
    await gw.close();
    throw new Error('started without an error');
  });
  it('a clock, an unknown key, a non-object', async () => {
    expect((await refusal({ clock: {} })).message).toBe('clock: expected a Clock (now, setTimer, clearTimer), received an object');
    const key = await refusal({ loger: new JsonLogger('silent') });
    expect(key).toBeInstanceOf(InvalidOptionError);
    expect(key.message).toMatch(/^loger: expected one of the startGateway options \(did you mean "logger"\?\), received an object$/);
    const five = await refusal(5);
    expect(five).toBeInstanceOf(InvalidArgumentError);
    expect(five.message).toBe('options: expected an object of startGateway options, received 5');
  });
  it('takes a JsonLogger and a pino-like object', async () => {
    const lines: string[] = [];
    const log = (_f: object, msg: string): number => lines.push(msg);
    for (const logger of [new JsonLogger('silent'), { debug: log, info: log, warn: log, error: log }]) {
      const gw = await startGateway(config, { logger });
      await gw.close();
    }
    expect(lines).toContain('listening');
  });
});
