/**
 * `sluice sim-adaptive` (`npm run sim:adaptive`): adaptive concurrency limits against a
 * simulated server with a knee, in virtual time; prints the measured table and the goals.
 */
import { commandFlags, durationFlag, numberFlag } from './args.js';
import { ADAPTIVE_SIM_DEFAULTS } from '../sim/adaptive.js';
import type { AdaptiveSimOptions, PhaseResult } from '../sim/adaptive.js';
import { relativeLoad, runAdaptiveSuite, unloadedFor } from '../sim/adaptive-suite.js';
import type { SuiteResult } from '../sim/adaptive-suite.js';
import { formatTable } from './table.js';

const D = ADAPTIVE_SIM_DEFAULTS;
const HELP = `Usage: sluice sim-adaptive [options]

A server that runs --capacity requests at --latency each and shares itself beyond that
knee (latency = L x max(1, inFlight / C)), driven open-loop at 0.5x-10x its capacity and
through steps in load and server speed, behind a ConcurrencyGate with no limit, a fixed
limit at the knee, and the AIMD, Vegas and Gradient2 algorithms (windowed). Virtual time.
Durations carry their unit (20ms, 15s, 1m); a bare number is refused.

Options:
  --capacity N          the knee: requests served at full speed   (default ${D.capacity})
  --latency D           service time below the knee                (default ${D.baseLatencyMs}ms)
  --timeout D           client timeout                             (default ${D.clientTimeoutMs}ms)
  --phase D             length of each phase, simulated            (default ${D.phaseMs / 1000}s)
  --steady D            tail of each phase measured as steady      (default ${D.steadyMs / 1000}s)
  --arrivals KIND       poisson | constant                         (default ${D.arrivals})
  --aimd-tolerance X    AIMD rttTolerance, x its no-load RTT       (default ${D.aimdTolerance})
  --aimd-backoff X      AIMD backoffRatio                          (default ${D.aimdBackoff})
  --gradient2-tolerance X  Gradient2 rttTolerance                  (default ${D.gradient2Tolerance})
  --seed N              PRNG seed                                  (default ${D.seed})
  --json                print the results as JSON
  -h, --help            this text
`;

export function simAdaptiveCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): number {
  const values = commandFlags(argv, HELP, out, ['capacity', 'latency', 'timeout', 'phase', 'steady', 'arrivals', 'aimd-tolerance', 'aimd-backoff', 'gradient2-tolerance', 'seed']);
  if (values === undefined) return 0;
  const num = numberFlag;
  const arrivals = values.arrivals ?? D.arrivals;
  if (arrivals !== 'poisson' && arrivals !== 'constant') throw new Error(`--arrivals: expected poisson or constant, received ${JSON.stringify(arrivals)}`);
  const phaseMs = durationFlag('phase', values.phase, 1000, 3_600_000) ?? D.phaseMs;
  const options: AdaptiveSimOptions = {
    capacity: Math.round(num('capacity', values.capacity, D.capacity, 1)),
    baseLatencyMs: durationFlag('latency', values.latency, 0.01, 60_000) ?? D.baseLatencyMs,
    clientTimeoutMs: durationFlag('timeout', values.timeout, 0.01, 600_000) ?? D.clientTimeoutMs,
    phaseMs,
    steadyMs: durationFlag('steady', values.steady, 100, phaseMs) ?? D.steadyMs,
    arrivals,
    aimdTolerance: num('aimd-tolerance', values['aimd-tolerance'], D.aimdTolerance, 1),
    aimdBackoff: num('aimd-backoff', values['aimd-backoff'], D.aimdBackoff, 0.5, 0.999),
    gradient2Tolerance: num('gradient2-tolerance', values['gradient2-tolerance'], D.gradient2Tolerance, 1),
    seed: Math.round(num('seed', values.seed, D.seed, 0)),
  };
  const started = performance.now();
  const suite = runAdaptiveSuite(options);
  const wallSec = (performance.now() - started) / 1000;
  if (values.json) {
    out.write(`${JSON.stringify({ ...suite, wallClockSec: Number(wallSec.toFixed(2)) }, null, 2)}\n`);
    return 0;
  }
  out.write(renderSuite(suite));
  const simulatedSec = new Set(suite.results.map((r) => `${r.scenario}|${r.limiter}`)).size;
  out.write(`\n${simulatedSec} runs simulated in ${wallSec.toFixed(1)} s of wall-clock time.\n`);
  return 0;
}

