/**
 * Structured logs: one JSON object per line (`{"time":...,"level":"info","msg":...}`), with a
 * level below which nothing is written.
 */
import { InvalidArgumentError, InvalidOptionError } from '../core/errors.js';
import type { LogLevel } from './config-types.js';
import { deepFreeze } from '../core/deep-freeze.js';

export type LogFields = Readonly<Record<string, unknown>>;

/** What the gateway logs through internally: `(msg, fields)`. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/**
 * A logger to give `startGateway`: fields first, then the message — pino's order, so a pino
 * logger (or a child of one) fits as it is. Its own level decides what is written; the
 * config's `log.level` applies to the default JSON-lines logger only.
 */
export interface PinoLikeLogger {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
}

const LEVEL_METHODS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * startGateway's `logger` option, checked before anything starts: a JsonLogger, or an object
 * with the four level methods. A logger without them threw at its first line — `given.info is
 * not a function` once the gateway was listening, leaving it bound with no one to close it.
 */
export function optLogger(value: unknown): PinoLikeLogger | JsonLogger {
  if (value instanceof JsonLogger) return value;
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError('logger', 'a pino-compatible logger (an object with debug, info, warn and error functions) or a JsonLogger', value);
  }
  for (const m of LEVEL_METHODS) {
    const f = (value as Record<string, unknown>)[m];
    if (typeof f !== 'function') throw new InvalidOptionError(`logger.${m}`, 'a function (a pino-compatible logger has debug, info, warn and error)', f);
  }
  return value as PinoLikeLogger;
}

/** The gateway's `(msg, fields)` calls onto a given logger's `(fields, msg)`; a JsonLogger is used as it is. */
export function toLogger(given: PinoLikeLogger | JsonLogger): Logger {
  if (given instanceof JsonLogger) return given;
  const none: LogFields = {};
  return {
    debug: (msg, fields) => given.debug(fields ?? none, msg),
    info: (msg, fields) => given.info(fields ?? none, msg),
    warn: (msg, fields) => given.warn(fields ?? none, msg),
    error: (msg, fields) => given.error(fields ?? none, msg),
  };
}

export const LOG_LEVELS: readonly LogLevel[] = deepFreeze(['debug', 'info', 'warn', 'error', 'silent']);

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/** Whether {@link writeStdout} listens for stdout's errors, and the first one ('' while none). */
const lost = { error: '', watched: false };

/**
 * One log line to stdout, which may fail: a pipe whose reader died (EPIPE), a file on a full
 * disk (ENOSPC). node:stream reports a failed write as an 'error' event, and with no listener
 * that event killed the process: a gateway whose log shipper restarted died at its next line,
 * its primary and each worker (badday). Now the failure is said once on stderr (if
 * that still takes it), and the line is dropped; a stream the failure destroyed is given
 * nothing more. Serving matters more than logging.
 */
export function writeStdout(line: string): void {
  const out = process.stdout;
  // Always one of ours: a listener someone else added may be gone by the time the write fails.
  if (!lost.watched) {
    lost.watched = true;
    out.on('error', onLost);
  }
  if (out.destroyed || !out.writable) return;
  out.write(line);
}

function ignore(): void {}

function onLost(err: Error): void {
  if (lost.error !== '') return;
  lost.error = err.message;
  const e = process.stderr;
  e.on('error', ignore);
  if (!e.destroyed && e.writable) e.write(`sluice: log lines are dropped from now on, stdout failed: ${err.message}\n`);
}

const LEVEL_LIST = LOG_LEVELS.map((l) => JSON.stringify(l)).join(', ');

/** A level of {@link LOG_LEVELS}; anything else ranked undefined, and `rank < undefined` wrote every line. */
function argLevel(value: unknown): LogLevel {
  if (typeof value !== 'string' || !Object.hasOwn(RANK, value)) throw new InvalidArgumentError('level', `one of ${LEVEL_LIST}`, value);
  return value as LogLevel;
}

/**
 * A JSON-lines logger; `write` defaults to stdout ({@link writeStdout}). Its level can change (a
 * reload may set another). A level not in {@link LOG_LEVELS}, given or set, and a `write` that is
 * not a function are an InvalidArgumentError; a refused change keeps the level it had.
 */
export class JsonLogger implements Logger {
  #level: LogLevel;
  readonly #write: (line: string) => void;

  constructor(level: LogLevel, write: (line: string) => void = writeStdout) {
    this.#level = argLevel(level);
    if (typeof write !== 'function') throw new InvalidArgumentError('write', 'a function taking one log line', write);
    this.#write = write;
  }

  get level(): LogLevel {
    return this.#level;
  }
  set level(level: LogLevel) {
    this.#level = argLevel(level);
  }

  debug(msg: string, fields?: LogFields): void {
    this.#log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#log('error', msg, fields);
  }

  #log(level: Exclude<LogLevel, 'silent'>, msg: string, fields: LogFields | undefined): void {
    if (RANK[level] < RANK[this.#level]) return;
    this.#write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  }
}
