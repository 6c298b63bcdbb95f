/**
 * The flag form of `sluice gateway`: reading its flags into a config (quickConfig), judged by
 * the same schema and rules as a config file. Every error names the flag and the config key it
 * sets — `--queue-timeout (policies.<name>.concurrency.queueTimeout): expected ..., received
 * "30d"` — so an operator moving between the two forms sees one vocabulary (hostile-4: flags
 * named no key, and a flag the config rules refused was reported as `<config>: server.workers`).
 * Numbers are written in decimal digits, as in a config file: `Number()` took `0x10`, `1e3`,
 * `-0` and `1e300` (hostile-4).
 */
import { GatewayConfigError, LOG_LEVELS, quickConfig } from '../gateway/index.js';
import type { AlgorithmName, Duration, GatewayConfig, LogLevel, QuickOptions } from '../gateway/index.js';
import { DURATION_RANGES, NUMBER_BOUNDS, WORKERS_DESCRIPTION } from '../gateway/schema.js';
import { redisUrlProblem } from '../gateway/store-config.js';
import { quotedValue, redactUrl } from '../core/redact-url.js';
import { resolveConfig } from '../gateway/validate-config.js';
import { durationFlag, givenTwice } from './args.js';

const STORE_ERROR_MODES = ['local', 'open', 'closed'] as const;
type StoreErrorMode = (typeof STORE_ERROR_MODES)[number];

/** Each flag's config key, as docs/gateway.md writes keys (`<name>`: the upstream's or policy's name). */
export const FLAG_KEYS: Readonly<Record<string, string | undefined>> = {
  upstream: 'upstreams.<name>.url',
  port: 'listen.port',
  host: 'listen.host',
  'admin-port': 'admin.port',
  'no-admin': 'admin.enabled',
  concurrency: 'policies.<name>.concurrency.limit',
  algorithm: 'policies.<name>.concurrency.algorithm',
  queue: 'policies.<name>.concurrency.queue',
  'queue-timeout': 'policies.<name>.concurrency.queueTimeout',
  rate: 'policies.<name>.rateLimits[].rate',
  burst: 'policies.<name>.rateLimits[].burst',
  'tenant-header': 'policies.<name>.tenant.header',
  timeout: 'upstreams.<name>.timeout',
  'drain-timeout': 'drain.timeout',
  'trust-proxy': 'trustProxy',
  workers: 'server.workers',
  'max-queued': 'server.maxQueued',
  store: 'store.url',
  'store-on-error': 'store.onStoreError',
  'log-level': 'log.level',
};

/** A flag as messages name it: `--queue (policies.<name>.concurrency.queue)`. */
export function flagRef(name: string): string {
  const key = FLAG_KEYS[name];
  return key === undefined ? `--${name}` : `--${name} (${key})`;
}

/** The key path quickConfig writes a flag's value at (its upstream is `upstream`, its policy `default`). */
function writtenAt(key: string): string {
  return key.replace('upstreams.<name>', 'upstreams.upstream').replace('policies.<name>', 'policies.default').replace('rateLimits[]', 'rateLimits[0]');
}

const FLAGS_WITH_VALUE = new Set(['upstream', 'port', 'host', 'concurrency', 'algorithm', 'queue', 'queue-timeout', 'rate', 'burst', 'tenant-header', 'timeout', 'drain-timeout', 'trust-proxy', 'admin-port', 'config', 'log-level', 'workers', 'max-queued', 'store', 'store-on-error']);
/** Flags that take no value, and what the flag alone does (said when one is given `=value`). */
const BOOLEAN_FLAGS: ReadonlyMap<string, string> = new Map([
  ['check', 'validates and exits'],
  ['no-admin', 'turns the admin listener off'],
  ['help', 'prints the usage'],
]);

export class UsageError extends Error {}

export function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      setOnce(flags, 'help', '');
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const alone = BOOLEAN_FLAGS.get(name);
    if (alone !== undefined) {
      // --no-admin=false turned the admin listener off and --check=no checked (hostile-17).
      if (eq >= 0) throw new UsageError(`${flagRef(name)}: expected no value (the flag alone ${alone}), received ${JSON.stringify(arg.slice(eq + 1))}`);
      setOnce(flags, name, '');
      continue;
    }
    if (!FLAGS_WITH_VALUE.has(name)) throw new UsageError(`unknown flag --${name}`);
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new UsageError(`${flagRef(name)}: expected a value`);
    setOnce(flags, name, value);
  }
  return flags;
}

