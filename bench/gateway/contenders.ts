/**
 * What the bench puts in front of the demo upstream: nothing; the sluice gateway (fixed
 * concurrency + queue timeout; adaptive); nginx `limit_req`; HAProxy `maxconn` + `timeout
 * queue`; and, for the overhead comparison, a bare Node proxy. Each runs in its own process
 * and is stopped by its PID.
 */
import { fileURLToPath } from 'node:url';
import type { DemoGatewaySettings } from '../../src/demo/gateway-config.js';
import { ServerChild } from '../../src/demo/server-child.js';
import type { ServerSpec } from '../../src/demo/server-process.js';
import { builtServerProcess } from './built.js';
import { which } from './external.js';
import type { FloorUpstreamSettings } from './floor-upstream.js';
import type { LimitFloorSettings } from './limit-floor.js';
import type { PeerSettings } from './peers.js';
import { startHaproxy, startNginx } from './peers.js';

export interface Running {
  readonly url: string;
  /** The process whose CPU and RSS are measured; undefined for "no proxy". */
  readonly pid: number | undefined;
  readonly adminUrl?: string;
  stop(): Promise<void>;
}

export interface BenchContender {
  readonly name: string;
  /** What exactly runs, for the report. */
  readonly about: string;
  /** Why it does not run here (binary missing), if it does not. */
  readonly skipped?: string;
  /** Runs only when `--only` names it (a variant for one question, not a row of every run). */
  readonly optIn?: boolean;
  start(upstreamUrl: string): Promise<Running>;
}

const proxyFile = fileURLToPath(new URL('./proxy-process.ts', import.meta.url));
/** This checkout: its gateway runs from its build, dist/ (built.ts), as a user runs it. */
const ownTree = fileURLToPath(new URL('../..', import.meta.url));

async function nodeProxy(name: string, args: readonly string[], execArgv: readonly string[] = [], file = proxyFile): Promise<Running> {
  const child = new ServerChild(file, args, { name, execArgv });
  const ready = await child.ready;
  return { url: ready.url, pid: child.pid, ...(ready.adminUrl === undefined ? {} : { adminUrl: ready.adminUrl }), stop: () => child.stop() };
}

/** The sluice gateway of `tree` (this checkout by default) from its build: dist/demo/server-process.js in plain Node, no tsx (built.ts). */
function sluiceProxy(name: string, upstreamUrl: string, settings: DemoGatewaySettings, execArgv: readonly string[] = [], tree = ownTree): Promise<Running> {
  return nodeProxy(name, [JSON.stringify({ gateway: settings, upstreamUrl } satisfies ServerSpec)], execArgv, builtServerProcess(tree));
}

export interface ContenderSettings extends PeerSettings {
  readonly gateway: Omit<DemoGatewaySettings, 'mode'>;
  /** Node flags for every Node proxy process (`--proxy-prof`: a CPU profile each). */
  readonly proxyExecArgv?: readonly string[];
  /**
   * Another checkout of this repository (`--baseline`): the closed loop runs its gateway too,
   * as `sluice 1 worker @baseline`, beside this one's in the same run (an A/B on one host).
   */
  readonly baseline?: string;
}

const INSTALL = 'not installed (apt-get install nginx haproxy, or your platform\'s package) — skipped';

export function contenders(s: ContenderSettings): BenchContender[] {
  const nginx = which('nginx');
  const haproxy = which('haproxy');
  const gw = (mode: DemoGatewaySettings['mode']): DemoGatewaySettings => ({ ...s.gateway, mode });
  return [
    {
      name: 'no proxy',
      about: 'the load generator straight at the upstream',
      start: async (upstreamUrl) => ({ url: upstreamUrl, pid: undefined, stop: async () => undefined }),
    },
    {
      name: 'sluice fixed',
      about: `sluice gateway, concurrency ${s.gateway.concurrency}, queue ${s.gateway.queue}, queue timeout ${s.gateway.queueTimeoutMs} ms (startGateway from dist/ in its own process)`,
      start: (u) => sluiceProxy('sluice fixed', u, gw('fixed'), s.proxyExecArgv),
    },
    ...(s.baseline === undefined
      ? []
      : [
          {
            name: 'sluice fixed @baseline',
            about: `sluice fixed of ${s.baseline}`,
            start: (u: string) => sluiceProxy('sluice fixed @baseline', u, gw('fixed'), s.proxyExecArgv, s.baseline),
          },
        ]),
    {
      name: 'sluice adaptive',
      about: `sluice gateway, concurrency adaptive (gradient2 from ${s.gateway.concurrency}), queue timeout ${s.gateway.queueTimeoutMs} ms`,
      start: (u) => sluiceProxy('sluice adaptive', u, gw('adaptive'), s.proxyExecArgv),
    },
    ...(s.baseline === undefined
      ? []
      : [
          {
            name: 'sluice adaptive @baseline',
            about: `sluice adaptive of ${s.baseline}`,
            start: (u: string) => sluiceProxy('sluice adaptive @baseline', u, gw('adaptive'), s.proxyExecArgv, s.baseline),
          },
        ]),
    {
      name: 'node 503 floor',
      about: 'bench/gateway/bare-proxy.ts startBareRefuser: node:http answering every request 503 + Retry-After at once, proxying nothing (the floor of a refusal in Node, and of what this harness can measure)',
      start: (u) => nodeProxy('node 503 floor', ['refuser', u], s.proxyExecArgv),
    },
    {
      name: 'nginx limit_req',
      about: `nginx, 1 worker, limit_req rate=${Math.round(s.rate)}r/s burst=${s.burst} nodelay, upstream keepalive 256`,
      ...(nginx === undefined ? { skipped: `nginx ${INSTALL}` } : {}),
      start: (u) => startNginx(nginx ?? 'nginx', u, s),
    },
    {
      name: 'haproxy maxconn',
      about: `HAProxy, nbthread 1, server maxconn ${s.concurrency}, timeout queue ${s.queueTimeoutMs}ms, http-reuse always`,
      ...(haproxy === undefined ? { skipped: `haproxy ${INSTALL}` } : {}),
      start: (u) => startHaproxy(haproxy ?? 'haproxy', u, s),
    },
  ];
}

