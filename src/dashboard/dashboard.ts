/**
 * `sluice/dashboard`: a live page over any set of gates, as a request handler for a
 * node:http server. Every `intervalMs` it samples each group (GroupSampler) and pushes the
 * sample to every open page over Server-Sent Events; a page that connects first gets the
 * history of the last `historySeconds`. Memory is bounded whatever happens: the history is a
 * ring, each group's tenant counts are capped, and each page is fed from the ring only as its
 * socket takes bytes (page-feed.ts): one that reads slowly holds one frame at most, skips what
 * left the ring meanwhile, and one that takes nothing for `maxBlockedSamples` samples is cut.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidOptionError, optInt, optionKeys, optKnownKeys, optTenantKeys } from '../core/index.js';
import type { TenantKeys } from '../core/index.js';
import { argOptions } from '../core/option-keys.js';
import { GroupSampler } from './group-sampler.js';
import type { DashboardGroup, GroupSample } from './group-sampler.js';
import { dashboardPage } from './page.js';
import { PageFeed, SampleRing } from './page-feed.js';
import type { DashboardSample } from './page-feed.js';
import { uplotAssets, UPLOT_MISSING } from './uplot-assets.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface DashboardOptions {
  /** The groups shown, asked at every sample (groups may come and go: a reload). Exactly one of `groups` and `samples`. */
  readonly groups?: readonly DashboardGroup[] | (() => Iterable<DashboardGroup>);
  /**
   * Instead of gates: the groups' samples, read at every sample — for a page over figures
   * sampled elsewhere, such as other processes' dashboards merged with `mergeGroupSamples`.
   */
  readonly samples?: () => readonly GroupSample[];
  /** Where the handler answers: `${basePath}`, `${basePath}/events`, `/snapshot`, `/uplot.js`, `/uplot.css`. @default '/dashboard' */
  readonly basePath?: string;
  /** Sample and push period, ms. Integer in [100, 1000] (at least one update a second). @default 500 */
  readonly intervalMs?: number;
  /** History kept for a page that connects, s. Integer in [10, 3600]. @default 300 */
  readonly historySeconds?: number;
  /** Tenants counted per group for the top refused list. Integer in [10, 100_000]. @default 1000 */
  readonly maxTenants?: number;
  /** Tenants shown per group. Integer in [1, 100]. @default 10 */
  readonly topTenants?: number;
  /**
   * How tenant keys are shown: 'hash', a stable short hash of each key (`key:#3f9a1c2b7d0e`;
   * an address, `ip:…`, as it is), so an API key never reaches whoever reads the page; 'raw',
   * as the limiter meters them. Only what is shown is hashed: keys are counted as they are, in
   * this process's memory. @default 'hash'
   */
  readonly tenantKeys?: TenantKeys;
  /** Open pages at most; more are answered 503. Integer in [1, 10_000]. @default 100 */
  readonly maxSubscribers?: number;
  /** Page title. @default 'sluice' */
  readonly title?: string;
}

/** The paths the handler serves under its basePath (handle() answers 404 for any other). */
export const DASHBOARD_PATHS: readonly string[] = ['', '/', '/events', '/snapshot', '/uplot.js', '/uplot.css'];

export const DASHBOARD_DEFAULTS = deepFreeze({ basePath: '/dashboard', intervalMs: 500, historySeconds: 300, maxTenants: 1000, topTenants: 10, tenantKeys: 'hash', maxSubscribers: 100, title: 'sluice', maxBlockedSamples: 20 } as const);

export type { DashboardSample } from './page-feed.js';

const DASHBOARD_KEYS = optionKeys<DashboardOptions>({
  groups: true,
  samples: true,
  basePath: true,
  intervalMs: true,
  historySeconds: true,
  maxTenants: true,
  topTenants: true,
  tenantKeys: true,
  maxSubscribers: true,
  title: true,
});
const GROUP_KEYS = optionKeys<DashboardGroup>({ name: true, gates: true, monitor: true, info: true, shadowRefusals: true, shadow: true });

export class Dashboard {
  readonly basePath: string;
  readonly intervalMs: number;
  readonly #groups: () => Iterable<DashboardGroup>;
  readonly #samples: (() => readonly GroupSample[]) | undefined;
  readonly #samplers = new Map<string, GroupSampler>();
  readonly #history: SampleRing;
  readonly #maxTenants: number;
  readonly #topTenants: number;
  readonly #tenantKeys: TenantKeys;
  readonly #maxSubscribers: number;
  readonly #title: string;
  readonly #subscribers = new Set<PageFeed>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;
  /** The last sample failed (its warning given). */
  #failing = false;
  #dropped = 0;
  #refused = 0;
  #skipped = 0;

