/**
 * `sluice sim-resilience` (`npm run sim:resilience`): a dependency that fails for 30
 * simulated seconds, then recovers, against five client stacks (naive retry; backoff +
 * budget; + breaker; + adaptive throttle; the throttle alone). Virtual time; prints the
 * measured table.
 */
import { parseArgs } from 'node:util';
import { numberFlag } from './args.js';
import { RESILIENCE_DEFAULTS, RESILIENCE_SCENARIOS, simulateResilience } from '../sim/resilience.js';
import type { ResilienceResult } from '../sim/resilience.js';
import { formatTable } from './table.js';

const D = RESILIENCE_DEFAULTS;
const HELP = `Usage: sluice sim-resilience [options]

Clients issue --rate logical requests/s for --duration simulated seconds against a
dependency (--latency ms per call) that fails from --outage-start for --outage seconds,
then recovers. Each client stack runs the same scenario through sluice's RetryPolicy,
RetryBudget, CircuitBreaker and AdaptiveThrottle. Virtual time: runs in about a second.

Options:
  --rate N            logical requests per second            (default ${D.ratePerSec})
  --duration S        simulated seconds                       (default ${D.durationSec})
  --outage-start S    when the dependency starts failing, s   (default ${D.outageStartSec})
  --outage S          how long it fails, s                    (default ${D.outageSec})
  --failure-rate X    share of calls failing meanwhile (0..1] (default ${D.failureRate}; < 1: a brownout)
  --latency MS        the dependency's latency, ms            (default ${D.latencyMs})
  --deadline MS       deadline of one logical request, ms     (default ${D.deadlineMs})
  --seed N            PRNG seed                               (default ${D.seed})
  --json              print the results as JSON (with a per-second timeline)
  -h, --help          this text
`;

export async function simResilienceCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      'outage-start': { type: 'string' },
      outage: { type: 'string' },
      'failure-rate': { type: 'string' },
      latency: { type: 'string' },
      deadline: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    out.write(HELP);
    return 0;
  }
  const num = numberFlag;
  const options = {
    ratePerSec: num('rate', values.rate, D.ratePerSec, 1, 10_000),
    durationSec: num('duration', values.duration, D.durationSec, 1, 3_600),
    outageStartSec: num('outage-start', values['outage-start'], D.outageStartSec, 0),
    outageSec: num('outage', values.outage, D.outageSec, 0),
    failureRate: num('failure-rate', values['failure-rate'], D.failureRate, Number.MIN_VALUE, 1),
    latencyMs: num('latency', values.latency, D.latencyMs, 0),
    deadlineMs: num('deadline', values.deadline, D.deadlineMs, 1),
    seed: Math.floor(num('seed', values.seed, D.seed, 0)),
  };
  if (options.outageStartSec + options.outageSec > options.durationSec) {
    throw new Error(`--outage-start + --outage (${options.outageStartSec + options.outageSec} s) must end within --duration (${options.durationSec} s)`);
  }
  const started = performance.now();
  const results: ResilienceResult[] = [];
  for (const s of RESILIENCE_SCENARIOS) results.push(await simulateResilience(s, options));
  const wallSec = (performance.now() - started) / 1000;
  if (values.json) {
    out.write(`${JSON.stringify({ command: `npm run sim:resilience${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`, options, results }, (_k, v: unknown) => (v === undefined ? null : v), 2)}\n`);
    return 0;
  }
  const o = options;
  const outage = o.failureRate >= 1 ? 'fails every call' : `fails ${Math.round(o.failureRate * 100)}% of calls`;
  out.write(
    `sluice sim-resilience — ${o.ratePerSec} requests/s for ${o.durationSec} s; the dependency (${o.latencyMs} ms) ${outage} ` +
      `from ${o.outageStartSec} s to ${o.outageStartSec + o.outageSec} s\n\n`,
  );
  out.write(renderResilience(results));
  out.write(`\nSimulated in ${wallSec.toFixed(2)} s of wall-clock time (virtual clock, seed ${o.seed}).\n\n`);
  out.write(
    [
      'attempts: calls that reached the dependency; amplification: attempts / logical requests.',
      'sent while down / amp. while down: the same, counted during the outage only.',
      'detect: outage start → first local refusal (breaker opened, retry budget refused, throttle refused).',
      'recover: dependency back → first 500 ms bucket from which newly issued requests succeed at >= 95% ("never": not within the run).',
      ...results.map((r) => `${r.label}: ${r.about}.`),
    ].join('\n') + '\n',
  );
  return 0;
}

export function renderResilience(results: readonly ResilienceResult[]): string {
  const ms = (v: number | undefined, none: string): string => (v === undefined ? none : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);
  const n = (v: number): string => v.toLocaleString('en-US');
  return formatTable(
    ['client stack', 'logical', 'succeeded', 'attempts', 'amplification', 'sent while down', 'amp. while down', 'detect', 'recover'],
    results.map((r) => [
      r.label,
      n(r.logical),
      n(r.succeeded),
      n(r.attempts),
      `${r.amplification.toFixed(2)}x`,
      n(r.attemptsWhileDown),
      `${r.amplificationWhileDown.toFixed(2)}x`,
      ms(r.detectMs, 'never'),
      ms(r.recoverMs, 'never'),
    ]),
  );
}
