/** A validated config with every default filled in and every unit in numbers (ms, bytes). */
import type { CriticalityName, FaultConfig, GatewayConfig, LogLevel, PolicyConfig } from './config-types.js';

export interface ResolvedUpstream {
  readonly name: string;
  readonly hostname: string;
  readonly port: number;
  /** Path prefix of every request sent (no trailing slash); '' for none. */
  readonly basePath: string;
  /** `host:port`, the Host header upstream requests carry. */
  readonly host: string;
  /** `http://host:port`: where the connection pool connects. */
  readonly origin: string;
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxSockets: number;
  /** Same key, same settings: the connection pool survives a reload. */
  readonly key: string;
}

export interface ResolvedPolicy {
  /** `policies.<name>` or `routes[i].policy`: where it was written. */
  readonly name: string;
  readonly config: PolicyConfig;
  /** Canonical hash of the policy and the settings it depends on: the same key keeps its gates (and their state) across a reload. */
  readonly key: string;
}

export interface ResolvedRoute {
  readonly name: string;
  readonly path: string;
  /** `path` case-folded for a `caseInsensitive` route (canonical-case.ts: matched against the request path folded so); undefined otherwise. */
  readonly lowerPath: string | undefined;
  readonly methods: ReadonlySet<string> | undefined;
  readonly upstream: ResolvedUpstream;
  readonly policy: ResolvedPolicy | undefined;
  readonly cost: number | undefined;
  readonly criticality: CriticalityName | undefined;
  readonly exempt: boolean;
  readonly allowTrace: boolean;
  readonly maxWaitMs: number | undefined;
  /** The route's own maxBodySize, else the server's. */
  readonly maxBodySize: number;
  readonly fault: FaultConfig | undefined;
}

/** `store:` resolved: a URL that parses, every default in. */
export interface ResolvedStore {
  readonly url: string;
  readonly cluster: boolean;
  readonly keyPrefix: string;
  readonly onStoreError: 'open' | 'closed' | 'local';
  readonly instances: number;
  readonly timeoutMs: number;
  readonly stateEncoding: 'binary' | 'text';
  readonly tenantKeys: 'hash' | 'raw';
}

export interface ResolvedConfig {
  readonly source: GatewayConfig;
  readonly listen: { readonly host: string; readonly port: number; readonly backlog: number };
  readonly admin: { readonly enabled: boolean; readonly host: string; readonly port: number; readonly tenantKeys: 'hash' | 'raw' };
  readonly server: {
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    readonly maxHeaderSize: number;
    readonly maxBodySize: number;
    readonly bodyTimeoutMs: number;
    readonly bodyMemory: number;
    readonly responseBuffer: number;
    readonly responseMemory: number;
    readonly writeTimeoutMs: number;
    /** A response waiting for its client this long may be cut for its slot (slow-readers.ts). */
    readonly slowReaderCutAfterMs: number;
    /** Bytes per second; 0: only the no-progress rule. */
    readonly minReadRate: number;
    readonly maxConnections: number;
    readonly maxQueued: number;
    /** Already capped at half of keepAliveTimeoutMs. */
    readonly pauseRefusedMs: number;
    /** ELU above which refused connections are paused; 0: always. */
    readonly pauseRefusedLoad: number;
    /** Lowercase; besides forward-headers.ts's own list. */
    readonly stripHeaders: readonly string[];
    /** 'auto' resolved to the available cores. */
    readonly workers: number;
    /** A worker silent this long is killed and forked again; 0: never. */
    readonly workerTimeoutMs: number;
    /** A worker not listening this long after its fork is killed, a failed start; 0: never. */
    readonly workerStartTimeoutMs: number;
  };
  readonly drain: { readonly timeoutMs: number; readonly retryAfterMs: number };
  readonly logLevel: LogLevel;
  readonly trustProxy: readonly string[] | undefined;
  readonly proxyHeader: 'x-forwarded-for' | 'forwarded' | undefined;
  readonly store: ResolvedStore | undefined;
  readonly upstreams: ReadonlyMap<string, ResolvedUpstream>;
  readonly policies: ReadonlyMap<string, ResolvedPolicy>;
  readonly routes: readonly ResolvedRoute[];
}
