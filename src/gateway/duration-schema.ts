/**
 * Durations, sizes and rates in a JSON Schema: a string with its unit (a bare number is
 * refused for a duration) and a range of its value under the custom keywords
 * `durationRange: [min, max]` (ms), `sizeRange: [min, max]` (bytes) and `rateRange: [min, max]`
 * (per second), which ajv checks through {@link compileSchema}: the pattern alone lets
 * `99999999999999999999gb` through. Editors that do not know the keywords still check the syntax.
 */
import type { ValidateFunction } from 'ajv';
import { ajv as loadAjv } from './peers.js';
import { describeDurationRange, DURATION_PATTERN, formatDuration, parseDuration, RATE_PATTERN, rateOf, SIZE_PATTERN, sizeBytes, TIMER_MAX_MS } from './units.js';

export const DURATION_RANGE_KEYWORD = 'durationRange';

/** `n` bytes as a size is written: 1073741824 → `1gb`. */
function formatSize(n: number): string {
  for (const [unit, size] of [['gb', 1024 ** 3], ['mb', 1024 ** 2], ['kb', 1024]] as const) if (n >= size && n % size === 0) return `${n / size}${unit}`;
  return `${n} byte${n === 1 ? '' : 's'}`;
}

/**
 * A size field (`16kb`, `10mb`, or a number of bytes) from `min` to `max` bytes; `why`, the
 * reason for a range of its own, and `examples` (in the range) go into its description,
 * which is what a value out of range is told.
 */
export function sizeField(min: number, max: number, why?: string, examples = '16kb, 10mb, 1gb') {
  const description = `A size from ${formatSize(min)} to ${formatSize(max)}${why === undefined ? '' : ` (${why})`}: ${examples}, or a number of bytes.`;
  return { type: ['string', 'integer'], pattern: SIZE_PATTERN, minimum: min, maximum: max, sizeRange: [min, max], description } as const;
}

/**
 * A rate field (`2000/s`, `100/min`, or a number per second) from one token each `maxIntervalMs`
 * to `maxPerS` per second. The slowest rate bounds the Retry-After of a refusal for one unit:
 * the time to its next token (`0.0001/d` was accepted and told clients to come back in 27 years).
 */
export function rateField(maxIntervalMs: number, maxPerS: number) {
  const description = `A rate of at least one each ${formatDuration(maxIntervalMs)} and at most ${maxPerS}/s: 2000/s, 100/min, 5/h, 1/d, or a number per second.`;
  const minPerS = 1000 / maxIntervalMs;
  return { type: ['string', 'number'], pattern: RATE_PATTERN, minimum: minPerS, maximum: maxPerS, rateRange: [minPerS, maxPerS], description } as const;
}


/** A duration field from `minMs` to `maxMs` (at most what a Node timer holds). */
export function durationField(minMs: number, maxMs: number): { readonly type: 'string'; readonly pattern: string; readonly durationRange: readonly [number, number]; readonly description: string } {
  if (maxMs > TIMER_MAX_MS) throw new RangeError(`a duration field's maximum is at most ${TIMER_MAX_MS} ms, received ${maxMs}`);
  return { type: 'string', pattern: DURATION_PATTERN, durationRange: [minMs, maxMs], description: describeDurationRange(minMs, maxMs) };
}

/**
 * Compile a schema that may use `durationRange`, collecting every error. Without ajv's
 * optimising pass over the generated code (`code.optimize`: the same checks and errors, a
 * little more code): every gateway process, the primary and each worker, compiles the config
 * schema at start, and the pass was a third of that (738 → 479 ms median on a busy 2-core host).
 */
export function compileSchema(schema: object): ValidateFunction {
  const ajv = new (loadAjv().Ajv)({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, code: { optimize: false } });
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
  // A string that is no size or rate at all is the pattern's error; the description states the range.
  ajv.addKeyword({
    keyword: 'sizeRange',
    type: 'string',
    schemaType: 'array',
    errors: true,
    validate: (range: readonly [number, number], data: string) => !new RegExp(SIZE_PATTERN).test(data) || (sizeBytes(data) >= range[0] && sizeBytes(data) <= range[1]),
  });
  ajv.addKeyword({
    keyword: 'rateRange',
    type: 'string',
    schemaType: 'array',
    errors: true,
    validate: (range: readonly [number, number], data: string) => {
      if (!new RegExp(RATE_PATTERN).test(data)) return true;
      const r = rateOf(data);
      const perS = (r.rate * 1000) / r.perMs;
      return perS >= range[0] && perS <= range[1];
    },
  });
  return ajv.compile(schema);
}
