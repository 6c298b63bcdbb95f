/**
 * The flag form of the gateway as a config: one upstream, one catch-all route, one policy.
 * `sluice gateway --upstream URL --concurrency 50 --queue-timeout 100ms` is
 * `quickConfig({ upstream: URL, concurrency: 50, queueTimeout: '100ms' })`.
 */
import { argOptions, optionKeys, optKnownKeys } from '../core/option-keys.js';
import type { AlgorithmName, ConcurrencyConfig, GatewayConfig, LogLevel, PolicyConfig, RateLimitConfig } from './config-types.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import type { Duration, Rate } from './units.js';

export interface QuickOptions {
  /** `http://host:port`: where every request goes. */
  readonly upstream: string;
  /** @default 8080 */
  readonly port?: number;
  /** @default '0.0.0.0' */
  readonly host?: string;
  /** Admin port; `false` turns the admin listener off. @default 9901 */
  readonly adminPort?: number | false;
  /** A fixed limit or `adaptive`. @default none */
  readonly concurrency?: number | 'adaptive';
  /** With `adaptive`. @default 'gradient2' */
  readonly algorithm?: AlgorithmName;
  /** Requests that may wait for a slot. @default GATEWAY_DEFAULTS.flagQueue when queueTimeout is given, else 0 */
  readonly queue?: number;
  readonly queueTimeout?: Duration;
  /** Per tenant (client address, or `tenantHeader`). */
  readonly rate?: Rate;
  readonly burst?: number;
  readonly tenantHeader?: string;
  /** Upstream response timeout. @default 30s */
  readonly timeout?: Duration;
  readonly drainTimeout?: Duration;
  readonly logLevel?: LogLevel;
  readonly trustProxy?: readonly string[];
  /** Processes serving the port, sharing every limit; 'auto': one per core. @default 1 */
  readonly workers?: number | 'auto';
  /** `server.maxQueued`: requests waiting for admission at once, all routes together. @default GATEWAY_DEFAULTS.server.maxQueued */
  readonly maxQueued?: number;
  /** A Redis URL: the limits live there, shared with every gateway given the same store. @default none */
  readonly store?: string;
  /** With `store`: what a decision does while Redis cannot answer. @default 'local' */
  readonly storeOnError?: 'open' | 'closed' | 'local';
}

const QUICK_KEYS = optionKeys<QuickOptions>({
  upstream: true,
  port: true,
  host: true,
  adminPort: true,
  concurrency: true,
  algorithm: true,
  queue: true,
  queueTimeout: true,
  rate: true,
  burst: true,
  tenantHeader: true,
  timeout: true,
  drainTimeout: true,
  logLevel: true,
  trustProxy: true,
  workers: true,
  maxQueued: true,
  store: true,
  storeOnError: true,
});

/** The config of the flags; its values are checked where the gateway checks a config (validateConfig), its keys here. */
export function quickConfig(o: QuickOptions): GatewayConfig {
  argOptions('quickConfig', o, false);
  optKnownKeys('quickConfig', o, QUICK_KEYS);
  let concurrency: ConcurrencyConfig | undefined;
  if (o.concurrency !== undefined) {
    const queue = o.queue ?? (o.queueTimeout !== undefined ? GATEWAY_DEFAULTS.flagQueue : undefined);
    concurrency = {
      limit: o.concurrency,
      ...(o.algorithm !== undefined ? { algorithm: o.algorithm } : {}),
      ...(queue !== undefined ? { queue } : {}),
      ...(o.queueTimeout !== undefined ? { queueTimeout: o.queueTimeout } : {}),
    };
  }
  const rate: RateLimitConfig | undefined = o.rate === undefined ? undefined : { rate: o.rate, ...(o.burst !== undefined ? { burst: o.burst } : {}) };
  const policy: PolicyConfig = {
    ...(o.tenantHeader !== undefined ? { tenant: { header: o.tenantHeader } } : {}),
    ...(rate !== undefined ? { rateLimits: [rate] } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
  };
  const hasPolicy = Object.keys(policy).length > 0;
  return {
    listen: { ...(o.host !== undefined ? { host: o.host } : {}), ...(o.port !== undefined ? { port: o.port } : {}) },
    ...(o.adminPort === false ? { admin: { enabled: false } } : o.adminPort !== undefined ? { admin: { port: o.adminPort } } : {}),
    ...(o.logLevel !== undefined ? { log: { level: o.logLevel } } : {}),
    ...(o.drainTimeout !== undefined ? { drain: { timeout: o.drainTimeout } } : {}),
    ...(o.workers !== undefined || o.maxQueued !== undefined ? { server: { ...(o.workers !== undefined ? { workers: o.workers } : {}), ...(o.maxQueued !== undefined ? { maxQueued: o.maxQueued } : {}) } } : {}),
    ...(o.trustProxy !== undefined ? { trustProxy: o.trustProxy } : {}),
    ...(o.store !== undefined ? { store: { url: o.store, ...(o.storeOnError !== undefined ? { onStoreError: o.storeOnError } : {}) } } : {}),
    upstreams: { upstream: { url: o.upstream, ...(o.timeout !== undefined ? { timeout: o.timeout } : {}) } },
    ...(hasPolicy ? { policies: { default: policy } } : {}),
    routes: [{ name: 'default', path: '/', ...(hasPolicy ? { policy: 'default' } : {}) }],
  };
}
