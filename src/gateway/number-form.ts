/**
 * How a config file writes its numbers. YAML 1.2 reads `1e300`, `0x10`, `0o17`, `+5`, `-0`,
 * `.inf` and `010` as numbers, and each passed the schema where its value fits (`0x10` is a
 * fine port): a value the operator did not mean to write, or did not mean that way, was taken
 * silently (hostile-3 leftover). Every number of the config is written in decimal digits with
 * an optional fraction — `8080`, `0.5` — and anything else is refused with its key and line,
 * before its value is judged.
 */
import type { Document, Node } from 'yaml';
import { formatPath } from './config-error.js';
import type { ConfigIssue } from './config-error.js';
import { yaml } from './peers.js';

/** Decimal digits, no leading zero, an optional fraction; a minus only before a number other than zero. */
const PLAIN_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const NEGATIVE_ZERO = /^-0(\.0+)?$/;

const STR_TAG = 'tag:yaml.org,2002:str';
const CORE_TAG = /^tag:yaml\.org,2002:/;

export const NUMBER_FORM_EXPECTED = 'a number in decimal digits (like 8080 or 0.5; no exponent, sign, leading zero, hex, octal or .inf)';

/**
 * What numberForms found: the issues, and every number's text as written, by key path
 * (`routes[0].cost`) — and every scalar whose tag YAML could not apply, with its tag.
 */
export interface NumberForms {
  readonly issues: ConfigIssue[];
  readonly written: ReadonlyMap<string, string>;
  /** Keys YAML read as numbers, by key path: as written, with why where a comma split a flow map (`{ limit: 1,000 }`). */
  readonly keys: ReadonlyMap<string, string>;
}

/**
 * The numbers of `doc` not written in plain decimal, as issues at their key paths. Each is
 * replaced in `value` (the document as JavaScript) by the text written, so the schema finds no
 * number there and the rules about that key do not run on a value the file did not mean:
 * one message per key. Every number's text is kept too: a message shows what was written
 * (`12345678901234567890`), not the double it was read as (`12345678901234567000`, `1e+22`).
 */
export function numberForms(doc: Document, text: string, lineOf: (offset: number) => number, value: unknown): NumberForms {
  const { isMap, isScalar, isSeq } = yaml();
  const issues: ConfigIssue[] = [];
  const written = new Map<string, string>();
  const keys = new Map<string, string>();
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (isMap(node)) {
      node.items.forEach((pair, i) => {
        if (!isScalar(pair.key)) return;
        const at = [...path, String(pair.key.value)];
        if (typeof pair.key.value === 'number') keys.set(formatPath(at), splitKey(node.flow === true ? node.items[i - 1] : undefined, pair, isScalar));
        walk(pair.value, at);
      });
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.tag !== undefined && node.tag !== STR_TAG) {
      // A tag the core schema cannot apply (`!!float 8080`: its float needs a fraction; `!weight 2`)
      // leaves the text as a string: a message shows the tag, or `"8080"` reads like a valid port.
      written.set(formatPath(path), `${node.tag.replace(CORE_TAG, '!!')} ${node.source ?? node.value} (a tag YAML could not apply to the value: read as a string)`);
    } else if (isScalar(node) && typeof node.value === 'number') {
      const range = (node as Node).range;
      if (range === undefined || range === null) return;
      const as = text.slice(range[0], range[1]).trim();
      written.set(formatPath(path), as);
      if (!PLAIN_NUMBER.test(as) || NEGATIVE_ZERO.test(as)) {
        issues.push({ path: formatPath(path), line: lineOf(range[0]), expected: NUMBER_FORM_EXPECTED, found: as });
        replace(value, path, as);
      }
    }
  };
  walk(doc.contents, []);
  return { issues, written, keys };
}

type Pair = { readonly key: unknown; readonly value: unknown };

/** A numeric key as written; after a number in a flow map with no value of its own, the comma that made it. */
function splitKey(before: Pair | undefined, pair: Pair, isScalar: (n: unknown) => n is { source?: string; value: unknown }): string {
  const key = isScalar(pair.key) ? (pair.key.source ?? String(pair.key.value)) : '';
  if (before === undefined || pair.value !== null || !isScalar(before.key) || !isScalar(before.value) || typeof before.value.value !== 'number') return key;
  const prev = `${String(before.key.value)}: ${before.value.source ?? String(before.value.value)}`;
  return `${key} (YAML read "${prev},${key}" in a flow map as ${prev} and a key ${key} with no value: a comma ends a value there; write ${before.value.source ?? ''}${key})`;
}

function replace(root: unknown, path: readonly (string | number)[], v: string): void {
  let node = root;
  for (const s of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return;
    node = (node as Record<string | number, unknown>)[s];
  }
  if (typeof node === 'object' && node !== null && path.length > 0) (node as Record<string | number, unknown>)[path[path.length - 1]!] = v;
}
