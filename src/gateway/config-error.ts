/**
 * A config that cannot be used: every problem found, each naming the file, the line, the key
 * path, what was expected and what was found —
 * `sluice.yaml:12: routes[0].policy.concurrency.queue: expected an integer >= 0, found -1`.
 */
import { InvalidArgumentError, isSluiceError, SluiceError } from '../core/errors.js';

/** One problem in a config. */
export interface ConfigIssue {
  /** Key path as written in messages: `routes[0].policy.concurrency.queue`; '' for the whole document. */
  readonly path: string;
  /** 1-based line; undefined when the config did not come from a file. */
  readonly line: number | undefined;
  readonly expected: string;
  readonly found: string;
}

export class GatewayConfigError extends SluiceError {
  readonly file: string;
  readonly issues: readonly ConfigIssue[];

  constructor(file: string, issues: readonly ConfigIssue[]) {
    checkArguments(file, issues);
    super('SLUICE_ERR_GATEWAY_CONFIG', issues.map((i) => formatIssue(file, i)).join('\n'));
    this.file = file;
    this.issues = issues;
  }

  override get name(): string {
    return 'GatewayConfigError';
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isSluiceError(value) && value.code === 'SLUICE_ERR_GATEWAY_CONFIG';
  }
}

/** The constructor is exported (a program may build one to report its own config's problems): name what it cannot take. */
function checkArguments(file: unknown, issues: unknown): void {
  if (typeof file !== 'string') throw new InvalidArgumentError('file', 'a string for new GatewayConfigError()', file);
  if (!Array.isArray(issues)) throw new InvalidArgumentError('issues', 'an array of ConfigIssue ({ path, expected, found }) for new GatewayConfigError()', issues);
  issues.forEach((i: unknown, n) => {
    const issue = i as Partial<ConfigIssue> | null;
    if (typeof issue !== 'object' || issue === null || typeof issue.path !== 'string' || typeof issue.expected !== 'string' || typeof issue.found !== 'string') {
      throw new InvalidArgumentError(`issues[${n}]`, 'a ConfigIssue ({ path, expected, found }) for new GatewayConfigError()', i);
    }
  });
}

export function formatIssue(file: string, i: ConfigIssue): string {
  const where = i.line === undefined ? file : `${file}:${i.line}`;
  return `${where}: ${i.path === '' ? '(document)' : i.path}: expected ${i.expected}, found ${i.found}`;
}

/** Characters of a string a message shows; the rest is counted, not echoed. */
const SHOWN_CHARS = 200;

/**
 * A string quoted as a message shows it, cut at 200 characters with its length: a value of a
 * megabyte (a pasted blob, a file of garbage) made each error, and each rejected reload's log
 * line, a megabyte long (hostile-ops).
 */
export function quoted(s: string): string {
  return s.length <= SHOWN_CHARS ? JSON.stringify(s) : `${JSON.stringify(s.slice(0, SHOWN_CHARS))}... (${s.length} characters)`;
}

/** A value as a message shows it. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return quoted(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  // "expected a list of at least 1 item(s), found a list" told nothing (hostile-ops).
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  // YAML's own types (yaml's tags): named as what they are, not as the mapping they are not.
  if (v instanceof Uint8Array) return `binary data (!!binary, ${v.length} bytes)`;
  if (v instanceof Date) return `a timestamp (${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`;
  if (v instanceof Set) return 'a set (!!set)';
  if (typeof v === 'bigint') return `${v} (a big integer)`;
  return 'a mapping';
}

/** `['routes', 0, 'policy']` as `routes[0].policy`. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (s.length <= SHOWN_CHARS && /^[A-Za-z_$][\w$-]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${quoted(s)}]`;
  }
  return out;
}
