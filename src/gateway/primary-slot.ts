/** The primary's record of one worker (primary.ts), and the status of a gateway with none serving. */
import type { Worker } from 'node:cluster';
import type { DashboardSample } from '../dashboard/dashboard.js';
import type { SharedLimitStore } from '../shared/limit-store.js';
import { noBadRequests } from './bad-requests.js';
import { newCounters } from './request-handler.js';
import type { GatewayStatus } from './status.js';

export interface Slot {
  readonly index: number;
  worker: Worker;
  holder: string;
  store: SharedLimitStore;
  restarts: number;
  status: GatewayStatus | undefined;
  /** Its last status call was answered. */
  answering: boolean;
  /** When it last sent anything (or was forked), performance.now(): `server.workerTimeout` counts from it. */
  answeredAt: number;
  /** Killed for not answering: once. */
  killed: boolean;
  /** Its dashboard's last sample (refreshed with its status). */
  dashboard: DashboardSample | undefined;
  /** The proxy URL it listens on (the same for every worker). */
  url: string;
  /** Its process exited: its holdings are dropped, and it is granted nothing more. */
  dead: boolean;
  /** The config generation it runs (worker-rollout.ts): undefined until it listens. */
  generation: number | undefined;
  /** It did not take a reload: it is drained, then forked again. */
  replacing: boolean;
  /** Its drain and exit, once asked (by the gateway's drain or its replacement). */
  stopping: Promise<void> | undefined;
}

export function emptyStatus(): GatewayStatus {
  return { state: 'serving', uptimeMs: 0, queued: 0, counters: newCounters(), badRequests: noBadRequests(), paused: { now: 0, total: 0, repaused: 0, woken: 0, ranOut: 0, unpaced: 0, engaged: false }, pipeline: { waiting: 0, holding: 0 }, connections: { open: 0, refusing: 0 }, memory: { bodies: { used: 0, peak: 0, capacity: 0 }, responses: { used: 0, peak: 0, capacity: 0 } }, routes: [], policies: [], upstreams: [] };
}
