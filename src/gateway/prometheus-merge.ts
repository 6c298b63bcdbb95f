/**
 * The primary's /metrics (primary.ts): the workers' Prometheus text expositions as one page.
 * Each `# HELP`/`# TYPE` once; every sample labelled `worker="<i>"`, the worker's place
 * (0 … server.workers − 1, whichever process fills it): `sum without (worker)` is the gateway's.
 *
 * A counter resets only with the process that serves it, and here that process is the
 * primary: counters — and histograms' buckets, sums and counts, summaries' sums and counts —
 * never go backwards on this page while it runs.
 * - A worker forked again starts from 0: what the processes before it in its place showed at
 *   the last scrape each answered is carried, added to its series (a series it does not
 *   have yet is shown with the carried value alone).
 * - A worker that does not answer a scrape (stopped, dead, not started yet) shows the
 *   counters of the last scrape it answered; its gauges, levels now, are left out.
 * - The primary's status poll (once a second) brings each worker's running totals too
 *   (`observe`; its counters and histograms alone, running-totals.ts): taken as a scrape's would
 *   be, so a worker that dies between two scrapes takes at most the last second's counts with
 *   it, not all since the last scrape (until metricsfold: a worker killed 14 s into a 15 s
 *   scrape interval took 14 s of counts).
 * Until metricsmw a dead worker's series went from the page and came back from 0:
 * `sum(sluice_admissions_total)` fell by its counts.
 */

/**
 * Gauges the primary's page shows summed over the workers that answered, one series per label
 * set and no `worker` label: how many requests wait in all is the gateway's figure, not one
 * worker's (gateway-metrics.ts).
 */
export const SUMMED_GAUGES = ['sluice_requests_waiting', 'sluice_gateway_requests_waiting'] as const;
const SUMMED: ReadonlySet<string> = new Set(SUMMED_GAUGES);

/** A worker's page: its text and which process wrote it (node:cluster's worker id, rising with each fork). */
export interface WorkerPage {
  readonly process: number;
  readonly text: string;
}

/** Worker i's scrape: the process asked (not the one in its place when it answers) and the call that asks it. */
export interface WorkerAsk {
  readonly process: number;
  readonly ask: () => Promise<unknown>;
}

/** `/metrics` before any worker has answered a scrape: the admin listener answers it 503, not 501 (prom-client is not missing). */
export class MetricsUnansweredError extends Error {
  constructor(workers: number, timeoutMs: number) {
    super(`no worker answered the metrics scrape within ${timeoutMs} ms (${workers} asked; none has answered one yet)`);
    this.name = 'MetricsUnansweredError';
  }
}

/** Series (`name{labels}` with the worker label) to value, by family. */
type Counts = Map<string, Map<string, number>>;

/** One worker place: its current process and its counts at the last scrape it answered, and what its earlier processes counted. */
interface Place {
  process: number;
  last: Counts;
  carried: Counts;
}

export class PrometheusMerge {
  /** Each family's HELP and TYPE lines, in the order first seen; kept for a carried family no page shows now. */
  readonly #heads = new Map<string, string[]>();
  /**
   * The heads of families a poll brought (its counters and histograms alone: running-totals.ts),
   * apart: the page keeps its families in the order of the first scrape, gauges among them, and
   * shows these only for a family no scrape did.
   */
  readonly #polledHeads = new Map<string, string[]>();
  readonly #places: (Place | undefined)[] = [];
  /** A worker answered a scrape with a page (a poll's page alone does not make one to serve: 503 before, MetricsUnansweredError). */
  #scraped = false;

  /** Whether any worker ever answered a scrape: there is a page to serve. */
  get seen(): boolean {
    return this.#scraped;
  }

  /**
   * Worker i's page from outside a scrape (the primary's status poll): its running totals are
   * kept as a scrape's would be, its levels are not. A worker that dies before the next scrape
   * is then carried from here, not from the scrape before.
   */
  observe(i: number, page: WorkerPage): void {
    this.#take(i, page, new Map(), () => undefined, this.#polledHeads);
  }

  /**
   * Every worker asked at once (`asks[i]`: worker i), their answers merged; `own()` read once they are in (merge).
   * Undefined when no answer is a page and none ever was: the workers run without prom-client (they answer, with
   * nothing). Rejects with MetricsUnansweredError when no worker answered (stopped, starting, or too slow for
   * `timeoutMs`) and none ever did: there is nothing to serve, and it is not that prom-client is missing.
   */
  async scrape(asks: readonly WorkerAsk[], timeoutMs: number, own: () => ReadonlyMap<string, readonly string[]>): Promise<string | undefined> {
    let answered = false;
    const pages = await Promise.all(
      asks.map(({ process, ask }) =>
        ask().then(
          (text): WorkerPage | undefined => ((answered = true), typeof text === 'string' ? { process, text } : undefined),
          () => undefined,
        ),
      ),
    );
    if (!answered && !this.seen) throw new MetricsUnansweredError(asks.length, timeoutMs);
    return pages.every((p) => p === undefined) && !this.seen ? undefined : this.merge(pages, own());
  }