  constructor(options: DashboardOptions) {
    // Required: groups (or samples) come only from here.
    argOptions('Dashboard', options, false);
    optKnownKeys('Dashboard', options, DASHBOARD_KEYS);
    const g = options.groups;
    if (options.samples !== undefined) {
      if (typeof options.samples !== 'function') throw new InvalidOptionError('samples', 'a function returning group samples', options.samples);
      if (g !== undefined) throw new InvalidOptionError('groups', 'no groups when samples is given (one source of figures)', g);
      this.#samples = options.samples;
      this.#groups = () => [];
    } else if (typeof g === 'function') this.#groups = g;
    else if (Array.isArray(g)) {
      // A list given once is checked once; groups from a function are read at every sample.
      (g as readonly unknown[]).forEach((group, i) => optKnownKeys('dashboard group', group, GROUP_KEYS, `groups[${i}].`));
      this.#groups = () => g as readonly DashboardGroup[];
    }
    else throw new InvalidOptionError('groups', 'an array of groups or a function returning them (or give samples)', g);
    const base = options.basePath ?? DASHBOARD_DEFAULTS.basePath;
    if (typeof base !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(base)) throw new InvalidOptionError('basePath', "a path such as '/dashboard' (no trailing slash)", base);
    this.basePath = base;
    this.intervalMs = optInt('intervalMs', options.intervalMs ?? DASHBOARD_DEFAULTS.intervalMs, 100, 1000);
    const historySeconds = optInt('historySeconds', options.historySeconds ?? DASHBOARD_DEFAULTS.historySeconds, 10, 3600);
    this.#history = new SampleRing(Math.ceil((historySeconds * 1000) / this.intervalMs));
    this.#maxTenants = optInt('maxTenants', options.maxTenants ?? DASHBOARD_DEFAULTS.maxTenants, 10, 100_000);
    this.#topTenants = optInt('topTenants', options.topTenants ?? DASHBOARD_DEFAULTS.topTenants, 1, 100);
    this.#tenantKeys = optTenantKeys('tenantKeys', options.tenantKeys ?? DASHBOARD_DEFAULTS.tenantKeys);
    this.#maxSubscribers = optInt('maxSubscribers', options.maxSubscribers ?? DASHBOARD_DEFAULTS.maxSubscribers, 1, 10_000);
    const title = options.title ?? DASHBOARD_DEFAULTS.title;
    if (typeof title !== 'string') throw new InvalidOptionError('title', 'a string', title);
    this.#title = title;
    // Counting starts now, not at the first sample: what the gates answer before it (its tenants,
    // its rates, its waits) is in that sample.
    this.#attach(Date.now());
    this.#timer = setInterval(() => this.#tick(), this.intervalMs);
    this.#timer.unref();
  }

