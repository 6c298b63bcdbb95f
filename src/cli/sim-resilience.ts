/**
 * `sluice sim-resilience` (`npm run sim:resilience`): a dependency that fails for 30
 * simulated seconds, then recovers, against five client stacks (naive retry; backoff +
 * budget; + breaker; + adaptive throttle; the throttle alone). Virtual time; prints the
 * measured table.
 */
import { commandFlags, durationFlag, numberFlag } from './args.js';
import { RESILIENCE_DEFAULTS, RESILIENCE_SCENARIOS, simulateResilience } from '../sim/resilience.js';
import type { ResilienceResult } from '../sim/resilience.js';
import { formatTable } from './table.js';

const D = RESILIENCE_DEFAULTS;
const HELP = `Usage: sluice sim-resilience [options]

Clients issue --rate logical requests/s for --duration of simulated time against a
dependency (--latency per call) that fails from --outage-start for --outage, then
recovers. Each client stack runs the same scenario through sluice's RetryPolicy,
RetryBudget, CircuitBreaker and AdaptiveThrottle. Virtual time: runs in about a second.
Durations carry their unit (500ms, 30s, 2m); a bare number is refused.

Options:
  --rate N            logical requests per second            (default ${D.ratePerSec})
  --duration D        simulated time (60s, 2m)                (default ${D.durationSec}s)
  --outage-start D    when the dependency starts failing      (default ${D.outageStartSec}s)
  --outage D          how long it fails                       (default ${D.outageSec}s)
  --failure-rate X    share of calls failing meanwhile (0..1] (default ${D.failureRate}; < 1: a brownout)
  --latency D         the dependency's latency                (default ${D.latencyMs}ms)
  --deadline D        deadline of one logical request         (default ${D.deadlineMs}ms)
  --seed N            PRNG seed                               (default ${D.seed})
  --json              print the results as JSON (with a per-second timeline)
  -h, --help          this text
`;

export async function simResilienceCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const values = commandFlags(argv, HELP, out, ['rate', 'duration', 'outage-start', 'outage', 'failure-rate', 'latency', 'deadline', 'seed']);
  if (values === undefined) return 0;
  const num = numberFlag;
  const options = {
    ratePerSec: num('rate', values.rate, D.ratePerSec, 1, 10_000),
    durationSec: (durationFlag('duration', values.duration, 1000, 3_600_000) ?? D.durationSec * 1000) / 1000,
    outageStartSec: (durationFlag('outage-start', values['outage-start'], 0, 3_600_000) ?? D.outageStartSec * 1000) / 1000,
    outageSec: (durationFlag('outage', values.outage, 0, 3_600_000) ?? D.outageSec * 1000) / 1000,
    failureRate: num('failure-rate', values['failure-rate'], D.failureRate, Number.MIN_VALUE, 1),
    latencyMs: durationFlag('latency', values.latency, 0, 60_000) ?? D.latencyMs,
    deadlineMs: durationFlag('deadline', values.deadline, 1, 600_000) ?? D.deadlineMs,
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
