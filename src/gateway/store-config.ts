/** `store:` of the gateway config: checked and resolved (the URL as sluice/redis accepts it, defaults in). */
import { parseRedisUrl, REDIS_STORE_DEFAULTS } from '../redis/options.js';
import type { StoreConfig } from './config-types.js';
import type { ResolvedStore } from './resolved-config.js';
import { durationMs } from './units.js';

/** What `store.url` should have been, when sluice/redis does not take it (options.ts parseRedisUrl), else undefined. */
export function redisUrlProblem(url: string, cluster = false): string | undefined {
  const a = parseRedisUrl(url, cluster);
  return 'expected' in a ? a.expected : undefined;
}

export function resolveStore(s: StoreConfig | undefined): ResolvedStore | undefined {
  if (s === undefined) return undefined;
  const d = REDIS_STORE_DEFAULTS;
  return {
    url: s.url,
    cluster: s.cluster ?? false,
    keyPrefix: s.keyPrefix ?? d.keyPrefix,
    onStoreError: s.onStoreError ?? d.onStoreError,
    instances: s.instances ?? d.instances,
    timeoutMs: s.timeout === undefined ? d.timeoutMs : durationMs(s.timeout),
    stateEncoding: s.stateEncoding ?? d.stateEncoding,
    // API keys are named in Redis by their hash unless told otherwise (sluice/redis's own default is 'raw').
    tenantKeys: s.tenantKeys ?? 'hash',
  };
}