/** Where the rate contenders serve the same upstream without admission control (DemoGatewaySettings.unlimitedPath). */
export const UNLIMITED_PATH = '/unlimited';

/** The overhead pair: the same load well under capacity through a bare Node proxy and through the gateway. */
export function overheadContenders(s: ContenderSettings): BenchContender[] {
  return [
    { name: 'bare node proxy', about: 'bench/gateway/bare-proxy.ts: node:http in, keep-alive agent out, no admission', start: (u) => nodeProxy('bare node proxy', ['bare', u]) },
    contenders(s)[1]!,
  ];
}

/** The closed-loop section's contenders: sluice with 1 and 2 workers, the node limit floor (three HTTP/1 clients), HAProxy with 1 and 2 threads, nginx. */
export function closedContenders(s: ContenderSettings): BenchContender[] {
  const nginx = which('nginx');
  const haproxy = which('haproxy');
  const gw = (workers: number): DemoGatewaySettings => ({ ...s.gateway, mode: 'fixed', workers });
  const sluice = (workers: number, tree?: string): BenchContender => ({
    name: `sluice ${workers} worker${workers === 1 ? '' : 's'}${tree === undefined ? '' : ' @baseline'}`,
    about: `sluice gateway${tree === undefined ? '' : ` of ${tree}`}, ${workers} worker${workers === 1 ? '' : 's'} sharing concurrency ${s.gateway.concurrency}, queue ${s.gateway.queue}, queue timeout ${s.gateway.queueTimeoutMs} ms`,
    start: (u) => sluiceProxy(`sluice ${workers}w`, u, gw(workers), s.proxyExecArgv, tree),
  });
  const ha = (threads: number): BenchContender => ({
    name: `haproxy nbthread ${threads}`,
    about: `HAProxy, nbthread ${threads}, server maxconn ${s.concurrency}, timeout queue ${s.queueTimeoutMs}ms, frontend maxconn 9900 (two descriptors per connection under a 20,000 limit)`,
    ...(haproxy === undefined ? { skipped: `haproxy ${INSTALL}` } : {}),
    start: (u) => startHaproxy(haproxy ?? 'haproxy', u, s, threads),
  });
  const floor = (name: string, client: FloorUpstreamSettings['client'], pipelining: number, out: string, optIn = true): BenchContender => {
    const f: LimitFloorSettings = { concurrency: s.gateway.concurrency, queueTimeoutMs: s.gateway.queueTimeoutMs, connections: Math.max(256, s.gateway.concurrency * 8), client, pipelining };
    return {
      name,
      about: `bench/gateway/limit-floor.ts: node:http in, ${out} of ${f.connections} connections out, ${f.concurrency} slots handed out in arrival order, 503 + Retry-After after ${f.queueTimeoutMs} ms waiting — the gateway's admission and nothing else (the floor of a limiting Node proxy's CPU per request)`,
      optIn,
      start: (u: string) => nodeProxy(name, ['limit', u, JSON.stringify(f)], s.proxyExecArgv),
    };
  };
  return [
    ...(s.baseline === undefined ? [] : [sluice(1, s.baseline), sluice(2, s.baseline)]),
    sluice(1),
    sluice(2),
    floor('node limit floor', 'undici', 1, 'an undici Pool', false),
    // issue 9: the same floor through other HTTP/1 clients (bench/gateway/floor-upstream.ts), when --only names them.
    floor('node limit floor pipelining 2', 'undici', 2, 'an undici Pool at pipelining 2'),
    floor('node limit floor http.Agent', 'node', 1, "node:http's client over a keep-alive http.Agent"),
    ha(1),
    ha(2),
    {
      name: 'nginx limit_req',
      about: `nginx, 1 worker, limit_req rate=${Math.round(s.rate)}r/s burst=${s.burst} nodelay, upstream keepalive 256`,
      ...(nginx === undefined ? { skipped: `nginx ${INSTALL}` } : {}),
      start: (u) => startNginx(nginx ?? 'nginx', u, s),
    },
  ];
}

/**
 * The rate-accuracy rows: sluice with a per-client rate limit, 1 and 2 workers, and a route
 * at UNLIMITED_PATH without admission control to the same upstream (the ceiling run).
 */
export function rateContenders(s: ContenderSettings, rate: { readonly perS: number; readonly burst: number }): BenchContender[] {
  return [1, 2].map((workers) => ({
    name: `sluice rate ${workers}w`,
    about: `sluice gateway, ${workers} worker(s), --rate ${rate.perS}/s --burst ${rate.burst}`,
    start: (u) => sluiceProxy(`sluice rate ${workers}w`, u, { ...s.gateway, mode: 'fixed', workers, rate, unlimitedPath: UNLIMITED_PATH }),
  }));
}
