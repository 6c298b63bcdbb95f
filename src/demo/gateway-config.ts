/**
 * The gateway configuration the demo and bench/gateway.ts put in front of the demo
 * upstream: one route, a concurrency limit (fixed or adaptive) with a bounded queue and a
 * queue timeout. Written as a user would write sluice.yaml.
 */
import type { GatewayConfig } from '../gateway/config-types.js';

export type GatewayMode = 'fixed' | 'adaptive';
export const GATEWAY_MODES: readonly GatewayMode[] = ['fixed', 'adaptive'];

export interface DemoGatewaySettings {
  /** Fixed limit, or adaptive (gradient2) starting from `concurrency`. */
  readonly mode: GatewayMode;
  /** Requests in flight to the upstream (the initial limit when adaptive). */
  readonly concurrency: number;
  /** Longest a request waits for a slot, ms. */
  readonly queueTimeoutMs: number;
  /** Requests that may wait for a slot. */
  readonly queue: number;
  /** Worker processes sharing the limits (server.workers). @default 1 */
  readonly workers?: number;
  /** A rate limit per client instead of the concurrency limit (the bench's accuracy rows). */
  readonly rate?: { readonly perS: number; readonly burst: number };
  /** server.pauseRefused, ms (0: refused connections are never paused). @default the gateway's default */
  readonly pauseRefusedMs?: number;
  /** server.pauseRefusedLoad (0: pause whatever the loop's load). @default the gateway's default */
  readonly pauseRefusedLoad?: number;
  /**
   * A route at this path (before the limited one) with no admission control, to the same
   * upstream: the bench's rate rows measure through it what the client can offer at all.
   */
  readonly unlimitedPath?: string;
  /** The upstream's timeout, ms (bench:refusal's wait row: an upstream that never answers within the run). @default 10 s */
  readonly upstreamTimeoutMs?: number;
}

export function demoGatewayConfig(upstreamUrl: string, s: DemoGatewaySettings): GatewayConfig {
  const concurrency =
    s.mode === 'fixed'
      ? { limit: s.concurrency, queue: s.queue, queueTimeout: `${s.queueTimeoutMs}ms` as const }
      : {
          limit: 'adaptive' as const,
          algorithm: 'gradient2' as const,
          initialLimit: s.concurrency,
          minLimit: Math.max(1, Math.floor(s.concurrency / 5)),
          maxLimit: s.concurrency * 4,
          queue: s.queue,
          queueTimeout: `${s.queueTimeoutMs}ms` as const,
        };
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    log: { level: 'error' },
    server: {
      maxConnections: 20_000,
      maxQueued: Math.max(s.queue, 1) * 4,
      ...(s.workers !== undefined ? { workers: s.workers } : {}), ...(s.pauseRefusedMs !== undefined ? { pauseRefused: `${s.pauseRefusedMs}ms` as const } : {}),
      ...(s.pauseRefusedLoad !== undefined ? { pauseRefusedLoad: s.pauseRefusedLoad } : {}),
    },
    upstreams: { demo: { url: upstreamUrl, timeout: s.upstreamTimeoutMs === undefined ? '10s' : (`${s.upstreamTimeoutMs}ms` as const), maxSockets: Math.max(256, s.concurrency * 8) } },
    routes: [
      ...(s.unlimitedPath === undefined ? [] : [{ name: 'unlimited', path: s.unlimitedPath }]),
      { name: 'demo', path: '/', policy: s.rate === undefined ? { concurrency } : { rateLimits: [{ rate: `${s.rate.perS}/s`, burst: s.rate.burst }] } },
    ],
  };
}
