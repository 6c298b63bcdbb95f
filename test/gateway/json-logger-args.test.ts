// JsonLogger (sluice/gateway) on bad arguments: a level that is not one of LOG_LEVELS, given to
// the constructor or set later (a reload sets `level`), and a writer that is not a function are
// an InvalidArgumentError naming the argument — an unknown level wrote every line (its rank was
// undefined, and `rank < undefined` is false), a writer that is not a function threw a TypeError
// at the first line.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/index.js';
import { JsonLogger, LOG_LEVELS } from '../../src/gateway/index.js';
import type { LogLevel } from '../../src/gateway/index.js';

const loose = <T>(v: unknown): T => v as T;
const LEVEL = 'level: expected one of "debug", "info", "warn", "error", "silent", received';

const CASES: readonly [string, () => unknown, string][] = [
  ['new JsonLogger("verbose")', () => new JsonLogger(loose('verbose'), () => {}), `${LEVEL} "verbose"`],
  ['new JsonLogger("INFO")', () => new JsonLogger(loose('INFO'), () => {}), `${LEVEL} "INFO"`],
  ['new JsonLogger(undefined)', () => new JsonLogger(loose(undefined), () => {}), `${LEVEL} undefined`],
  ['new JsonLogger(2)', () => new JsonLogger(loose(2), () => {}), `${LEVEL} 2`],
  ['new JsonLogger({ level: "info" })', () => new JsonLogger(loose({ level: 'info' }), () => {}), `${LEVEL} an object`],
  ['new JsonLogger("info", "stdout")', () => new JsonLogger('info', loose('stdout')), 'write: expected a function taking one log line, received "stdout"'],
  ['new JsonLogger("info", null)', () => new JsonLogger('info', loose(null)), 'write: expected a function taking one log line, received null'],
  [
    'logger.level = "verbose"',
    () => {
      const logger = new JsonLogger('warn', () => {});
      logger.level = loose('verbose');
    },
    `${LEVEL} "verbose"`,
  ],
];

describe('JsonLogger names a bad argument', () => {
  it.each(CASES)('%s', (_label, call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it('a refused level change keeps the level it had', () => {
    const lines: string[] = [];
    const logger = new JsonLogger('warn', (l) => lines.push(l));
    expect(() => (logger.level = loose('verbose'))).toThrow(InvalidArgumentError);
    expect(logger.level).toBe('warn');
    logger.info('hidden');
    logger.warn('shown');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['shown']);
  });
});

describe('valid levels write what they did', () => {
  it.each(LOG_LEVELS.map((l) => [l]))('%s', (level: LogLevel) => {
    const lines: string[] = [];
    const logger = new JsonLogger(level, (l) => lines.push(l));
    logger.debug('d');
    logger.info('i', { a: 1 });
    logger.warn('w');
    logger.error('e');
    const rank = LOG_LEVELS.indexOf(level);
    expect(lines.map((l) => (JSON.parse(l) as { level: string }).level)).toEqual(['debug', 'info', 'warn', 'error'].slice(rank));
    logger.level = 'error';
    expect(logger.level).toBe('error');
  });
});