/**
 * Every flag is given at most once. Given twice, one value was dropped without a word
 * (`--upstream a --upstream b` served b alone, `--rate 10/s --rate 1/s` one limit): refused, as
 * any contradictory option is (hostile-8); a flag without a value too (`--check --check`), so
 * that one rule holds for every flag of every command (args.ts commandFlags).
 */
function setOnce(flags: Map<string, string>, name: string, value: string): void {
  const before = flags.get(name);
  if (before !== undefined) throw new UsageError(givenTwice(flagRef(name), BOOLEAN_FLAGS.has(name) ? undefined : [before, value]));
  flags.set(name, value);
}

const INTEGER = /^(0|[1-9][0-9]*)$/;
const DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

function refused(name: string, expected: string, value: string): UsageError {
  return new UsageError(`${flagRef(name)}: expected ${expected}, received ${quotedValue(value)}`);
}

/** An integer flag in decimal digits from `min` to `max` (the config key's range), both stated in one message. */
function intFlag(flags: Map<string, string>, name: string, min: number, max: number): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  if (!INTEGER.test(v) || Number(v) < min || Number(v) > max) throw refused(name, `an integer from ${min} to ${max} in decimal digits`, v);
  return Number(v);
}

function patternFlag(flags: Map<string, string>, name: string, re: RegExp, what: string): string | undefined {
  const v = flags.get(name);
  if (v !== undefined && !re.test(v)) throw refused(name, what, v);
  return v;
}

/** A duration flag in the range of the config field it sets (the one message template of every CLI). */
function durationOption(flags: Map<string, string>, name: string, field: keyof typeof DURATION_RANGES): Duration | undefined {
  const v = flags.get(name);
  try {
    const [min, max] = DURATION_RANGES[field];
    durationFlag(name, v, min, max);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(`--${name}:`, `${flagRef(name)}:`));
  }
  return v as Duration | undefined;
}

const RATE = /^[0-9]+(\.[0-9]+)?\/(ms|s|sec|m|min|h|hour|d|day)$/;

export function logLevelFlag(flags: Map<string, string>): LogLevel | undefined {
  const v = flags.get('log-level');
  if (v !== undefined && !(LOG_LEVELS as readonly string[]).includes(v)) throw refused('log-level', `one of ${LOG_LEVELS.join(', ')}`, v);
  return v as LogLevel | undefined;
}

