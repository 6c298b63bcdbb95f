/**
 * `sluice strategies` (and, for now, `npm start`): runs the headline scenario once per
 * strategy and prints the measured table.
 */
import { SCENARIO_DEFAULTS, simulateStrategy, STRATEGIES } from '../sim/strategies.js';
import type { StrategyResult } from '../sim/strategies.js';
import { commandFlags, durationFlag, numberFlag } from './args.js';
import { formatTable } from './table.js';

const HELP = `Usage: sluice strategies [options]

Replays the source documents' scenario in virtual time: a producer at 10,000 events/s
against a consumer at 5,000/s for 60 simulated seconds, once per strategy.

Options:
  --producer N      producer events/s            (default ${SCENARIO_DEFAULTS.producerPerSec})
  --consumer N      consumer events/s            (default ${SCENARIO_DEFAULTS.consumerPerSec})
  --duration D      simulated time (60s, 2m)     (default ${SCENARIO_DEFAULTS.durationSec}s)
  --capacity N      bounded buffer capacity      (default ${SCENARIO_DEFAULTS.capacity})
  --burst N         token-bucket burst           (default ${SCENARIO_DEFAULTS.burst})
  --event-bytes N   assumed bytes per event      (default ${SCENARIO_DEFAULTS.eventBytes})
  --json            print the results as JSON
  -h, --help        this text
`;

export async function strategiesCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const values = commandFlags(argv, HELP, out, ['producer', 'consumer', 'duration', 'capacity', 'event-bytes', 'burst']);
  if (values === undefined) return 0;
  const num = numberFlag;
  const options = {
    producerPerSec: num('producer', values.producer, SCENARIO_DEFAULTS.producerPerSec, 1),
    consumerPerSec: num('consumer', values.consumer, SCENARIO_DEFAULTS.consumerPerSec, 1),
    durationSec: (durationFlag('duration', values.duration, 1000, 3_600_000) ?? SCENARIO_DEFAULTS.durationSec * 1000) / 1000,
    capacity: Math.floor(num('capacity', values.capacity, SCENARIO_DEFAULTS.capacity, 1)),
    burst: num('burst', values.burst, SCENARIO_DEFAULTS.burst, 1),
    eventBytes: num('event-bytes', values['event-bytes'], SCENARIO_DEFAULTS.eventBytes, 1),
  };
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  if (!values.json) {
    out.write(
      `sluice strategies — producer ${options.producerPerSec}/s vs consumer ${options.consumerPerSec}/s, ` +
        `${options.durationSec} s simulated, bounded capacity ${options.capacity}, token bucket ${options.consumerPerSec}/s burst ${options.burst}\n\n`,
    );
  }
  const results: StrategyResult[] = [];
  const started = performance.now();
  for (const strategy of STRATEGIES) {
    const t0 = performance.now();
    const result = await simulateStrategy(strategy, {
      ...options,
      onProgress: (p) => {
        if (values.json) return;
        const line = `  ${strategy.padEnd(12)} ${String(p.simulatedSec).padStart(3)} s  buffered ${String(p.buffered).padStart(7)}  delivered ${String(p.delivered).padStart(7)}`;
        if (tty) out.write(`\r${line}`);
        else if (p.simulatedSec % 20 === 0) out.write(`${line}\n`);
      },
    });
    results.push(result);
    if (!values.json) {
      const msg = `  ${strategy.padEnd(12)} done in ${((performance.now() - t0) / 1000).toFixed(2)} s (wall clock)`;
      out.write(tty ? `\r${msg.padEnd(70)}\n` : `${msg}\n`);
    }
  }
  if (values.json) {
    out.write(`${JSON.stringify({ options, results }, null, 2)}\n`);
    return 0;
  }
  out.write('\n');
  out.write(renderResults(results));
  out.write(`\nAll ${STRATEGIES.length} strategies simulated in ${((performance.now() - started) / 1000).toFixed(1)} s of wall-clock time.\n`);
  out.write(
    'Memory is a proxy: peak buffered events x assumed bytes per event. Delay: intended arrival to take.\n' +
      '"held at source": events the blocked producer had not produced yet (the backlog moved upstream).\n',
  );
  return 0;
}

export function renderResults(results: readonly StrategyResult[]): string {
  const mb = (b: number): string => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(0)} kB`);
  const ms = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
  return formatTable(
    ['strategy', 'peak buffer', 'memory (peak)', 'delivered', 'lost', 'rejected', 'held at source', 'buffered at end', 'delay p50', 'delay p99'],
    results.map((r) => [
      r.strategy,
      r.peakBuffer.toLocaleString('en-US'),
      mb(r.peakMemoryBytes),
      r.delivered.toLocaleString('en-US'),
      r.lost.toLocaleString('en-US'),
      r.rejected.toLocaleString('en-US'),
      r.heldAtSource.toLocaleString('en-US'),
      r.bufferedAtEnd.toLocaleString('en-US'),
      ms(r.delayP50Ms),
      ms(r.delayP99Ms),
    ]),
  );
}
