/**
 * What a gateway's primary and its workers say to each other over node:cluster's IPC
 * (structured clone), besides the lease calls of ipc-limit-store.ts.
 */
import type { DashboardSample } from '../dashboard/dashboard.js';
import type { ListenFailure } from './bound-listener.js';
import type { GatewayConfig } from './config-types.js';
import type { GatewayStatus } from './status.js';

/** A worker's answer to `status`: what the primary's /status and /dashboard show of it. */
export interface WorkerSnapshot {
  readonly status: GatewayStatus;
  /** Its dashboard's last sample (empty when the admin listener, and so the dashboard, is off). */
  readonly dashboard: DashboardSample;
  /** The config generation it runs: the one it started with, or its last reload that succeeded (worker-rollout.ts). */
  readonly generation: number;
  /** Its Prometheus page, when asked (`metrics: true`) and prom-client is installed: the primary keeps its running totals (prometheus-merge.ts). */
  readonly metrics?: string;
}

/** Primary → worker: serve this config (its generation) as worker `index` of `workers`. */
export interface StartMessage {
  readonly t: 'start';
  readonly config: GatewayConfig;
  readonly generation: number;
  readonly index: number;
  readonly workers: number;
}

/** Primary → worker: a question with an answer (`CallReply` with the same id). */
export type CallMessage =
  /** status: answered with a {@link WorkerSnapshot} (its status and its dashboard's sample: one round trip for both; its metrics page too with `metrics`). */
  | { readonly t: 'call'; readonly id: number; readonly op: 'status'; readonly metrics?: boolean }
  | { readonly t: 'call'; readonly id: number; readonly op: 'metrics' }
  /** reload: run `config` as `generation` (answered once it serves, or with the reason it could not). */
  | { readonly t: 'call'; readonly id: number; readonly op: 'reload'; readonly config: GatewayConfig; readonly generation: number }
  | { readonly t: 'call'; readonly id: number; readonly op: 'drain'; readonly deadlineMs: number };

/**
 * Primary → worker, in answer to its `listener-closed`: every worker's copy of the listener is
 * closed (or, outside a drain of the whole gateway, the others' go on listening): what it held
 * unread since may be answered (accept-queue-grace.ts).
 */
export interface ListenersClosedMessage {
  readonly t: 'listeners-closed';
}

/** Worker → primary. */
export type WorkerMessage =
  /** Its drain closed its copy of the listener. */
  | { readonly t: 'listener-closed' }
  /** Its message listener is on (an ES module worker misses what comes before: no 'online'). */
  | { readonly t: 'ready' }
  | { readonly t: 'listening'; readonly url: string }
  /** Its start failed: the error's message; `config`: a GatewayConfigError; `listen`: a listener that could not open, as listenError (bound-listener.ts) tells it. */
  | { readonly t: 'failed'; readonly error: string; readonly config: boolean; readonly listen?: ListenFailure }
  | { readonly t: 'call-reply'; readonly id: number; readonly result?: unknown; readonly error?: string };
