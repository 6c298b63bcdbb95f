/**
 * The JSON Schema of a `sluice simulate` scenario (draft-07), published as
 * docs/scenario.schema.json (a test keeps the two identical). Durations and rates are written
 * as in sluice.yaml (`100ms`, `2s`, `2000/s`), and mistakes are reported the same way: file,
 * line, key path, what was expected and what was found.
 */
import { durationField } from '../gateway/duration-schema.js';
import { RATE_PATTERN } from '../gateway/units.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** A point or span of simulated time: up to a simulated day. */
const at = durationField(0, DAY);
/** A scenario's length: the simulation keeps every sample, so at most an hour. */
export const MAX_SCENARIO_MS = 60 * MINUTE;
const span = durationField(1, DAY);
/** A service time, a client's patience, a backoff: up to ten minutes. */
const wait = durationField(0, 10 * MINUTE);
const positiveWait = durationField(1, 10 * MINUTE);
const rate = { type: ['string', 'number'], pattern: RATE_PATTERN, minimum: 0, description: 'A rate: 2000/s, 100/min, or a number per second (0: none).' } as const;
const factor = { type: 'number', exclusiveMinimum: 0, description: 'A multiplier > 0.' } as const;

function strip<T>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

export const SCENARIO_SCHEMA = strip({
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/sluice/sluice/docs/scenario.schema.json',
  title: 'sluice simulate scenario',
  type: 'object',
  additionalProperties: false,
  required: ['duration', 'upstream', 'clients'],
  properties: {
    name: { type: 'string', minLength: 1 },
    duration: durationField(1, MAX_SCENARIO_MS),
    sample: span,
    seed: { type: 'integer', minimum: 0, maximum: 4_294_967_295, description: 'Seed of the arrival and jitter streams (32 bits: a larger one gave the run of another). Default 1.' },
    upstream: {
      type: 'object',
      additionalProperties: false,
      required: ['capacity', 'latency'],
      properties: {
        capacity: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'Requests served at full speed at once (the knee); beyond it the upstream shares itself and every request slows.' },
        latency: positiveWait,
        slow: {
          type: 'array',
          description: 'Spells in which the upstream slows.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['at', 'for'],
            properties: { at, for: span, latencyFactor: factor, capacityFactor: factor },
          },
        },
        outages: {
          type: 'array',
          description: 'Spells in which every request fails fast with a status.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['at', 'for'],
            properties: { at, for: span, status: { type: 'integer', minimum: 500, maximum: 599 }, latency: wait },
          },
        },
      },
    },
    clients: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['rate'],
        properties: {
          name: { type: 'string', minLength: 1 },
          tenants: { type: 'integer', minimum: 1, maximum: 100_000, description: 'Distinct tenants the requests come from, round robin. Default 1.' },
          timeout: positiveWait,
          arrivals: { enum: ['poisson', 'constant'] },
          rate: {
            type: 'array',
            minItems: 1,
            description: 'Arrival-rate steps: from `at` on, `rate` new requests per second.',
            items: { type: 'object', additionalProperties: false, required: ['at', 'rate'], properties: { at, rate } },
          },
          spikes: {
            type: 'array',
            description: 'Extra arrivals on top of the steps, for a while.',
            items: { type: 'object', additionalProperties: false, required: ['at', 'for', 'rate'], properties: { at, for: span, rate } },
          },
          retry: {
            type: 'object',
            additionalProperties: false,
            required: ['attempts'],
            properties: {
              attempts: { type: 'integer', minimum: 1, maximum: 20, description: 'Attempts in all, the first included.' },
              backoff: { enum: ['none', 'exponential'], description: 'none: retry at once. exponential: full jitter from `base`, doubling, capped at `max`.' },
              base: wait,
              max: wait,
              retryAfter: { type: 'boolean', description: 'Wait at least the Retry-After of a refusal. Default true with backoff, false without.' },
              budget: {
                type: 'object',
                additionalProperties: false,
                description: "A retry budget (sluice/retry's RetryBudget) shared by the client's tenants: retries at most `ratio` of its requests over the window, plus `minRetries`.",
                properties: {
                  ratio: { type: 'number', minimum: 0, maximum: 10, description: 'Retries per request over the window. Default 0.2.' },
                  minRetries: { type: 'integer', minimum: 0, maximum: 1000000, description: 'Retries always allowed per window. Default 10.' },
                  window: durationField(1, 60 * MINUTE),
                },
              },
            },
          },
        },
      },
    },
  },
});