  /** Pages connected now. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  /**
   * Pages open now, pages dropped for not reading (their socket full for `maxBlockedSamples`
   * samples in a row) and pages answered 503 (more than `maxSubscribers`), since creation.
   */
  get pages(): { open: number; dropped: number; refused: number } {
    return { open: this.#subscribers.size, dropped: this.#dropped, refused: this.#refused };
  }

  /**
   * Bytes written to open pages and not yet taken by their sockets (node's buffers, the
   * kernel's aside): what pages that read slowly, or not at all, cost this process now.
   */
  get queuedBytes(): number {
    let n = 0;
    for (const s of this.#subscribers) n += s.res.writableLength;
    return n;
  }

  /** Samples pages did not get: they left the history before a slow page read up to them (it skipped to the oldest kept). */
  get skippedSamples(): number {
    return this.#skipped;
  }

  /** Tenants counted now, over every group (bounded by maxTenants per group). */
  get trackedTenants(): number {
    let n = 0;
    for (const s of this.#samplers.values()) n += s.trackedTenants;
    return n;
  }

  /** The last sample (taken now when there is none yet). */
  snapshot(): DashboardSample {
    return this.#history.last ?? this.#sample();
  }

  /**
   * Answer a request under `basePath`; false (nothing written) for any other path, so the
   * handler can sit in front of an application's own.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== this.basePath && !path.startsWith(`${this.basePath}/`)) return false;
    const rest = path.slice(this.basePath.length);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'GET only\n', { Allow: 'GET, HEAD' });
      return true;
    }
    switch (rest) {
      case '':
      case '/':
        send(res, 200, 'text/html; charset=utf-8', dashboardPage(this.basePath, this.#title, this.intervalMs, this.#history.capacity));
        return true;
      case '/events':
        // A HEAD has its head and ends: subscribed, its head waited for a first write node never
        // sends for a HEAD, so it got no answer at all, held a page's place, and a request behind
        // it on the connection waited with it (hostile-19).
        if (req.method === 'HEAD') res.writeHead(200, EVENT_STREAM_HEAD).end();
        else this.#subscribe(res);
        return true;
      case '/snapshot': {
        let body: string;
        try {
          body = `${JSON.stringify(this.snapshot())}\n`;
        } catch (err) {
          // Thrown inside a request handler, it would end the process: answered instead.
          send(res, 500, 'text/plain; charset=utf-8', `the dashboard's sample failed: ${String(err)}\n`);
          return true;
        }
        send(res, 200, 'application/json', body);
        return true;
      }
      case '/uplot.js':
      case '/uplot.css': {
        const a = uplotAssets();
        if (a === undefined) send(res, 501, 'text/plain; charset=utf-8', `${UPLOT_MISSING}\n`);
        else if (rest === '/uplot.js') send(res, 200, 'text/javascript; charset=utf-8', a.js, { 'Cache-Control': 'max-age=3600' });
        else send(res, 200, 'text/css; charset=utf-8', a.css, { 'Cache-Control': 'max-age=3600' });
        return true;
      }
      default:
        send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
        return true;
    }
  }

  /** Stop sampling, end every page's stream, stop listening to the gates. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const s of this.#subscribers) s.res.end();
    this.#subscribers.clear();
    for (const s of this.#samplers.values()) s.close();
    this.#samplers.clear();
  }

  #subscribe(res: ServerResponse): void {
    if (this.#closed || this.#subscribers.size >= this.#maxSubscribers) {
      if (!this.#closed) this.#refused++;
      send(res, 503, 'text/plain; charset=utf-8', 'too many dashboard pages open\n', { 'Retry-After': '5' });
      return;
    }
    res.writeHead(200, EVENT_STREAM_HEAD);
    const sub = new PageFeed(res, this.#history, (n) => (this.#skipped += n));
    this.#subscribers.add(sub);
    res.on('close', () => this.#subscribers.delete(sub));
    sub.feed(); // the history, as much of it as the socket takes now; the rest as it drains
  }

  /** A sampler listening to each group shown now (a new one for a group whose gates changed); the others closed. */
  #attach(now: number): GroupSampler[] {
    const seen = new Set<string>();
    const samplers: GroupSampler[] = [];
    for (const g of this.#groups()) {
      if (seen.has(g.name)) continue;
      seen.add(g.name);
      let s = this.#samplers.get(g.name);
      if (s !== undefined && (s.group.gates.length !== g.gates.length || s.group.gates.some((x, i) => x !== g.gates[i]))) {
        s.close(); // the group's gates changed (a reload built new ones)
        s = undefined;
      }
      if (s === undefined) this.#samplers.set(g.name, (s = new GroupSampler(g, this.#maxTenants, this.#tenantKeys, now)));
      samplers.push(s);
    }
    for (const [name, s] of this.#samplers) {
      if (seen.has(name)) continue;
      s.close();
      this.#samplers.delete(name);
    }
    return samplers;
  }

  #sample(): DashboardSample {
    if (this.#samples !== undefined) return { t: Date.now(), groups: this.#samples() };
    const now = Date.now();
    return { t: now, groups: this.#attach(now).map((s) => s.sample(now, this.#topTenants)) };
  }

  #tick(): void {
    let sample: DashboardSample;
    try {
      sample = this.#sample();
    } catch (err) {
      // A `samples` or `groups` function that threw: this tick is skipped, not the process
      // ended (a throw from a timer is an uncaught exception), and said once until one succeeds.
      if (!this.#failing) process.emitWarning(`sluice/dashboard: a sample failed, skipped until one succeeds: ${String(err)}`, { code: 'SLUICE_DASHBOARD_SAMPLE_ERROR' });
      this.#failing = true;
      return;
    }
    this.#failing = false;
    this.#history.push(sample);
    for (const sub of this.#subscribers) {
      // A page whose socket took nothing for maxBlockedSamples ticks: cut.
      if (!sub.tick(DASHBOARD_DEFAULTS.maxBlockedSamples)) continue;
      this.#dropped++;
      this.#subscribers.delete(sub);
      sub.res.destroy();
    }
  }
}

/** The event stream's head (and a HEAD's whole answer). */
const EVENT_STREAM_HEAD = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' } as const;

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** `createDashboard({ groups })`: see {@link Dashboard}. */
export function createDashboard(options: DashboardOptions): Dashboard {
  return new Dashboard(options);
}
