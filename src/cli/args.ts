/**
 * Reading command-line values: one message template naming the flag, the range and the value.
 * Durations follow the one convention of every config and scenario file: a unit is required
 * (`100ms`, `6s`, `1.5m`, `1h`, `1d`) and a bare number is refused, so `--duration 6` is an
 * error rather than a guess between seconds and milliseconds. A value is taken as written:
 * one with spaces around it (`" 5s "`, `" 5"`) is refused, as in a config file, where the
 * schema's patterns refuse it (until session 18 a duration flag was trimmed, a number read
 * through Number(), which skips them, while the gateway's integer flags refused them).
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { describeDurationRange, parseDuration } from '../gateway/units.js';
import { quotedValue } from '../core/redact-url.js';

/** A sub-command's flags as read: its value flags, its repeatable ones, and `--json`. */
export type CommandFlags<S extends string, L extends string> = { readonly [K in S]?: string } & { readonly [K in L]?: string[] } & { readonly json: boolean };

/**
 * The preamble the simulation and demo commands share: node:util parseArgs, strict (an
 * unknown flag or a positional argument throws), over the command's own value flags (`lists`
 * may be given more than once) plus `--json` and `-h`/`--help`. Help writes `help` to `out`
 * and answers undefined: the command then exits 0.
 */
export function commandFlags<const S extends string, const L extends string = never>(
  argv: string[],
  help: string,
  out: NodeJS.WritableStream,
  flags: readonly S[],
  lists: readonly L[] = [],
): CommandFlags<S, L> | undefined {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const name of flags) options[name] = { type: 'string' };
  for (const name of lists) options[name] = { type: 'string', multiple: true };
  options.json = { type: 'boolean', default: false };
  options.help = { type: 'boolean', short: 'h', default: false };
  const { values, tokens } = parseArgs({ args: argv, options, strict: true, tokens: true });
  // node:util keeps the last of a flag given twice without a word (`--duration 1s --duration 2s`
  // ran 2s): refused, naming it, as the gateway's flags are; list flags repeat by design.
  const seen = new Map<string, (string | undefined)[]>();
  for (const t of tokens) {
    if (t.kind !== 'option' || (lists as readonly string[]).includes(t.name)) continue;
    const given = [...(seen.get(t.name) ?? []), t.value];
    if (given.length > 1) throw new Error(givenTwice(`--${t.name}`, options[t.name]?.type === 'string' ? given.map(String) : undefined));
    seen.set(t.name, given);
  }
  if (values.help === true) {
    out.write(help);
    return undefined;
  }
  return values as CommandFlags<S, L>;
}

/** The message for a flag given more than once: its values when it takes one. */
export function givenTwice(flag: string, values: readonly string[] | undefined): string {
  return values === undefined ? `${flag}: expected it once, given 2 times` : `${flag}: expected it once, received ${values.map(quotedValue).join(' and ')}`;
}

export function numberFlag(name: string, value: string | undefined, fallback: number, min: number, max = Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!asWritten(value) || !Number.isFinite(n) || n < min || n > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new Error(`--${name}: expected a number ${range}, received ${JSON.stringify(value)}`);
  }
  return n;
}

/** Milliseconds of a duration flag in [minMs, maxMs]; undefined when the flag is absent. */
export function durationFlag(name: string, value: string | undefined, minMs: number, maxMs: number): number | undefined {
  if (value === undefined) return undefined;
  const ms = asWritten(value) ? parseDuration(value) : undefined;
  if (ms === undefined || ms < minMs || ms > maxMs) throw new Error(`--${name}: expected ${describeDurationRange(minMs, maxMs)}, received ${JSON.stringify(value)}`);
  return ms;
}

/** Whether `value` is not empty and has no whitespace around it (which Number() would skip). */
export function asWritten(value: string): boolean {
  return value !== '' && value.trim() === value;
}
