/**
 * A YAML config file read with its positions: `parseDocument` + `LineCounter`, so a key path
 * found by the validator maps back to the line it was written on.
 */
import type { Node } from 'yaml';
import type { ConfigIssue } from './config-error.js';
import { yaml } from './peers.js';

export interface ConfigSource {
  /** File name shown in messages. */
  readonly file: string;
  /** 1-based line of the deepest node of `path` that exists. */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

export type ParsedYaml = { readonly ok: true; readonly value: unknown; readonly source: ConfigSource } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

export function parseYaml(text: string, file: string): ParsedYaml {
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        path: '',
        line: lineCounter.linePos(e.pos[0]).line,
        expected: 'valid YAML',
        found: firstLine(e.message),
      })),
    };
  }
  const line = (offset: number): number => lineCounter.linePos(offset).line;
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
  return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) as unknown, source: { file, lineOf } };
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as Node | null)?.range;
  return r === undefined || r === null ? undefined : r[0];
}

function firstLine(message: string): string {
  const l = message.split('\n')[0] ?? message;
  return l.replace(/ at line \d+, column \d+:?$/, '');
}
