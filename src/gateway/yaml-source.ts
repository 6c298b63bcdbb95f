/**
 * A YAML config file read with its positions: `parseDocument` + `LineCounter`, so a key path
 * found by the validator maps back to the line it was written on.
 */
import type { Alias, Document, Node } from 'yaml';
import type { ConfigIssue } from './config-error.js';
import { formatPath } from './config-error.js';
import { numberForms } from './number-form.js';
import { yaml } from './peers.js';

export interface ConfigSource {
  /** File name shown in messages. */
  readonly file: string;
  /** 1-based line of the deepest node of `path` that exists. */
  lineOf(path: readonly (string | number)[]): number | undefined;
  /** Numbers not written in plain decimal (number-form.ts): reported in place of any other issue at their path. */
  readonly numberIssues?: readonly ConfigIssue[];
  /** The number at `path` as the file wrote it; undefined where there is none. */
  numberWritten?(path: readonly (string | number)[]): string | undefined;
  /** A key at `path` YAML read as a number (`000` as 0), as the file wrote it, with why where known. */
  keyWritten?(path: readonly (string | number)[]): string | undefined;
}

export type ParsedYaml = { readonly ok: true; readonly value: unknown; readonly source: ConfigSource } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

export function parseYaml(text: string, file: string): ParsedYaml {
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // The parser reports one unclosed flow collection once per level it unwinds ('routes: [ {{{'
    // gave the same line and message three times): each distinct error once.
    const seen = new Set<string>();
    const issues: ConfigIssue[] = [];
    for (const e of doc.errors) {
      const found = e.code === 'DUPLICATE_KEY' ? duplicateKey(text, e.pos[0]) : firstLine(e.message);
      const line = lineCounter.linePos(e.pos[0]).line;
      // yaml's own words advise its API ('please use YAML.parseAllDocuments()'): said for a config's author instead.
      // Nesting the parser's stack cannot hold (some hundreds of levels) said as that, not as its RangeError's words (hostile-ops).
      const issue =
        e.code === 'MULTIPLE_DOCS'
          ? { path: '', line, expected: 'one YAML document (one config)', found: 'a second document (from this "---" on)' }
          : /Maximum call stack size exceeded/.test(found)
            ? { path: '', line, expected: 'YAML nested as deep as a config is (a few levels)', found: 'lists or mappings nested too deep for the parser to read (it ran out of stack)' }
            : { path: '', line, expected: 'valid YAML', found };
      const key = `${issue.line}\0${issue.found}`;
      if (seen.has(key)) continue;
      seen.add(key);
      issues.push(issue);
    }
    return { ok: false, issues };
  }
  const line = (offset: number): number => lineCounter.linePos(offset).line;
  const merges = mergeKeys(doc);
  if (merges.length > 0) {
    // YAML 1.2 has no merge keys: `<<: *base` was a key named "<<", refused as unknown (or, where
    // any name goes — policies, upstreams, overrides — an entry named "<<") (hostile-10).
    return { ok: false, issues: merges.map((at) => ({ path: '', line: line(at), expected: 'valid YAML without merge keys (YAML 1.1\'s "<<: *anchor" is not read: write the keys out; anchors and aliases work)', found: 'a merge key "<<"' })) };
  }
  const lineOf = (path: readonly (string | number)[]): number | undefined => {
    let node: unknown = doc.contents;
    let at: number | undefined = node === null ? undefined : rangeStart(node);
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair === undefined) break;
        at = rangeStart(pair.key) ?? at;
        node = pair.value;
      } else if (isSeq(node)) {
        const item: unknown = node.items[Number(seg)];
        if (item === undefined) break;
        at = rangeStart(item) ?? at;
        node = item;
      } else break;
    }
    return at === undefined ? undefined : line(at);
  };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    // An alias bomb (or an alias before its anchor): say where, not just that.
    const at = excessiveAlias(doc) ?? firstAlias(doc);
    const offset = at === undefined ? undefined : rangeStart(at);
    const bomb = /excessive alias/i.test(err.message);
    return {
      ok: false,
      issues: [
        {
          path: '',
          line: offset === undefined ? undefined : line(offset),
          expected: bomb ? `YAML whose aliases expand to at most ${MAX_ALIAS_COUNT} nodes (anchors and aliases are for small repeats)` : 'valid YAML',
          found: bomb ? `an alias${at === undefined ? '' : ` *${at.source}`} that expands beyond it` : firstLine(err.message),
        },
      ],
    };
  }
  const numbers = numberForms(doc, text, line, value);
  return { ok: true, value, source: { file, lineOf, numberIssues: numbers.issues, numberWritten: (path) => numbers.written.get(formatPath(path)), keyWritten: (path) => numbers.keys.get(formatPath(path)) } };
}

