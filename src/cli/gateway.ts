/**
 * `sluice gateway`: the admission-control reverse proxy from flags or a config file.
 * Signals: SIGHUP reloads the config file (so does a change to it); SIGTERM / SIGINT drain
 * (a second one cuts the drain short). Exit codes: 0 after a drain, 2 for a bad config or
 * flags (`--check` validates and exits 0 or 2).
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { GATEWAY_DEFAULTS, GatewayConfigError, JsonLogger, LOG_LEVELS, parseConfigText, quickConfig, startGateway } from '../gateway/index.js';
import type { AlgorithmName, Duration, Gateway, GatewayConfig, LogLevel, QuickOptions } from '../gateway/index.js';
import { DURATION_RANGES } from '../gateway/schema.js';
import { durationFlag } from './args.js';
import { redisUrlOk } from '../gateway/store-config.js';
import { redactUrl } from '../brokers/broker-error.js';

const USAGE = `Usage: sluice gateway --upstream URL [options]
       sluice gateway --config sluice.yaml [--check]

A reverse proxy that admits every request through sluice's HTTP policy (docs/gateway.md).

From flags (one upstream, one route):
  --upstream URL          http://host:port every request goes to (required)
  --port N                proxy port (default 8080; 0 picks a free one)
  --host H                proxy address (default 0.0.0.0)
  --concurrency N|adaptive  requests in flight at once, fixed or adaptive
  --algorithm A           adaptive algorithm: aimd, vegas, gradient2 (default gradient2)
  --queue N               requests that may wait for a slot (default ${GATEWAY_DEFAULTS.flagQueue} with --queue-timeout, else 0)
  --queue-timeout D       longest wait in the queue (100ms, 2s; every duration needs its unit)
  --rate R                per-client rate (2000/s, 100/min)
  --burst N               per-client burst (default: one second of rate)
  --tenant-header H       limit per this header's value (an API key) instead of per client address
  --timeout D             upstream response timeout (default 30s)
  --drain-timeout D       longest drain on SIGTERM (default 30s)
  --trust-proxy LIST      comma-separated proxies whose X-Forwarded-For is believed (loopback, 10.0.0.0/8, ...)
  --workers N|auto        processes serving the port, sharing every limit (default 1; auto: one per core)
  --store URL             keep the limits in Redis (redis://host:port), shared with every gateway given it
  --admin-port N          admin listener port (default 9901; 0 picks a free one)
  --no-admin              no admin listener

Either form:
  --config F              the config file (YAML; schema: docs/sluice.schema.json)
  --check                 with --config: validate and exit (0 valid, 2 invalid)
  --log-level L           debug, info, warn, error, silent (default info)
`;

const FLAGS_WITH_VALUE = new Set(['upstream', 'port', 'host', 'concurrency', 'algorithm', 'queue', 'queue-timeout', 'rate', 'burst', 'tenant-header', 'timeout', 'drain-timeout', 'trust-proxy', 'admin-port', 'config', 'log-level', 'workers', 'store']);
const BOOLEAN_FLAGS = new Set(['check', 'no-admin', 'help']);

class UsageError extends Error {}

function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      flags.set('help', '');
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (BOOLEAN_FLAGS.has(name)) {
      flags.set(name, '');
      continue;
    }
    if (!FLAGS_WITH_VALUE.has(name)) throw new UsageError(`unknown flag --${name}`);
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new UsageError(`--${name}: expected a value`);
    flags.set(name, value);
  }
  return flags;
}

function intFlag(flags: Map<string, string>, name: string, min: number): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer >= ${min}, received ${JSON.stringify(v)}`);
  return n;
}

function patternFlag(flags: Map<string, string>, name: string, re: RegExp, what: string): string | undefined {
  const v = flags.get(name);
  if (v !== undefined && !re.test(v)) throw new UsageError(`--${name}: expected ${what}, received ${JSON.stringify(v)}`);
  return v;
}

/** A duration flag in the range of the config field it sets (the one message template of every CLI). */
function durationOption(flags: Map<string, string>, name: string, field: keyof typeof DURATION_RANGES): Duration | undefined {
  const v = flags.get(name);
  try {
    const [min, max] = DURATION_RANGES[field];
    durationFlag(name, v, min, max);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return v?.trim() as Duration | undefined;
}

const RATE = /^[0-9]+(\.[0-9]+)?\/(ms|s|sec|m|min|h|hour|d|day)$/;

function logLevelFlag(flags: Map<string, string>): LogLevel | undefined {
  const v = flags.get('log-level');
  if (v !== undefined && !(LOG_LEVELS as readonly string[]).includes(v)) throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, received ${JSON.stringify(v)}`);
  return v as LogLevel | undefined;
}

/** The flag form as quickConfig options. */
function quickOptions(flags: Map<string, string>): QuickOptions {
  const upstream = flags.get('upstream');
  if (upstream === undefined) throw new UsageError('--upstream is required (or give --config)');
  const c = flags.get('concurrency');
  let concurrency: number | 'adaptive' | undefined;
  if (c === 'adaptive') concurrency = 'adaptive';
  else if (c !== undefined) concurrency = intFlag(flags, 'concurrency', 1);
  const algorithm = flags.get('algorithm');
  if (algorithm !== undefined && !['aimd', 'vegas', 'gradient2'].includes(algorithm)) throw new UsageError(`--algorithm: expected one of aimd, vegas, gradient2, received ${JSON.stringify(algorithm)}`);
  if (algorithm !== undefined && concurrency !== 'adaptive') throw new UsageError('--algorithm: only with --concurrency adaptive');
  for (const f of ['queue', 'queue-timeout']) if (flags.has(f) && concurrency === undefined) throw new UsageError(`--${f}: only with --concurrency`);
  if (flags.get('queue') === '0' && flags.has('queue-timeout')) throw new UsageError('--queue-timeout: expected no queue timeout with --queue 0 (a wait needs a queue)');
  if (flags.has('burst') && !flags.has('rate')) throw new UsageError('--burst: only with --rate');
  const burst = flags.get('burst');
  if (burst !== undefined && !(Number(burst) >= 1)) throw new UsageError(`--burst: expected a number >= 1, received ${JSON.stringify(burst)}`);
  const port = intFlag(flags, 'port', 0);
  const adminPort = flags.has('no-admin') ? false : intFlag(flags, 'admin-port', 0);
  const queue = intFlag(flags, 'queue', 0);
  const queueTimeout = durationOption(flags, 'queue-timeout', 'queueTimeout');
  const rate = patternFlag(flags, 'rate', RATE, 'a rate like 2000/s or 100/min');
  const timeout = durationOption(flags, 'timeout', 'upstreamTimeout');
  const drainTimeout = durationOption(flags, 'drain-timeout', 'drainTimeout');
  const logLevel = logLevelFlag(flags);
  const w = flags.get('workers');
  if (w !== undefined && w !== 'auto' && !/^[1-9][0-9]*$/.test(w)) throw new UsageError(`--workers: expected an integer >= 1 or auto, received ${JSON.stringify(w)}`);
  const workers = w === 'auto' ? 'auto' : w === undefined ? undefined : Number(w);
  const host = flags.get('host');
  const tenantHeader = flags.get('tenant-header');
  const trust = flags.get('trust-proxy');
  const store = flags.get('store');
  if (store !== undefined && !redisUrlOk(store)) throw new UsageError(`--store: expected a Redis URL redis://host:port[/db] or rediss://..., received ${JSON.stringify(redactUrl(store))}`);
  return {
    upstream,
    ...(port !== undefined ? { port } : {}),
    ...(host !== undefined ? { host } : {}),
    ...(adminPort !== undefined ? { adminPort } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(algorithm !== undefined ? { algorithm: algorithm as AlgorithmName } : {}),
    ...(queue !== undefined ? { queue } : {}),
    ...(queueTimeout !== undefined ? { queueTimeout } : {}),
    ...(rate !== undefined ? { rate } : {}),
    ...(burst !== undefined ? { burst: Number(burst) } : {}),
    ...(tenantHeader !== undefined ? { tenantHeader } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(drainTimeout !== undefined ? { drainTimeout } : {}),
    ...(logLevel !== undefined ? { logLevel } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(trust !== undefined ? { trustProxy: trust.split(',').map((s) => s.trim()) } : {}),
    ...(store !== undefined ? { store } : {}),
  };
}

async function readConfig(file: string): Promise<{ config: GatewayConfig; text: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new GatewayConfigError(file, [{ path: '', line: undefined, expected: 'a readable file', found: (err as NodeJS.ErrnoException).code ?? String(err) }]);
  }
  return { config: parseConfigText(text, file), text };
}

export async function gatewayCommand(argv: readonly string[]): Promise<number> {
  let flags: Map<string, string>;
  let config: GatewayConfig;
  let lastText: string | undefined;
  const file = (() => {
    try {
      flags = parseFlags(argv);
      return flags.get('config');
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      process.stderr.write(`sluice gateway: ${err.message}\n\n${USAGE}`);
      return null;
    }
  })();
  if (file === null) return 2;
  if (flags!.has('help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    if (file !== undefined) {
      const extra = [...flags!.keys()].filter((k) => !['config', 'check', 'log-level'].includes(k));
      if (extra.length > 0) throw new UsageError(`--config: expected no other settings with it (put them in the file), received --${extra.join(', --')}`);
      const read = await readConfig(file);
      config = read.config;
      lastText = read.text;
      const level = logLevelFlag(flags!);
      if (level !== undefined) config = { ...config, log: { ...config.log, level } };
    } else {
      if (flags!.has('check')) throw new UsageError('--check: only with --config');
      config = quickConfig(quickOptions(flags!));
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sluice gateway: ${err.message}\n`);
      return 2;
    }
    if (err instanceof GatewayConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (flags!.has('check')) {
    process.stdout.write(`${file}: ok\n`);
    return 0;
  }
  const logger = new JsonLogger(config.log?.level ?? GATEWAY_DEFAULTS.log.level);
  let gateway: Gateway | undefined;

  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let reloading = Promise.resolve();
  const reload = (why: string): void => {
    if (file === undefined) {
      logger.warn('reload asked, but there is no config file (flag form)', { why });
      return;
    }
    reloading = reloading.then(async () => {
      if (gateway === undefined) return;
      try {
        const read = await readConfig(file);
        if (why === 'file change' && read.text === lastText) return;
        const level = logLevelFlag(flags);
        const next = level !== undefined ? { ...read.config, log: { ...read.config.log, level } } : read.config;
        await gateway.reload(next);
        logger.level = next.log?.level ?? GATEWAY_DEFAULTS.log.level;
        lastText = read.text;
      } catch (err) {
        logger.error('reload rejected: the previous config keeps serving', { why, error: err instanceof Error ? err.message : String(err) });
      }
    });
  };
  if (file !== undefined) {
    // Watch the directory: editors replace a file (rename) rather than write it in place.
    const name = basename(file);
    try {
      watcher = watch(dirname(resolve(file)), (_event, changed) => {
        if (changed !== null && changed !== name) return;
        clearTimeout(debounce);
        debounce = setTimeout(() => reload('file change'), GATEWAY_DEFAULTS.watchDebounceMs);
      });
    } catch (err) {
      logger.warn('cannot watch the config file; reload with SIGHUP', { error: String(err) });
    }
  }
  // The watcher is set before the gateway starts, so no change after 'listening' goes unseen.
  try {
    gateway = await startGateway(config, { logger });
  } catch (err) {
    watcher?.close();
    if (err instanceof GatewayConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const gw = gateway;

  return new Promise<number>((done) => {
    let stopping = false;
    const onHup = (): void => reload('SIGHUP');
    const stop = (signal: string): void => {
      if (stopping) {
        logger.warn('second signal: cutting the drain short', { signal });
        void gw.close();
        return;
      }
      stopping = true;
      logger.info('signal: draining', { signal });
      watcher?.close();
      clearTimeout(debounce);
      gw.drain().then(
        () => {
          process.off('SIGHUP', onHup);
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onInt);
          done(0);
        },
        (err: unknown) => {
          logger.error('drain failed', { error: String(err) });
          done(1);
        },
      );
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGHUP', onHup);
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
