/**
 * `sluice simulate`: rehearse a policy — the same YAML the gateway reads — against a scenario
 * file on the virtual clock. Prints a table (policies side by side) and, with --html, writes
 * a self-contained report with charts over time.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { uplotAssets, UPLOT_MISSING } from '../dashboard/uplot-assets.js';
import type { UplotAssets } from '../dashboard/uplot-assets.js';
import { redactUrl } from '../core/redact-url.js';
import { GatewayConfigError } from '../gateway/config-error.js';
import { checkText, readConfigText } from '../gateway/load-config.js';
import type { ResolvedConfig } from '../gateway/resolved-config.js';
import { simulatePolicy } from '../sim/policy-sim.js';
import type { PolicyRun, SimPolicy } from '../sim/policy-sim.js';
import { reportHtml } from '../sim/report-html.js';
import { parseScenario } from '../sim/scenario.js';
import type { Scenario } from '../sim/scenario.js';
import { commandFlags } from './args.js';
import { formatTable } from './table.js';

const HELP = `Usage: sluice simulate --scenario FILE --policy SPEC [--policy SPEC] [options]

Runs each policy against the scenario on a virtual clock (minutes of traffic in seconds)
and prints a table, policies side by side. The scenario format: docs/simulate.md and
docs/scenario.schema.json.

SPEC is a gateway config file (sluice.yaml), optionally with #NAME: the policy named NAME
under policies:, or the policy of the route named NAME. Without #NAME: the first route's policy.

Options:
  --scenario FILE   the scenario (YAML or JSON)
  --policy SPEC     a policy to run; give it twice to compare two
  --html FILE       also write a self-contained HTML report with charts (needs uplot installed)
  --json            print the results as JSON (with every sample) instead of the table
  -h, --help        this text
`;

export async function simulateCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const values = commandFlags(argv, HELP, out, ['scenario', 'html'], ['policy']);
  if (values === undefined) return 0;
  if (values.scenario === undefined) throw new Error('--scenario: expected a scenario file, received nothing');
  const specs = values.policy ?? [];
  if (specs.length === 0) throw new Error('--policy: expected a config file (sluice.yaml[#name]), received nothing');
  let policies: SimPolicy[];
  let scenario;
  try {
    // As the gateway reads its config: a regular file of at most MAX_CONFIG_BYTES (a 50 MB
    // scenario was parsed for minutes; a FIFO blocked the command).
    scenario = parseScenario(await readConfigText(values.scenario), values.scenario);
    policies = await Promise.all(specs.map(policyOf));
  } catch (e) {
    if (!(e instanceof GatewayConfigError)) throw e;
    err.write(`${e.message}\n`);
    return 2;
  }
  const uplot = values.html === undefined ? undefined : uplotAssets();
  if (values.html !== undefined && uplot === undefined) throw new Error(`--html: ${UPLOT_MISSING}`);
  // Opened before the runs: a report path that cannot be written (a directory, a missing
  // directory) failed only after every policy had run, which takes minutes for a long scenario.
  const report = values.html === undefined ? undefined : { file: values.html, handle: await openReport(values.html), uplot: uplot! };
  try {
    return await runAndReport(policies, scenario, values.json === true, report, out, err);
  } finally {
    await report?.handle.close();
  }
}

interface Report {
  readonly file: string;
  readonly handle: FileHandle;
  readonly uplot: UplotAssets;
}

async function runAndReport(policies: readonly SimPolicy[], scenario: Scenario, json: boolean, report: Report | undefined, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const runs: PolicyRun[] = [];
  for (const p of policies) runs.push(await simulatePolicy(p, scenario));
  const table = summaryTable(runs);
  if (json) out.write(`${JSON.stringify({ scenario, runs }, null, 2)}\n`);
  else out.write(`scenario ${scenario.name}: ${(scenario.durationMs / 1000).toFixed(0)} s simulated\n\n${table}`);
  for (const r of runs) for (const n of r.notes) err.write(`${r.label}: ${n}\n`);
  if (report !== undefined) {
    await report.handle.writeFile(reportHtml(scenario, runs, table, report.uplot));
    if (!json) out.write(`\nreport: ${report.file}\n`);
  }
  return 0;
}

/** The report file, opened for writing (non-blocking: a FIFO without a reader is refused, not waited on). */
async function openReport(file: string): Promise<FileHandle> {
  try {
    return await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NONBLOCK, 0o666);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    const why = code === 'EISDIR' ? 'a directory' : code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' ? 'not allowed' : code === 'ENXIO' ? 'a FIFO nobody reads' : code;
    throw new Error(`--html: expected a file it can write, received ${JSON.stringify(file)} (${why}: ${code})`);
  }
}