/** The flag form as quickConfig options. */
function quickOptions(flags: Map<string, string>): QuickOptions {
  const upstream = flags.get('upstream');
  if (upstream === undefined) throw new UsageError(`${flagRef('upstream')} is required (or give --config)`);
  const c = flags.get('concurrency');
  let concurrency: number | 'adaptive' | undefined;
  if (c === 'adaptive') concurrency = 'adaptive';
  // Every message states the whole range (--queue 99999999 was told '<= 1000000', --burst 0 '>= 1').
  else if (c !== undefined && (!INTEGER.test(c) || Number(c) < 1 || Number(c) > NUMBER_BOUNDS.held)) throw refused('concurrency', `an integer from 1 to ${NUMBER_BOUNDS.held} in decimal digits, or adaptive`, c);
  else if (c !== undefined) concurrency = Number(c);
  const algorithm = flags.get('algorithm');
  if (algorithm !== undefined && !['aimd', 'vegas', 'gradient2'].includes(algorithm)) throw refused('algorithm', 'one of aimd, vegas, gradient2', algorithm);
  if (algorithm !== undefined && concurrency !== 'adaptive') throw new UsageError(`${flagRef('algorithm')}: only with --concurrency adaptive`);
  for (const f of ['queue', 'queue-timeout']) if (flags.has(f) && concurrency === undefined) throw new UsageError(`${flagRef(f)}: only with --concurrency`);
  if (flags.get('queue') === '0' && flags.has('queue-timeout')) throw new UsageError(`${flagRef('queue-timeout')}: expected no queue timeout with --queue 0 (a wait needs a queue)`);
  if (flags.has('burst') && !flags.has('rate')) throw new UsageError(`${flagRef('burst')}: only with --rate`);
  const burst = flags.get('burst');
  if (burst !== undefined && (!DECIMAL.test(burst) || !(Number(burst) >= 1) || Number(burst) > NUMBER_BOUNDS.units)) throw refused('burst', `a number from 1 to ${NUMBER_BOUNDS.units} in decimal digits`, burst);
  const port = intFlag(flags, 'port', 0, 65535);
  // Both given, the port was dropped without a word: contradictory, so refused (hostile-17).
  if (flags.has('no-admin') && flags.has('admin-port')) throw refused('admin-port', 'no admin port with --no-admin (there is no admin listener)', flags.get('admin-port')!);
  const adminPort = flags.has('no-admin') ? false : intFlag(flags, 'admin-port', 0, 65535);
  const queue = intFlag(flags, 'queue', 0, NUMBER_BOUNDS.held);
  const maxQueued = intFlag(flags, 'max-queued', 0, NUMBER_BOUNDS.held);
  const queueTimeout = durationOption(flags, 'queue-timeout', 'queueTimeout');
  const rate = patternFlag(flags, 'rate', RATE, 'a rate like 2000/s or 100/min');
  const timeout = durationOption(flags, 'timeout', 'upstreamTimeout');
  const drainTimeout = durationOption(flags, 'drain-timeout', 'drainTimeout');
  const logLevel = logLevelFlag(flags);
  const w = flags.get('workers');
  // Digits go on to the config's range (0 and 999 are told what the file's workers: 0 is); any other form is told the same.
  if (w !== undefined && w !== 'auto' && !INTEGER.test(w)) throw refused('workers', WORKERS_DESCRIPTION.replace(/^P/, 'p'), w);
  const workers = w === 'auto' ? 'auto' : w === undefined ? undefined : Number(w);
  const host = flags.get('host');
  const tenantHeader = flags.get('tenant-header');
  // The config's own message speaks YAML ('ip', or { header: <name> }); a flag takes a header name only.
  if (tenantHeader !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(tenantHeader)) throw refused('tenant-header', 'a header name such as X-Api-Key (letters, digits, -)', tenantHeader);
  const trust = flags.get('trust-proxy');
  const store = flags.get('store');
  const storeUrl = store === undefined ? undefined : redisUrlProblem(store);
  if (storeUrl !== undefined) throw refused('store', storeUrl, redactUrl(store!));
  const storeOnError = flags.get('store-on-error');
  if (storeOnError !== undefined && store === undefined) throw new UsageError(`${flagRef('store-on-error')}: only with --store`);
  if (storeOnError !== undefined && !STORE_ERROR_MODES.includes(storeOnError as StoreErrorMode)) throw refused('store-on-error', `one of ${STORE_ERROR_MODES.join(', ')}`, storeOnError);
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
    ...(maxQueued !== undefined ? { maxQueued } : {}),
    ...(trust !== undefined ? { trustProxy: trust.split(',').map((s) => s.trim()) } : {}),
    ...(store !== undefined ? { store } : {}),
    ...(storeOnError !== undefined ? { storeOnError: storeOnError as StoreErrorMode } : {}),
  };
}

/** The flag whose value quickConfig wrote at `path` (or inside it, for a list: trustProxy[1]). */
function flagAt(path: string): string | undefined {
  for (const [name, key] of Object.entries(FLAG_KEYS)) {
    if (key === undefined) continue;
    const at = writtenAt(key);
    if (path === at || path.startsWith(`${at}[`) || (at.startsWith(`${path}.`) && path.includes('.'))) return name;
  }
  return undefined;
}

/**
 * The flags as a config, judged as a config file is (the schema's ranges and every rule); a
 * problem is a UsageError naming the flag, its key, and the value as the flag gave it.
 */
export function flagConfig(flags: Map<string, string>): GatewayConfig {
  const config = quickConfig(quickOptions(flags));
  try {
    resolveConfig(config);
  } catch (err) {
    if (!(err instanceof GatewayConfigError)) throw err;
    const lines = err.issues.map((i) => {
      // An item of a list flag is named by its index, and shown alone (the whole list was quoted).
      const item = /^trustProxy\[(\d+)\]$/.exec(i.path);
      if (item !== null) return `${flagRef('trust-proxy').replace('(trustProxy)', `(${i.path})`)}: expected ${i.expected}, received ${i.found} (item ${Number(item[1]) + 1} of the list)`;
      const flag = flagAt(i.path);
      const value = flag === undefined ? undefined : flags.get(flag);
      // A rule that says to raise a key a flag sets says the flag (a queue past server.maxQueued).
      const expected = i.expected.replaceAll('raise server.maxQueued', `raise ${flagRef('max-queued')}`);
      return flag === undefined ? `${i.path}: expected ${expected}, received ${i.found}` : `${flagRef(flag)}: expected ${expected}, received ${value === undefined || value === '' ? i.found : quotedValue(value)}`;
    });
    throw new UsageError(lines.join('\nsluice gateway: '));
  }
  return config;
}