  /**
   * `pages[i]`: worker i's text, undefined when it did not answer. `own`: families the
   * primary counts itself, by name, with their sample lines (no `worker` label): they stand in
   * for the workers' samples of that family, which count what the workers do not serve — the
   * admin listener's /dashboard pages are the primary's, and the workers' read 0 for ever.
   */
  merge(pages: readonly (WorkerPage | undefined)[], own: ReadonlyMap<string, readonly string[]> = new Map()): string {
    const samples = new Map<string, string[]>();
    const sums = new Map<string, Map<string, number>>();
    // `unlabelled`: a level's line as its worker wrote it (a summed gauge's is added up without the worker label).
    const add = (family: string, line: string, unlabelled?: string): void => {
      if (unlabelled !== undefined && SUMMED.has(family)) return sumInto(sums, family, unlabelled);
      const lines = samples.get(family);
      if (lines === undefined) samples.set(family, [line]);
      else lines.push(line);
    };
    pages.forEach((page, i) => {
      if (page !== undefined) this.#scraped = true;
      const place = this.#take(i, page, own, add, this.#heads);
      if (place === undefined) return;
      for (const family of new Set([...place.last.keys(), ...place.carried.keys()])) {
        const [last, carried] = [place.last.get(family), place.carried.get(family)];
        for (const series of new Set([...(last?.keys() ?? []), ...(carried?.keys() ?? [])])) add(family, `${series} ${(last?.get(series) ?? 0) + (carried?.get(series) ?? 0)}`);
      }
    });
    for (const [family, series] of sums) samples.set(family, [...series].map(([k, v]) => `${k} ${v}`));
    const out: string[] = [];
    for (const [family, lines] of this.#heads) out.push(...lines, ...(own.get(family) ?? samples.get(family) ?? []));
    for (const [family, lines] of samples) if (!this.#heads.has(family)) out.push(...(this.#polledHeads.get(family) ?? []), ...lines);
    for (const [family, lines] of own) if (!this.#heads.has(family)) out.push(...lines);
    return `${out.join('\n')}\n`;
  }

  /** Worker i's page into its place (a page older than the place's process is not taken); the place, if it has one. */
  #take(i: number, page: WorkerPage | undefined, own: ReadonlyMap<string, readonly string[]>, add: (family: string, line: string, unlabelled?: string) => void, heads: Map<string, string[]>): Place | undefined {
    let place = this.#places[i];
    // A page older than the place's process (two scrapes crossing a fork) is not this place's any more.
    if (page === undefined || (place !== undefined && page.process < place.process)) return place;
    if (place === undefined) this.#places[i] = place = { process: page.process, last: new Map(), carried: new Map() };
    else if (page.process !== place.process) {
      addCounts(place.carried, place.last);
      place.process = page.process;
      place.last = new Map();
    }
    this.#read(page.text, i, own, add, place.last, heads);
    return place;
  }

  /** Worker i's text: heads kept, levels added as they are, running totals into `counts` (never lower than before: scrapes may cross). */
  #read(text: string, i: number, own: ReadonlyMap<string, readonly string[]>, add: (family: string, line: string, unlabelled: string) => void, counts: Counts, heads: Map<string, string[]>): void {
    let family = '';
    let type = 'untyped';
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const meta = /^# (HELP|TYPE) (\S+)(?: (\S+))?/.exec(line);
      if (meta !== null) {
        if (meta[2] !== family) [family, type] = [meta[2]!, 'untyped'];
        if (meta[1] === 'TYPE') type = meta[3] ?? 'untyped';
        const head = heads.get(family) ?? [];
        if (!heads.has(family)) heads.set(family, head);
        if (head.length < 2 && !head.some((l) => l.startsWith(`# ${meta[1]!} `))) head.push(line);
        continue;
      }
      if (line.startsWith('#') || own.has(family)) continue;
      const labelled = withWorker(line, i);
      const cut = labelled.lastIndexOf(' ');
      const [series, value] = [labelled.slice(0, cut), Number(labelled.slice(cut + 1))];
      if (!runningTotal(type, series) || !Number.isFinite(value)) {
        add(family, labelled, line);
        continue;
      }
      let f = counts.get(family);
      if (f === undefined) counts.set(family, (f = new Map<string, number>()));
      f.set(series, Math.max(value, f.get(series) ?? 0));
    }
  }
}

/** A worker's sample line (`series value`) added into `sums[family][series]`. */
function sumInto(sums: Map<string, Map<string, number>>, family: string, line: string): void {
  const cut = line.lastIndexOf(' ');
  const value = Number(line.slice(cut + 1));
  if (!Number.isFinite(value)) return;
  let f = sums.get(family);
  if (f === undefined) sums.set(family, (f = new Map<string, number>()));
  const series = line.slice(0, cut);
  f.set(series, (f.get(series) ?? 0) + value);
}

/** A sample line with `worker="<i>"` first among its labels. */
function withWorker(line: string, i: number): string {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  if (brace < 0 || brace > space) return `${line.slice(0, space)}{worker="${i}"}${line.slice(space)}`;
  return `${line.slice(0, brace + 1)}worker="${i}"${line[brace + 1] === '}' ? '' : ','}${line.slice(brace + 1)}`;
}

/** A sample that counts up for the life of its process: a counter's, a histogram's, a summary's sum or count (not its quantiles). */
function runningTotal(type: string, series: string): boolean {
  if (type === 'counter' || type === 'histogram') return true;
  if (type !== 'summary') return false;
  const name = series.split('{')[0]!;
  return name.endsWith('_sum') || name.endsWith('_count');
}

function addCounts(into: Counts, from: Counts): void {
  for (const [family, series] of from) {
    let f = into.get(family);
    if (f === undefined) into.set(family, (f = new Map<string, number>()));
    for (const [s, v] of series) f.set(s, (f.get(s) ?? 0) + v);
  }
}
