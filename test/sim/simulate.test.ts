// `sluice simulate`: the scenario format (schema, errors with paths), the engine on the
// virtual clock (a policy built as the gateway builds it), and the command's table and report.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayConfigError } from '../../src/gateway/index.js';
import { resolveConfig } from '../../src/gateway/validate-config.js';
import { simulatePolicy } from '../../src/sim/policy-sim.js';
import { parseScenario, resolveScenario } from '../../src/sim/scenario.js';
import { SCENARIO_SCHEMA } from '../../src/sim/scenario-schema.js';
import { simulateCommand } from '../../src/cli/simulate.js';
import { cleanup, root, tempDir } from '../gateway/helpers.js';
import { mkfifoSync } from '../gateway/mkfifo.js';

afterEach(cleanup);

const scenario = (extra = ''): string => `duration: 10s
upstream:
  capacity: 10
  latency: 10ms
clients:
  - tenants: 5
    timeout: 500ms
    rate:
      - { at: 0s, rate: 300/s }
      - { at: 5s, rate: 1500/s }${extra}
`;

function errors(text: string): string[] {
  try {
    parseScenario(text, 'sc.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof GatewayConfigError)) throw err;
    return err.message.split('\n');
  }
}

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('scenario format', () => {
  it('docs/scenario.schema.json is the schema the code validates with', () => {
    expect(JSON.parse(readFileSync(join(root, 'docs/scenario.schema.json'), 'utf8'))).toEqual(SCENARIO_SCHEMA);
  });

  it('the example scenario in docs/scenarios parses', () => {
    const sc = parseScenario(readFileSync(join(root, 'docs/scenarios/rehearsal.yaml'), 'utf8'), 'rehearsal.yaml');
    expect(sc).toMatchObject({ name: 'rehearsal', durationMs: 120_000, capacity: 20, latencyMs: 20 });
    expect(sc.clients.map((c) => [c.name, c.backoff, c.attempts])).toEqual([
      ['impatient', 'none', 3],
      ['polite', 'exponential', 3],
    ]);
  });

  it('reports mistakes as the gateway config does: file, line, key path, expected, found', () => {
    expect(errors(scenario('\n    retry: { attempts: 3, backof: none }'))).toEqual(['sc.yaml:11: clients[0].retry.backof: expected one of the keys attempts, backoff, base, max, retryAfter, budget, found unknown key "backof"']);
    expect(errors(scenario().replace('latency: 10ms', 'latency: 10 ms'))).toEqual([expect.stringMatching(/^sc\.yaml:4: upstream\.latency: expected a duration from 1ms to 10m \(with its unit: 100ms, 2s, 1\.5m, 1h, 1d\), found "10 ms"$/)]);
    expect(errors(scenario().replace('{ at: 5s, rate: 1500/s }', '{ at: 0s, rate: 1500/s }'))).toEqual(['sc.yaml:10: clients[0].rate[1].at: expected a time after the previous step\'s (0 ms), found "0s"']);
    expect(errors(scenario().replace('duration: 10s', 'duration: 30d'))).toEqual(['sc.yaml:1: duration: expected a duration from 1ms to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), found "30d"']);
    expect(errors(scenario('\n    retry: { attempts: 2, backoff: none, base: 1s }'))).toEqual(['sc.yaml:11: clients[0].retry.base: expected no base or max with backoff: none (it retries at once), found "1s"']);
    expect(errors('duration: 1s\n')).toEqual(['sc.yaml:1: upstream: expected a value for "upstream", found nothing', 'sc.yaml:1: clients: expected a value for "clients", found nothing']);
    expect(() => resolveScenario({ duration: '1s', upstream: { capacity: 0, latency: 1 }, clients: [] })).toThrow(/upstream\.capacity: expected/);
    expect(errors(scenario().replace('latency: 10ms', 'latency: 10'))).toEqual(['sc.yaml:4: upstream.latency: expected a duration from 1ms to 10m (with its unit: 100ms, 2s, 1.5m, 1h, 1d), found 10']);
  });

  it('seed and upstream.capacity are told their range: a bad one was answered with their description, and 1e20 was taken (ops-sim)', () => {
    const text = (seed: string, capacity: string): string => scenario().replace('duration: 10s', `duration: 10s\nseed: ${seed}`).replace('capacity: 10', `capacity: ${capacity}`);
    expect(errors(text('1e3', '0x10'))).toEqual(['sc.yaml:2: seed: expected an integer from 0 to 4294967295, found "1e3"', 'sc.yaml:4: upstream.capacity: expected an integer from 1 to 1000000, found "0x10"']);
    // A seed is 32 bits (mulberry32): 4294967297 ran as seed 1.
    expect(errors(text('4294967297', '99999999999999999999'))).toEqual([expect.stringMatching(/^sc\.yaml:2: seed: expected an integer from 0 to 4294967295, found 4294967297$/), expect.stringMatching(/^sc\.yaml:4: upstream\.capacity: expected an integer from 1 to 1000000, found /)]);
  });

  it('a step, spike, slow spell or outage that starts at or after the end is refused: it never happened, without a word (hostile-ops)', () => {
    const late = scenario('\n    spikes: [{ at: 1m, for: 1s, rate: 10/s }]').replace('{ at: 5s, rate: 1500/s }', '{ at: 20s, rate: 1500/s }').replace('latency: 10ms', 'latency: 10ms\n  slow: [{ at: 10s, for: 1s, latencyFactor: 2 }]\n  outages: [{ at: 9s, for: 5s }]');
    const end = 'expected a time before the end of the scenario (duration 10s)';
    expect(errors(late)).toEqual([`sc.yaml:5: upstream.slow[0].at: ${end}, found "10s"`, `sc.yaml:12: clients[0].rate[1].at: ${end}, found "20s"`, `sc.yaml:13: clients[0].spikes[0].at: ${end}, found "1m"`]);
  });

  it('refuses more than 20,000 samples (duration / sample): 10ms over 1h made 360,000 per policy, 700 MB and a 27 MB report (hostile-ops)', () => {
    const fine = (sample: string): string => `duration: 1h\nsample: ${sample}\nupstream: { capacity: 10, latency: 10ms }\nclients:\n  - rate: [{ at: 0s, rate: 1/s }]\n`;
    expect(errors(fine('10ms'))).toEqual(['sc.yaml:2: sample: expected a duration in [180ms, duration] (at most 20,000 samples over the duration), found "10ms"']);
    expect(errors(fine('180ms'))).toEqual([]);
    expect(errors(scenario().replace('duration: 10s', 'duration: 10s\nsample: 10ms'))).toEqual([]); // 1,000 samples
  });

  it('refuses a scenario of more attempts than can be simulated (rate x duration x attempts), naming the figure; rate 0 is a run of nothing', () => {
    const huge = (rate: string, attempts = 1): string => `duration: 60m\nupstream: { capacity: 10, latency: 10ms }\nclients:\n  - rate: [{ at: 0s, rate: ${rate} }]\n    retry: { attempts: ${attempts}, backoff: none }\n`;
    const limit = 'expected at most 5,000,000 attempts over the duration (the clients\' rates and spikes x duration x retry attempts; each is simulated one by one)';
    expect(errors(huge('1000000000/s'))).toEqual([`sc.yaml:3: clients: ${limit}, found 3.60e+12 attempts`]);
    expect(errors(huge('1000/s'))).toEqual([]); // 3.6 million
    expect(errors(huge('1000/s', 2))).toEqual([`sc.yaml:3: clients: ${limit}, found 7.20e+6 attempts`]);
    expect(errors(`${huge('1/s')}    spikes: [{ at: 0s, for: 1d, rate: 100000/s }]\n`)).toEqual([`sc.yaml:3: clients: ${limit}, found 3.60e+8 attempts`]); // a spike counts up to the end only
    expect(errors(huge('0'))).toEqual([]);
  });
});

describe('the engine', { timeout: 120_000 }, () => {
  const sc = parseScenario(scenario(), 'sc.yaml');

  it('an adaptive limit with a short queue keeps goodput at the upstream capacity where an unlimited policy collapses', async () => {
    const open = await simulatePolicy({ label: 'none', name: 'none', config: {} }, sc);
    const adaptive = await simulatePolicy({ label: 'adaptive', name: 'a', config: { concurrency: { limit: 'adaptive', queue: 20, queueTimeout: '100ms' } } }, sc);
    const overloaded = (r: typeof open): number => r.samples.filter((s) => s.t >= 6).reduce((a, s) => a + s.goodput, 0) / r.samples.filter((s) => s.t >= 6).length;
    // 10 at once, 10 ms each: 1000/s is the upstream's throughput.
    expect(overloaded(adaptive)).toBeGreaterThan(700);
    expect(overloaded(open)).toBeLessThan(overloaded(adaptive) / 2);
    expect(adaptive.refused['queue_full'] ?? 0).toBeGreaterThan(0);
    expect(adaptive.onsets).toHaveLength(1);
    expect(adaptive.onsets[0]!.atMs).toBe(5_000);
    expect(adaptive.onsets[0]!.signalMs).toBeGreaterThanOrEqual(0);
    expect(adaptive.onsets[0]!.signalMs).toBeLessThan(1_000);
    expect(open.onsets[0]!.signalMs).toBeUndefined(); // nothing ever reacts without a policy
  });

  it('is deterministic for a seed', async () => {
    const p = { label: 'x', name: 'x', config: { concurrency: { limit: 5, queue: 5, queueTimeout: '50ms' } } } as const;
    expect(JSON.stringify(await simulatePolicy(p, sc))).toBe(JSON.stringify(await simulatePolicy(p, sc)));
  });

  it('a shadow policy refuses nothing and counts what it would have refused', async () => {
    const enforce = await simulatePolicy({ label: 'e', name: 'e', config: { concurrency: 5 } }, sc);
    const shadow = await simulatePolicy({ label: 's', name: 's', config: { concurrency: 5, mode: 'shadow' } }, sc);
    expect(Object.values(shadow.refused).reduce((a, b) => a + b, 0)).toBe(0);
    expect(shadow.shadowRefused).toBeGreaterThan(0);
    expect(enforce.refused['concurrency']).toBeGreaterThan(0);
  });

  it('retries without backoff multiply the load; with backoff and Retry-After far less', async () => {
    const storm = parseScenario(scenario('\n    retry: { attempts: 4, backoff: none }'), 's.yaml');
    const polite = parseScenario(scenario('\n    retry: { attempts: 4, backoff: exponential, base: 200ms, max: 2s }'), 'p.yaml');
    const policy = { label: 'p', name: 'p', config: { rateLimits: [{ rate: '600/s', burst: 50 }] } } as const;
    const a = await simulatePolicy(policy, storm);
    const b = await simulatePolicy(policy, polite);
    expect(a.attempts / a.logical).toBeGreaterThan(2);
    expect(b.attempts / b.logical).toBeLessThan(a.attempts / a.logical);
  });

  it('the breaker opens in an outage', async () => {
    const down = parseScenario(scenario('').replace('latency: 10ms', 'latency: 10ms\n  outages: [{ at: 2s, for: 5s }]').replace('rate: 1500/s', 'rate: 300/s'), 'd.yaml');
    const r = await simulatePolicy({ label: 'b', name: 'b', config: { breaker: { failures: 5, openFor: '1s' } } }, down);
    expect(r.refused['circuit_open']).toBeGreaterThan(0);
    expect(r.samples.some((s) => s.breakerOpen === 1)).toBe(true);
    expect(r.onsets.find((o) => o.what.startsWith('outage'))!.signalMs).toBeLessThan(200);
  });

  it("a retry budget caps the storm: retries at most ratio x requests + minRetries per window", async () => {
    // Everything fails (a route fault answers 100% with 503): without a budget each request is tried 4 times.
    const fault = { abort: { status: 503, percent: 100 } } as const;
    const policy = { label: 'f', name: 'f', config: {}, fault } as const;
    const storm = await simulatePolicy(policy, parseScenario(scenario('\n    retry: { attempts: 4, backoff: none }'), 's.yaml'));
    expect(storm.attempts).toBe(storm.logical * 4);
    expect(storm.budgetDenied).toBe(0);
    const budgeted = await simulatePolicy(policy, parseScenario(scenario('\n    retry: { attempts: 4, backoff: none, budget: { ratio: 0.1, minRetries: 5, window: 1s } }'), 'b.yaml'));
    expect(budgeted.logical).toBe(storm.logical);
    // 10 s: ten windows of 1 s, each allowing 10% of its requests and 5 more.
    expect(budgeted.attempts - budgeted.logical).toBeLessThanOrEqual(Math.ceil(0.1 * budgeted.logical) + 5 * 11);
    expect(budgeted.budgetDenied).toBeGreaterThan(0);
    expect(budgeted.faults).toEqual({ delayed: 0, aborted: budgeted.attempts });
  });

  it("an injected 503 carries Retry-After in the simulation as in the gateway: clients that honour it wait 1 s; after a 502 they do not", async () => {
    const sc = parseScenario(scenario('\n    retry: { attempts: 2, backoff: none, retryAfter: true }').replace('rate: 1500/s', 'rate: 300/s'), 'ra.yaml');
    const aborted = (status: number) => simulatePolicy({ label: 'f', name: 'f', config: {}, fault: { abort: { status, percent: 100 } } }, sc);
    const after502 = await aborted(502);
    const after503 = await aborted(503);
    // Every request is tried twice at once after a 502; after a 503 the retry waits 1 s, and those due past the end are never made.
    expect(after502.attempts).toBe(after502.logical * 2);
    expect(after503.logical).toBe(after502.logical);
    expect(after503.attempts).toBeLessThan(after503.logical * 2);
  });

  it("a route's injected fault runs in the simulation as in the gateway: an even share aborted, delays held on the clock", async () => {
    const sc = parseScenario(scenario('').replace('rate: 1500/s', 'rate: 300/s'), 'f.yaml');
    const r = await simulatePolicy({ label: 'f', name: 'f', config: {}, fault: { abort: { status: 503, percent: 25 }, delay: { duration: '100ms', percent: 10 } } }, sc);
    expect(r.faults!.aborted).toBeGreaterThanOrEqual(Math.floor(r.attempts * 0.25) - 1);
    expect(r.faults!.aborted).toBeLessThanOrEqual(Math.ceil(r.attempts * 0.25) + 1);
    expect(r.faults!.delayed).toBeGreaterThanOrEqual(Math.floor(r.attempts * 0.1) - 1);
    // Failures are summed from per-second samples (rounded): within a few of the aborts.
    expect(Math.abs(r.failed - r.faults!.aborted)).toBeLessThanOrEqual(5);
    expect(r.p99Ms).toBeGreaterThanOrEqual(100); // the delayed tenth waited 100 ms on the virtual clock
  });

  it('a breaker over a failure ratio opens on an evenly spread fault that never gives failures in a row; window without failureRatio is refused', async () => {
    const sc = parseScenario(scenario('').replace('rate: 1500/s', 'rate: 300/s'), 'r.yaml');
    const fault = { abort: { status: 503, percent: 40 } } as const;
    const inARow = await simulatePolicy({ label: 'a', name: 'a', config: { breaker: { failures: 5, openFor: '1s' } }, fault }, sc);
    expect(inARow.refused['circuit_open'] ?? 0).toBe(0);
    const ratio = await simulatePolicy({ label: 'r', name: 'r', config: { breaker: { failureRatio: 0.3, window: '2s', minimumCalls: 10, openFor: '1s' } }, fault }, sc);
    expect(ratio.refused['circuit_open']).toBeGreaterThan(0);
    const bad = { upstreams: { app: { url: 'http://127.0.0.1:1' } }, routes: [{ path: '/', policy: { breaker: { failures: 5, window: '2s' } } }] };
    expect(() => resolveConfig(bad)).toThrow(/breaker\.window: expected no window without failureRatio/);
  });

  it('docs/scenarios/game-day.yaml: the breaker turns the outage into fast refusals and spares the upstream; the budget denies retries', async () => {
    const out = new Sink();
    const code = await simulateCommand(['--scenario', join(root, 'docs/scenarios/game-day.yaml'), '--policy', `${join(root, 'docs/scenarios/game-day-policies.yaml')}#bare`, '--policy', `${join(root, 'docs/scenarios/game-day-policies.yaml')}#guarded`, '--json'], out, new Sink());
    expect(code).toBe(0);
    const runs = (JSON.parse(out.text) as { runs: { label: string; refused: Record<string, number>; failed: number; budgetDenied: number; faults: { aborted: number } }[] }).runs;
    const [bare, guarded] = runs;
    expect(bare!.refused['circuit_open'] ?? 0).toBe(0);
    expect(guarded!.refused['circuit_open']).toBeGreaterThan(0);
    expect(guarded!.failed).toBeLessThan(bare!.failed / 2);
    for (const r of runs) {
      expect(r.faults.aborted).toBeGreaterThan(0);
      expect(r.budgetDenied).toBeGreaterThan(0);
    }
  });
});

describe('sluice simulate', { timeout: 120_000 }, () => {
  it('prints two policies side by side and writes a self-contained HTML report', async () => {
    const dir = tempDir();
    const scFile = join(dir, 'sc.yaml');
    writeFileSync(scFile, scenario());
    const html = join(dir, 'report.html');
    const out = new Sink();
    const err = new Sink();
    const policies = join(root, 'docs/scenarios/policies.yaml');
    const code = await simulateCommand(['--scenario', scFile, '--policy', `${policies}#fixed`, '--policy', `${policies}#adaptive`, '--html', html], out, err);
    expect(err.text).toBe('');
    expect(code).toBe(0);
    expect(out.text).toMatch(/^\s+policies\.yaml#fixed\s+policies\.yaml#adaptive$/m);
    expect(out.text).toMatch(/^goodput, mean \/s\s+\d+\s+\d+$/m);
    expect(out.text).toMatch(/^M10 @5\.0s arrivals 1500\/s > capacity 1000\/s\s+(\d+ ms|no reaction)\s+\d+ ms$/m);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('uPlot');
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?https?:/); // nothing fetched
    for (const id of ['goodput', 'latency', 'limit', 'refused', 'queue']) expect(page).toContain(`id="${id}"`);
  });

  it('a config with store: (Redis) is simulated in memory and says so, on stderr and in the report; it was silent (ops-sim)', async () => {
    const dir = tempDir();
    const scFile = join(dir, 'sc.yaml');
    writeFileSync(scFile, scenario());
    const conf = join(dir, 'sluice.yaml');
    writeFileSync(conf, `store: { url: "redis://ops:s3cret@127.0.0.1:6379/2", onStoreError: closed }\n${readFileSync(join(root, 'docs/scenarios/policies.yaml'), 'utf8')}`);
    const html = join(dir, 'report.html');
    const err = new Sink();
    expect(await simulateCommand(['--scenario', scFile, '--policy', `${conf}#fixed`, '--html', html], new Sink(), err)).toBe(0);
    const note = "store left out: the limits shared through redis://ops:***@127.0.0.1:6379/2 are kept in memory, as if one gateway took all of the scenario's traffic; the store's latency, timeouts and outages (onStoreError: closed) are not simulated";
    expect(err.text).toBe(`sluice.yaml#fixed: ${note}\n`);
    expect(readFileSync(html, 'utf8')).toContain(`<li>sluice.yaml#fixed: ${note.replaceAll("'", '&#39;')}</li>`);
    expect(err.text).not.toContain('s3cret');
  });

  it('an --html path it cannot write is refused before any policy runs: it failed after every run (EISDIR), and a FIFO hung the command (hostile-ops)', async () => {
    const dir = tempDir();
    const scFile = join(dir, 'sc.yaml');
    writeFileSync(scFile, scenario());
    const policies = join(root, 'docs/scenarios/policies.yaml');
    const fifo = join(dir, 'report.fifo');
    mkfifoSync(fifo);
    for (const [path, why] of [
      [dir, 'a directory: EISDIR'],
      [join(dir, 'nope', 'report.html'), 'its directory does not exist: ENOENT'],
      [fifo, 'a FIFO nobody reads: ENXIO'],
    ] as const) {
      const out = new Sink();
      await expect(simulateCommand(['--scenario', scFile, '--policy', policies, '--html', path], out, new Sink())).rejects.toThrow(`--html: expected a file it can write, received ${JSON.stringify(path)} (${why})`);
      expect(out.text).toBe(''); // nothing ran
    }
  });

  it('a config or scenario mistake: exit 2 with the messages; a missing policy name lists the known ones', async () => {
    const dir = tempDir();
    const scFile = join(dir, 'sc.yaml');
    writeFileSync(scFile, scenario('\n    retry: { attempts: 3, backof: none }'));
    const err = new Sink();
    const policies = join(root, 'docs/scenarios/policies.yaml');
    expect(await simulateCommand(['--scenario', scFile, '--policy', policies], new Sink(), err)).toBe(2);
    expect(err.text).toContain('clients[0].retry.backof: expected one of the keys');
    writeFileSync(scFile, scenario());
    const err2 = new Sink();
    expect(await simulateCommand(['--scenario', scFile, '--policy', `${policies}#nope`], new Sink(), err2)).toBe(2);
    expect(err2.text).toContain('#nope: expected a policy or route name (fixed, adaptive, api), found "nope"');
  });

  it('a scenario or policy file over 1 MB is refused at once (exit 2), as the gateway refuses such a config', async () => {
    const dir = tempDir();
    const scFile = join(dir, 'sc.yaml');
    const big = `${scenario()}${'# padding\n'.repeat(120_000)}`;
    writeFileSync(scFile, big);
    const policies = join(root, 'docs/scenarios/policies.yaml');
    const err = new Sink();
    expect(await simulateCommand(['--scenario', scFile, '--policy', policies], new Sink(), err)).toBe(2);
    expect(err.text).toBe(`${scFile}: (document): expected a file of at most 1048576 bytes, found ${big.length} bytes\n`);
    writeFileSync(scFile, scenario());
    const bigPolicy = join(dir, 'sluice.yaml');
    writeFileSync(bigPolicy, `${readFileSync(policies, 'utf8')}${'# padding\n'.repeat(120_000)}`);
    const err2 = new Sink();
    expect(await simulateCommand(['--scenario', scFile, '--policy', bigPolicy], new Sink(), err2)).toBe(2);
    expect(err2.text).toContain(`${bigPolicy}: (document): expected a file of at most 1048576 bytes, found`);
  });
});
