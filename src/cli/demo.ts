/**
 * `sluice demo` (what `npm start` runs): the demo upstream with a fixed capacity, open-loop
 * load stepped through multiples of it, straight at the upstream and then through the
 * gateway; a live progress line, then a table per phase.
 */
import { asWritten, commandFlags, durationFlag } from './args.js';
import type { GatewayMode } from '../demo/gateway-config.js';
import type { DemoOptions, DemoRun } from '../demo/options.js';
import { DEMO_DEFAULTS, resolveDemoOptions } from '../demo/options.js';
import { demoSummary, demoTables } from './demo-report.js';
import { runDemo } from '../demo/run-demo.js';

const HELP = `Usage: sluice demo [options]

Starts a demo upstream that serves ${DEMO_DEFAULTS.upstreamConcurrency} requests at once, ${DEMO_DEFAULTS.serviceMs} ms each (capacity 2,500 req/s;
beyond that requests queue inside it), and sends it open-loop load (a constant arrival rate,
whatever the answers) at 0.5x, 1x, 2x and 4x its capacity: once straight at it, once through
the sluice gateway (concurrency ${DEMO_DEFAULTS.upstreamConcurrency}, queue timeout ${DEMO_DEFAULTS.queueTimeoutMs} ms). Prints a table per phase.
The servers run in a child process; everything started is stopped at the end and on Ctrl-C.

Options:
  --duration D          length of each phase: 6s, 1500ms               (default ${DEMO_DEFAULTS.phaseMs / 1000}s)
  --total D             length of the whole demo, split over every phase of every run
  --phases LIST         multiples of capacity, in order                (default ${DEMO_DEFAULTS.phases.join(',')})
  --runs LIST           direct, gateway, or both in order              (default direct,gateway)
  --gateway MODE        the gateway's concurrency limit: fixed or adaptive (default ${DEMO_DEFAULTS.gatewayMode})
  --gateway-concurrency N  the gateway's limit (initial when adaptive) (default: the upstream's)
  --queue-timeout D     longest wait in the gateway's queue            (default ${DEMO_DEFAULTS.queueTimeoutMs}ms)
  --concurrency N       upstream requests in service at once           (default ${DEMO_DEFAULTS.upstreamConcurrency})
  --service-time D      upstream time per request                      (default ${DEMO_DEFAULTS.serviceMs}ms)
  --timeout D           the load generator abandons a request after    (default ${DEMO_DEFAULTS.timeoutMs / 1000}s)
  --max-sockets N       connections the load generator may open        (default ${DEMO_DEFAULTS.maxSockets})
  --warmup D            unmeasured load at the lowest phase before each run; 0s: none (default ${DEMO_DEFAULTS.warmupMs / 1000}s)
  --json                print the results as JSON
  -h, --help            this text

Durations carry their unit (100ms, 6s, 1.5m); a bare number is refused.
`;

function intFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!asWritten(value) || !Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected an integer >= 1, received ${JSON.stringify(value)}`);
  return n;
}

function listFlag(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export async function demoCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const values = commandFlags(argv, HELP, out, ['duration', 'total', 'phases', 'runs', 'gateway', 'gateway-concurrency', 'queue-timeout', 'concurrency', 'service-time', 'timeout', 'max-sockets', 'warmup']);
  if (values === undefined) return 0;
  if (values.duration !== undefined && values.total !== undefined) throw new Error('--duration and --total: give one of them, not both');
  const phases = listFlag(values.phases)?.map((p) => {
    const n = Number(p.replace(/x$/, ''));
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--phases: expected positive multiples such as 0.5,1,2,4, received ${JSON.stringify(values.phases)}`);
    return n;
  });
  const runs = listFlag(values.runs);
  if (runs?.some((r) => r !== 'direct' && r !== 'gateway')) throw new Error(`--runs: expected direct, gateway or direct,gateway, received ${JSON.stringify(values.runs)}`);
  const gatewayMode = values.gateway;
  if (gatewayMode !== undefined && gatewayMode !== 'fixed' && gatewayMode !== 'adaptive') throw new Error(`--gateway: expected fixed or adaptive, received ${JSON.stringify(gatewayMode)}`);
  const total = durationFlag('total', values.total, 100, 3_600_000);
  const phaseCount = (phases ?? DEMO_DEFAULTS.phases).length * (runs ?? DEMO_DEFAULTS.runs).length;
  const input: { -readonly [K in keyof DemoOptions]: DemoOptions[K] } = {};
  const phaseMs = total === undefined ? durationFlag('duration', values.duration, 100, 600_000) : total / phaseCount;
  if (phaseMs !== undefined) input.phaseMs = phaseMs;
  if (phases !== undefined) input.phases = phases;
  if (runs !== undefined) input.runs = runs as DemoRun[];
  if (gatewayMode !== undefined) input.gatewayMode = gatewayMode as GatewayMode;
  const set = <K extends keyof DemoOptions>(key: K, v: DemoOptions[K] | undefined): void => {
    if (v !== undefined) input[key] = v;
  };
  set('gatewayConcurrency', intFlag('gateway-concurrency', values['gateway-concurrency']));
  set('queueTimeoutMs', durationFlag('queue-timeout', values['queue-timeout'], 1, 600_000));
  set('upstreamConcurrency', intFlag('concurrency', values.concurrency));
  set('serviceMs', durationFlag('service-time', values['service-time'], 1, 60_000));
  set('timeoutMs', durationFlag('timeout', values.timeout, 1, 600_000));
  set('maxSockets', intFlag('max-sockets', values['max-sockets']));
  set('warmupMs', durationFlag('warmup', values.warmup, 0, 60_000));
  const o = resolveDemoOptions(input);

  const json = values.json;
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  const say = (s: string): void => {
    if (!json) out.write(s);
  };
  const seconds = o.phaseMs / 1000;
  const expected = ((o.phaseMs + o.warmupMs / o.phases.length) * o.phases.length * o.runs.length) / 1000;
  say(
    `sluice demo — upstream: ${o.upstreamConcurrency} in service x ${o.serviceMs} ms = ${Math.round(o.capacity).toLocaleString('en-US')} req/s capacity, unbounded queue inside\n` +
      `load: open loop (constant arrival rate), ${o.phases.map((p) => `${p}x`).join(', ')} for ${seconds} s each; requests abandoned after ${o.timeoutMs} ms\n` +
      `gateway: concurrency ${o.gatewayMode === 'adaptive' ? `adaptive (gradient2, from ${o.gatewayConcurrency})` : o.gatewayConcurrency}, queue timeout ${o.queueTimeoutMs} ms\n` +
      `warm-up: ${o.warmupMs === 0 ? 'none' : `${o.warmupMs / 1000} s at ${Math.min(...o.phases)}x before each run, not measured (connections opened, code compiled)`}\n` +
      `about ${Math.round(expected + o.runs.length * 3)} s; Ctrl-C stops everything\n`,
  );

  const controller = new AbortController();
  const onSigint = (): void => {
    say('\ninterrupted: stopping the servers\n');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  let line = '';
  try {
    const result = await runDemo(
      o,
      {
        onRunStart: (run, where) => {
          say(
            `\n${run === 'direct' ? 'straight at the upstream' : 'through the gateway'}: load → ${where.url}` +
              (where.adminUrl === undefined ? '' : `   admin: ${where.adminUrl}/metrics  ${where.adminUrl}/healthz  ${where.adminUrl}/status`) +
              ` (server pid ${where.pid ?? '?'})\n`,
          );
        },
        onProgress: (run, multiple, p) => {
          if (!tty || json) return;
          line = `  ${run.padEnd(7)} ${`${multiple}x`.padStart(4)}  ${(p.elapsedMs / 1000).toFixed(1).padStart(5)}/${seconds} s  sent ${p.sent}  ok ${p.ok}  refused ${p.rejected}  timed out/failed ${p.failed}  in flight ${p.inFlight}`;
          out.write(`\r${line.padEnd(100)}`);
        },
        onSettling: (run, backlog) => {
          if (!tty || json) return;
          out.write(`\r${`  ${run.padEnd(7)} the upstream is still working through ${backlog} requests left by the last phase`.padEnd(100)}`);
        },
        onPhaseEnd: (r) => {
          const msg = `  ${r.run.padEnd(7)} ${`${r.multiple}x`.padStart(4)}  done: goodput ${Math.round(r.goodput)}/s, p99 ${Number.isFinite(r.p99) ? Math.round(r.p99) : '—'} ms, refused ${Object.values(r.rejected).reduce((a, b) => a + b, 0)}, timed out ${r.timeouts}`;
          say(tty ? `\r${msg.padEnd(100)}\n` : `${msg}\n`);
        },
      },
      controller.signal,
    );
    if (json) {
      out.write(`${JSON.stringify(result, (k, v: unknown) => (k === 'rssSeriesMb' ? undefined : v), 2)}\n`);
      return 0;
    }
    say(`\n${demoTables(result.phases, seconds)}\n${demoSummary(result.phases, o.capacity)}\n\nTook ${result.seconds.toFixed(0)} s. How to read this: docs/demo.md\n`);
    return 0;
  } catch (err) {
    if (controller.signal.aborted) return 130;
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