export function renderSuite(s: SuiteResult): string {
  const o = s.options;
  const perSec = (o.capacity / o.baseLatencyMs) * 1000;
  const lines: string[] = [];
  lines.push(
    `sluice sim-adaptive — server knee ${o.capacity} concurrent at ${o.baseLatencyMs} ms (${perSec.toLocaleString('en-US')} req/s); ` +
      `${o.arrivals} arrivals; client timeout ${o.clientTimeoutMs} ms; phases of ${o.phaseMs / 1000} s, steady state = last ${o.steadyMs / 1000} s.`,
    `Limiters (ConcurrencyGate, no wait queue): none; fixed = ${o.capacity}; aimd, vegas, gradient2 = WindowedLimit(algorithm) with defaults` +
      `${o.aimdTolerance !== D.aimdTolerance ? `, aimd rttTolerance ${o.aimdTolerance}` : ''}` +
      `${o.aimdBackoff !== D.aimdBackoff ? `, aimd backoffRatio ${o.aimdBackoff}` : ''}` +
      `${o.gradient2Tolerance !== D.gradient2Tolerance ? `, gradient2 rttTolerance ${o.gradient2Tolerance}` : ''}.`,
    `Unloaded p99 (no limit, 0.5x): ${s.unloadedP99Ms.toFixed(1)} ms.`,
    '',
  );
  const header = ['phase', 'limiter', 'converge', 'limit', '/knee', 'range', 'osc', 'trend/s', 'goodput', 'rejected', 'p99 ms', 'p99/unl'];
  const scenarios = [...new Set(s.results.map((r) => r.scenario))];
  const steady = scenarios.filter((n) => n.startsWith('steady'));
  const steps = scenarios.filter((n) => !n.startsWith('steady'));
  lines.push('Steady load (converge: from the start, initial limits are the algorithms\' defaults)', '');
  lines.push(formatTable(header, s.results.filter((r) => steady.includes(r.scenario)).map((r) => row(r, s, r.phase))));
  lines.push('Steps (converge: from the step)', '');
  // Phase-major: every limiter's row for one phase together.
  const phaseOrder = [...new Set(s.results.map((r) => `${r.scenario} ${r.phase}`))];
  const stepRows = s.results.filter((r) => steps.includes(r.scenario));
  stepRows.sort((x, y) => phaseOrder.indexOf(`${x.scenario} ${x.phase}`) - phaseOrder.indexOf(`${y.scenario} ${y.phase}`));
  lines.push(formatTable(header, stepRows.map((r) => row(r, s, `${r.scenario} ${r.phase}`))));
  lines.push(
    'converge: time until the enforced limit stays within ±10% of the phase\'s knee to the end of the phase ("—": it does not).',
    'limit, range, osc = (max − min) / mean, trend: over the steady window. goodput: answers within the client timeout / capacity.',
    'p99: server latency of admitted requests finishing in the steady window (n/a: none finished); p99/unl: ÷ the unloaded p99 of the phase\'s server.',
    '',
    'Goals',
    '',
  );
  lines.push(formatTable(['goal', 'limiter', 'met', 'measured'], s.goals.map((g) => [g.goal, g.limiter, g.met ? 'yes' : 'NO', g.figure])));
  return lines.join('\n');
}

function row(r: PhaseResult, s: SuiteResult, label: string): string[] {
  const o = s.options;
  const unlimited = r.limiter === 'none';
  const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
  const rel = relativeLoad(r, o.capacity, o.baseLatencyMs);
  return [
    `${label}${rel !== r.load ? ` (${Number(rel.toFixed(2))}x)` : ''}`,
    r.limiter,
    unlimited ? '' : r.convergeMs === null ? '—' : `${(r.convergeMs / 1000).toFixed(1)} s`,
    unlimited ? '∞' : r.limitMean.toFixed(1),
    unlimited ? '' : (r.limitMean / r.knee).toFixed(2),
    unlimited ? '' : `${r.limitMin}–${r.limitMax}`,
    unlimited ? '' : pct(r.oscillation),
    unlimited ? '' : r.trendPerSec.toFixed(2),
    pct(r.goodput),
    pct(r.rejected),
    Number.isNaN(r.p99Ms) ? 'n/a' : r.p99Ms.toFixed(1),
    Number.isNaN(r.p99Ms) ? '' : `${(r.p99Ms / unloadedFor(r, s.unloadedP99Ms, o.baseLatencyMs)).toFixed(2)}x`,
  ];
}
