/**
 * Durations in a JSON Schema: a string with its unit (a bare number is refused) and a range
 * in ms under the custom keyword `durationRange: [min, max]`, which ajv checks through
 * {@link compileSchema}. Editors that do not know the keyword still check the syntax.
 */
import type { ValidateFunction } from 'ajv';
import { ajv as loadAjv } from './peers.js';
import { describeDurationRange, DURATION_PATTERN, parseDuration, TIMER_MAX_MS } from './units.js';

export const DURATION_RANGE_KEYWORD = 'durationRange';

/** A duration field from `minMs` to `maxMs` (at most what a Node timer holds). */
export function durationField(minMs: number, maxMs: number): { readonly type: 'string'; readonly pattern: string; readonly durationRange: readonly [number, number]; readonly description: string } {
  if (maxMs > TIMER_MAX_MS) throw new RangeError(`a duration field's maximum is at most ${TIMER_MAX_MS} ms, received ${maxMs}`);
  return { type: 'string', pattern: DURATION_PATTERN, durationRange: [minMs, maxMs], description: describeDurationRange(minMs, maxMs) };
}

/** Compile a schema that may use `durationRange`, collecting every error. */
export function compileSchema(schema: object): ValidateFunction {
  const ajv = new (loadAjv().Ajv)({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
  ajv.addKeyword({
    keyword: DURATION_RANGE_KEYWORD,
    type: 'string',
    schemaType: 'array',
    errors: true,
    validate: function durationRange(range: readonly [number, number], data: string) {
      const ms = parseDuration(data);
      // A string that is no duration at all is the pattern's error, not this one's.
      return ms === undefined || (ms >= range[0] && ms <= range[1]);
    },
  });
  return ajv.compile(schema);
}
