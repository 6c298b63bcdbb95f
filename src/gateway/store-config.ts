/** `store:` of the gateway config: checked and resolved (the URL as sluice/redis accepts it, defaults in). */
import { checkUrl, REDIS_STORE_DEFAULTS } from '../redis/options.js';
import type { StoreConfig } from './config-types.js';
import type { ResolvedStore } from './resolved-config.js';
import { durationMs } from './units.js';

/** Whether sluice/redis accepts `url` (redis:// or rediss://, a host, a port in range, a numeric db). */
export function redisUrlOk(url: string): boolean {
  try {
    checkUrl('store.url', url);
    return true;
  } catch {
    return false;
  }
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