async function policyOf(spec: string): Promise<SimPolicy> {
  const hash = spec.lastIndexOf('#');
  const file = hash < 0 ? spec : spec.slice(0, hash);
  const name = hash < 0 ? undefined : spec.slice(hash + 1);
  const c: ResolvedConfig = checkText(await readConfigText(file), file);
  const byPolicy = name === undefined ? undefined : c.policies.get(name);
  const route = name === undefined ? c.routes.find((r) => r.policy !== undefined) : c.routes.find((r) => r.name === name);
  const p = byPolicy ?? route?.policy;
  if (p === undefined) {
    const known = [...c.policies.keys(), ...c.routes.filter((r) => r.policy !== undefined).map((r) => r.name)];
    const expected = name === undefined ? 'a route with a policy' : `a policy or route name (${known.join(', ') || 'none has a policy'})`;
    throw new GatewayConfigError(file, [{ path: name === undefined ? 'routes' : `#${name}`, line: undefined, expected, found: name === undefined ? 'none' : JSON.stringify(name) }]);
  }
  const label = `${file.replace(/^.*\//, '')}#${name ?? p.name}`;
  // The route's game-day fault: the named route's, else the first route's with this policy that has one.
  const faultRoute = route !== undefined && byPolicy === undefined ? route : c.routes.find((r) => r.policy === p && r.fault !== undefined);
  const store = c.store === undefined ? undefined : { url: redactUrl(c.store.url), onStoreError: c.store.onStoreError };
  return { label, name: p.name, config: p.config, trustProxy: c.trustProxy, fault: faultRoute?.fault, store };
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** Rows are figures, columns are policies. */
export function summaryTable(runs: readonly PolicyRun[]): string {
  const rows: string[][] = [];
  const row = (name: string, f: (r: PolicyRun) => string): void => {
    rows.push([name, ...runs.map(f)]);
  };
  const secs = (r: PolicyRun): number => r.samples.length * (r.samples.length > 1 ? r.samples[1]!.t - r.samples[0]!.t : 1);
  row('requests (logical)', (r) => String(r.logical));
  row('attempts (retries incl.)', (r) => `${r.attempts} (x${fmt(r.attempts / Math.max(1, r.logical), 2)})`);
  row('succeeded', (r) => `${r.succeeded} (${fmt((100 * r.succeeded) / Math.max(1, r.logical), 1)}%)`);
  row('goodput, mean /s', (r) => fmt(r.succeeded / secs(r)));
  row('latency p50 / p99, ms', (r) => `${fmt(r.p50Ms, 1)} / ${fmt(r.p99Ms, 1)}`);
  row('timeouts (client gave up)', (r) => String(r.timeouts));
  row('upstream failures (5xx)', (r) => String(r.failed));
  const reasons = [...new Set(runs.flatMap((r) => Object.keys(r.refused)))].sort();
  for (const k of reasons) row(`refused: ${k}`, (r) => String(r.refused[k as keyof typeof r.refused] ?? 0));
  if (runs.some((r) => r.shadowRefused > 0)) row('shadow: would have refused', (r) => String(r.shadowRefused));
  if (runs.some((r) => r.faults !== undefined)) row('injected faults: aborted / delayed', (r) => (r.faults === undefined ? '-' : `${r.faults.aborted} / ${r.faults.delayed}`));
  if (runs.some((r) => r.budgetDenied > 0)) row('retries denied by the budget', (r) => String(r.budgetDenied));
  const onsets = runs[0]?.onsets ?? [];
  onsets.forEach((o, i) =>
    row(`M10 @${fmt(o.atMs / 1000, 1)}s ${o.what}`, (r) => {
      const ms = r.onsets[i]?.signalMs;
      return ms === undefined ? 'no reaction' : `${fmt(ms, 0)} ms`;
    }),
  );
  row('M10 episodes (sampled), p50 / max', (r) => {
    if (r.episodes.length === 0) return 'none';
    const s = [...r.episodes].sort((a, b) => a - b);
    return `${r.episodes.length}: ${fmt(s[Math.floor((s.length - 1) / 2)]! * 1000)} / ${fmt(s[s.length - 1]! * 1000)} ms`;
  });
  return formatTable(['', ...runs.map((r) => r.label)], rows);
}