/** The `maxAliasCount` of the `yaml` library: how far aliases may multiply the document. */
export const MAX_ALIAS_COUNT = 100;

/**
 * The alias at which the `yaml` library's `maxAliasCount` check gives up: the same count,
 * kept in the same (document) order — each anchor's uses times the aliases inside it.
 */
function excessiveAlias(doc: Document): Alias | undefined {
  const { isAlias, isCollection, isPair, visit } = yaml();
  const anchors = new Map<unknown, { count: number; aliasCount: number }>();
  const aliasCount = (node: unknown): number => {
    if (isAlias(node)) {
      const a = anchors.get(node.resolve(doc));
      return a === undefined ? 0 : a.count * a.aliasCount;
    }
    if (isCollection(node)) return Math.max(0, ...node.items.map(aliasCount));
    if (isPair(node)) return Math.max(aliasCount(node.key), aliasCount(node.value));
    return 1;
  };
  let found: Alias | undefined;
  visit(doc, {
    Alias: (_key, alias) => {
      const source = alias.resolve(doc);
      if (source === undefined) return undefined;
      let a = anchors.get(source);
      if (a === undefined) anchors.set(source, (a = { count: 0, aliasCount: 0 }));
      a.count += 1;
      if (a.aliasCount === 0) a.aliasCount = aliasCount(source);
      if (a.count * a.aliasCount <= MAX_ALIAS_COUNT) return undefined;
      found = alias;
      return visit.BREAK;
    },
  });
  return found;
}

function firstAlias(doc: Document): Alias | undefined {
  const { visit } = yaml();
  let found: Alias | undefined;
  visit(doc, {
    Alias: (_key, alias) => {
      found = alias;
      return visit.BREAK;
    },
  });
  return found;
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as Node | null)?.range;
  return r === undefined || r === null ? undefined : r[0];
}

/** A key at the start of `text`: double-quoted, single-quoted or plain, up to its colon. */
const KEY_AT = /^("(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^:#\n]*?)\s*:/;

/** yaml's duplicate-key error points at the key's first character only: the key itself, read from there, named. */
function duplicateKey(text: string, at: number): string {
  const end = text.indexOf('\n', at);
  const key = KEY_AT.exec(text.slice(at, end < 0 ? undefined : end))?.[1];
  if (key === undefined || key === '') return 'Map keys must be unique';
  const named = key.startsWith('"') || key.startsWith("'") ? key : JSON.stringify(key);
  return `the key ${named} twice in one mapping (map keys must be unique)`;
}

function firstLine(message: string): string {
  const l = message.split('\n')[0] ?? message;
  return l.replace(/ at line \d+, column \d+:?$/, '');
}

/** Where the document has a plain `<<` key (a YAML 1.1 merge key), as offsets. */
function mergeKeys(doc: Document): number[] {
  const { isScalar, visit } = yaml();
  const at: number[] = [];
  visit(doc, {
    Pair: (_key, pair) => {
      if (isScalar(pair.key) && pair.key.type === 'PLAIN' && pair.key.value === '<<') at.push(rangeStart(pair.key) ?? 0);
    },
  });
  return at;
}
