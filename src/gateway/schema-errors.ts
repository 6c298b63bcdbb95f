/**
 * ajv's errors as config issues: one per key path, in words — what was expected (from the
 * schema) and what was found (the value). `anyOf` branches are reported as their
 * description rather than as each branch's complaint.
 */
import type { ErrorObject } from 'ajv';
import { describeValue, formatPath, quoted } from './config-error.js';
import type { ConfigIssue } from './config-error.js';
import { NUMBER_FORM_EXPECTED } from './number-form.js';
import type { ConfigSource } from './yaml-source.js';
import { URL_WITH_USER, quotedValue } from '../core/redact-url.js';

type Schema = Readonly<Record<string, unknown>>;

export function schemaIssues(errors: readonly ErrorObject[], root: unknown, source: ConfigSource | undefined): ConfigIssue[] {
  const anyOf = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath);
  // A number written as YAML allows but this config does not (`0x10`, `1e300`) is reported as such, once.
  const issues: ConfigIssue[] = [...(source?.numberIssues ?? [])];
  const seen = new Set<string>(issues.map((i) => i.path));
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && anyOf.some((p) => e.schemaPath.startsWith(`${p}/`))) continue;
    const segments = pathSegments(e.instancePath, root);
    const schema = (e.parentSchema ?? {}) as Schema;
    let path = segments;
    let expected: string;
    let found = foundAt(root, segments, source);
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        path = [...segments, key];
        const known = Object.keys((schema['properties'] ?? {}) as Schema);
        expected = `one of the keys ${known.join(', ')}`;
        found = `unknown key ${source?.keyWritten?.(path) ?? quoted(key)}`;
        break;
      }
      case 'required': {
        const key = String((e.params as { missingProperty: string }).missingProperty);
        path = [...segments, key];
        expected = `a value for ${JSON.stringify(key)}`;
        found = 'nothing';
        break;
      }
      case 'type':
        // A number's range is part of what is expected: 8080.5 for a port is told 0 to 65535.
        expected = isNumeric(schema) && (schema['minimum'] !== undefined || schema['maximum'] !== undefined) ? numberRange(schema) : describeSchema(schema);
        break;
      case 'pattern':
      case 'durationRange':
      case 'sizeRange':
      case 'rateRange':
      case 'anyOf':
      case 'const':
        expected = describeSchema(schema);
        break;
      case 'enum':
        expected = `one of ${(schema['enum'] as readonly unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum': {
        // A size's or a rate's range is its description's ('a size from 1 byte to 1gb: ...').
        if (schema['sizeRange'] !== undefined || schema['rateRange'] !== undefined) {
          expected = describeSchema(schema);
          break;
        }
        // The whole range, whichever bound was crossed: a port's -1 was told '>= 0' and 70000 '<= 65535'.
        expected = numberRange(schema);
        break;
      }
      case 'minItems':
        expected = `a list of at least ${(e.params as { limit: number }).limit} item(s)`;
        break;
      case 'minProperties':
        expected = `at least ${(e.params as { limit: number }).limit} key(s)`;
        break;
      case 'minLength':
        expected = 'a non-empty string';
        break;
      default:
        expected = e.message ?? e.keyword;
    }
    const formatted = formatPath(path);
    // A duration is never a bare number: one written as a number YAML reads and this config
    // does not (`0x10`) is told what a duration is, not how to write numbers (hostile-8).
    const number = schema['durationRange'] === undefined ? -1 : issues.findIndex((i) => i.path === formatted && i.expected === NUMBER_FORM_EXPECTED);
    if (number >= 0) issues[number] = { ...issues[number]!, expected };
    if (seen.has(formatted)) continue;
    seen.add(formatted);
    issues.push({ path: formatted, line: source?.lineOf(path), expected, found });
  }
  return issues;
}

function isNumeric(schema: Schema): boolean {
  return schema['type'] === 'integer' || schema['type'] === 'number';
}

/** A number's whole range as its schema states it: 'an integer from 0 to 65535', 'a number above 0 and at most 100'. */
function numberRange(schema: Schema): string {
  const t = schema['type'];
  const kind = t === 'integer' || (Array.isArray(t) && t.includes('integer')) ? 'an integer' : 'a number';
  const min = schema['minimum'];
  const above = schema['exclusiveMinimum'];
  const max = schema['maximum'];
  const low = typeof min === 'number' ? min : typeof above === 'number' ? above : undefined;
  if (low === undefined) return typeof max === 'number' ? `${kind} <= ${max}` : kind;
  if (typeof max !== 'number') return typeof min === 'number' ? `${kind} >= ${min}` : `${kind} > ${above as number}`;
  return typeof min === 'number' ? `${kind} from ${min} to ${max}` : `${kind} above ${low} and at most ${max}`;
}

function describeSchema(schema: Schema): string {
  if (typeof schema['description'] === 'string') return lowerFirst(schema['description'].replace(/\.$/, ''));
  if (schema['pattern'] !== undefined && schema['type'] === 'string') return `a string matching ${schema['pattern'] as string}`;
  const t = schema['type'];
  const types = Array.isArray(t) ? (t as string[]) : typeof t === 'string' ? [t] : [];
  return types.map((x) => (x === 'object' ? 'a mapping' : x === 'array' ? 'a list' : x === 'integer' ? 'an integer' : `a ${x}`)).join(' or ') || 'a valid value';
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** A JSON pointer as segments, array indexes as numbers. */
export function pathSegments(pointer: string, root: unknown): (string | number)[] {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out.push(Number(seg));
      node = node[Number(seg)] as unknown;
    } else {
      out.push(seg);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

/**
 * The value at `path` as a message shows it: a number as the file wrote it, where it came from
 * a file, and a string a tag failed on with its tag (`!!float 8080`, not `"8080"`).
 */
export function foundAt(root: unknown, path: readonly (string | number)[], source: ConfigSource | undefined): string {
  const v = valueAt(root, path);
  if (typeof v === 'string' && URL_WITH_USER.test(v)) return quotedValue(v);
  return (typeof v === 'number' || typeof v === 'string' ? source?.numberWritten?.(path) : undefined) ?? describeValue(v);
}

export function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const s of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[s];
  }
  return node;
}
