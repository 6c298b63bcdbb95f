#!/usr/bin/env node
/** The `sluice` command line. */
import { demoCommand } from './demo.js';
import { gatewayCommand } from './gateway.js';
import { strategiesCommand } from './strategies.js';
import { simAdaptiveCommand } from './sim-adaptive.js';
import { simResilienceCommand } from './sim-resilience.js';
import { simulateCommand } from './simulate.js';

const USAGE = `Usage: sluice <command> [options]

Commands:
  gateway      admission-control reverse proxy (flags or --config sluice.yaml; docs/gateway.md)
  demo         the demo upstream under open-loop overload, straight and through the gateway
               (about a minute; prints a table per load phase)
  strategies   replay the producer/consumer overload scenario per backpressure strategy
               (virtual time; prints the measured table)
  sim-adaptive adaptive concurrency limits (AIMD, Vegas, Gradient2) against a server with a knee
  sim-resilience  breaker, retry budget and adaptive throttling against a 30 s outage (virtual time)
  simulate     rehearse a gateway policy (or two, side by side) against a scenario file on the
               virtual clock; a table, and an HTML report with charts (docs/simulate.md)

Run 'sluice <command> --help' for the options of a command.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo':
      return demoCommand(rest);
    case 'gateway':
      return gatewayCommand(rest);
    case 'strategies':
      return strategiesCommand(rest);
    case 'sim-adaptive':
      return simAdaptiveCommand(rest);
    case 'sim-resilience':
      return simResilienceCommand(rest);
    case 'simulate':
      return simulateCommand(rest);
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`sluice: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sluice: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
