/**
 * The JSON Schema of `sluice.yaml` (draft-07), published as docs/sluice.schema.json for
 * editor completion (a test keeps the two identical). Rules a schema cannot state well —
 * contradictions between keys, references between sections — are in validate-config.ts (references between sections), validate-policy.ts and validate-server.ts.
 */
import { durationField, rateField, sizeField } from './duration-schema.js';
import { deepFreeze } from '../core/deep-freeze.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

/**
 * The range of every duration of the config, ms: [min, max]. Each maximum is a sane bound
 * for its field and below what a Node timer holds (a longer timer fires at once).
 */
export const DURATION_RANGES = {
  headersTimeout: [1, 10 * M],
  requestTimeout: [0, H],
  keepAliveTimeout: [1, 10 * M],
  pauseRefused: [0, M],
  workerTimeout: [0, H],
  workerStartTimeout: [0, H],
  bodyTimeout: [1, 10 * M],
  writeTimeout: [1, 10 * M],
  slowReaderCutAfter: [0, 10 * M],
  drainTimeout: [0, H],
  drainRetryAfter: [0, H],
  upstreamTimeout: [1, H],
  upstreamIdleTimeout: [1, H],
  window: [1, 7 * D],
  queueTimeout: [1, 10 * M],
  openFor: [1, H],
  breakerWindow: [1, H],
  shedAt: [0, M],
  shedInterval: [1, M],
  maxWait: [0, 10 * M],
  faultDelay: [1, 10 * M],
  storeTimeout: [1, M],
} as const satisfies Record<string, readonly [number, number]>;

function duration(field: keyof typeof DURATION_RANGES): ReturnType<typeof durationField> {
  const [min, max] = DURATION_RANGES[field];
  return durationField(min, max);
}

/**
 * The largest value of every number of the config that has no tighter bound of its own: past
 * it a value is a typo or a unit slip (`1e300`, a 20-digit integer), never a setting, and a
 * number that large is no longer exact in a double. Counts of things held in memory (queues,
 * limits, connections) stop at a million, rates and rate-limit units at a billion (per second,
 * per window), sizes at 1gb (a body or a response buffer is held whole) and 1024gb (memory
 * budgets, besides the machine's own memory).
 */
export const NUMBER_BOUNDS = {
  held: 1_000_000,
  units: 1_000_000_000,
  maxKeys: 100_000_000,
  sockets: 65_535,
  instances: 10_000,
  sizeBytes: 1024 ** 3,
  memoryBytes: 1024 ** 4,
} as const;
const B = NUMBER_BOUNDS;
/** A rate: at least one a week (the longest rate-limit window), so Retry-After for one unit is at most 7d. */
const rate = rateField(DURATION_RANGES.window[1], B.units);
const size = sizeField(1, B.sizeBytes);
const memory = sizeField(1, B.memoryBytes);
/** node:http holds the whole head of a request per connection (Node's default: 16 kB); below 1 kB a browser's or an SDK's ordinary head is refused 431. */
const headerSize = sizeField(1024, 1024 ** 2, 'the whole head of a request is held per connection; below 1kb ordinary requests are refused 431', '8kb, 16kb, 64kb');
const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;
/** server.workers as its errors (and the flag's) describe it. */
export const WORKERS_DESCRIPTION = "Processes serving the listener: an integer 1..256, or 'auto' (one per available core)";
const host = { type: 'string', minLength: 1 } as const;
/** A header field name (an RFC 9110 token): a name with spaces or line breaks could never be sent, so never matched. */
const headerName = { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", description: 'A header name' } as const;
/** An integer from `min` to `max`. */
const int = (min: number, max: number) => ({ type: 'integer', minimum: min, maximum: max }) as const;
const count = int(1, B.held);
/** Rate-limit units: a burst, a window's limit, a route's cost. */
const units = { type: 'number', minimum: 1, maximum: B.units } as const;
const percent = { type: 'number', exclusiveMinimum: 0, maximum: 100, description: 'A percentage in (0, 100].' } as const;

function strip<T>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

const policy = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // One schema for both forms, as concurrency's (pattern binds strings, the rest mappings): under
    // anyOf a mistyped key ({ header, fallbak }) was reported only as "found a mapping".
    tenant: {
      description: "'ip', or { header: <name> } (a header such as an API key)",
      type: ['string', 'object'],
      pattern: '^ip$',
      additionalProperties: false,
      required: ['header'],
      properties: { header: headerName },
    },
    rateLimits: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[\\x20-\\x7e]+$' },
          algorithm: { enum: ['token-bucket', 'gcra', 'sliding-window'] },
          rate,
          burst: units,
          limit: units,
          window: duration('window'),
          quota: { type: 'boolean' },
          maxKeys: int(2, B.maxKeys),
          overrides: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              additionalProperties: false,
              properties: { rate, burst: units, limit: units, window: duration('window') },
            },
          },
        },
      },
    },
    concurrency: {
      description: 'An integer >= 1 (fixed, no queue), adaptive, or { limit, queue, queueTimeout, ... }',
      type: ['integer', 'string', 'object'],
      minimum: 1,
      maximum: B.held,
      pattern: '^adaptive$',
      additionalProperties: false,
      required: ['limit'],
      properties: {
        limit: { type: ['integer', 'string'], minimum: 1, maximum: B.held, pattern: '^adaptive$', description: `An integer from 1 to ${B.held}, or adaptive` },
        algorithm: { enum: ['aimd', 'vegas', 'gradient2'] },
        initialLimit: count,
        minLimit: count,
        maxLimit: count,
        queue: int(0, B.held),
        queueTimeout: duration('queueTimeout'),
        discipline: { enum: ['fifo', 'lifo', 'codel', 'priority'] },
      },
    },
    breaker: {
      type: 'object',
      additionalProperties: false,
      properties: {
        failures: count,
        failureRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'Open when failures / calls over `window` reaches this (0 < ratio <= 1).' },
        window: duration('breakerWindow'),
        minimumCalls: count,
        openFor: duration('openFor'),
      },
    },
    shed: {
      type: 'object',
      additionalProperties: false,
      properties: { slowAt: duration('shedAt'), rejectAt: duration('shedAt'), interval: duration('shedInterval') },
    },
    criticalityHeader: headerName,
    maxWait: duration('maxWait'),
    headers: { enum: ['draft', 'legacy', 'x', 'none'] },
    mode: { enum: ['enforce', 'shadow', 'canary'] },
    canaryPercent: percent,
  },
} as const;

const fault = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    delay: { type: 'object', additionalProperties: false, required: ['duration', 'percent'], properties: { duration: duration('faultDelay'), percent } },
    abort: { type: 'object', additionalProperties: false, required: ['status', 'percent'], properties: { status: { type: 'integer', minimum: 400, maximum: 599 }, percent } },
  },
} as const;

export const CONFIG_SCHEMA = deepFreeze(strip({
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/sluice/sluice/docs/sluice.schema.json',
  title: 'sluice gateway configuration (sluice.yaml)',
  type: 'object',
  additionalProperties: false,
  required: ['upstreams', 'routes'],
  properties: {
    listen: { type: 'object', additionalProperties: false, properties: { host, port, backlog: int(1, 65535) } },
    admin: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        host,
        port,
        tenantKeys: { enum: ['hash', 'raw'], description: "How the dashboard shows tenant keys (API keys): 'hash' (default), a stable short hash of each; 'raw', the keys themselves." },
      },
    },
    server: {
      type: 'object',
      additionalProperties: false,
      properties: {
        headersTimeout: duration('headersTimeout'),
        requestTimeout: duration('requestTimeout'),
        keepAliveTimeout: duration('keepAliveTimeout'),
        maxHeaderSize: headerSize,
        maxBodySize: size,
        bodyTimeout: duration('bodyTimeout'),
        bodyMemory: memory,
        responseBuffer: size,
        responseMemory: memory,
        writeTimeout: duration('writeTimeout'),
        slowReaderCutAfter: duration('slowReaderCutAfter'),
        minReadRate: { ...sizeField(0, B.sizeBytes), description: 'Bytes per second: a size from 0 (off) to 1gb, as 1kb, 512b, or a number of bytes.' },
        maxConnections: count,
        maxQueued: int(0, B.held),
        pauseRefused: duration('pauseRefused'),
        pauseRefusedLoad: { type: 'number', minimum: 0, maximum: 0.99, description: 'Event-loop utilisation above which refused connections are paused (0: always)' },
        stripHeaders: {
          type: 'array',
          items: headerName,
          description: 'Request headers dropped unless the peer is in trustProxy (besides X-Real-IP, True-Client-IP, X-Forwarded-* and the like).',
        },
        workers: { description: WORKERS_DESCRIPTION, anyOf: [{ type: 'integer', minimum: 1, maximum: 256 }, { const: 'auto' }] },
        workerTimeout: duration('workerTimeout'),
        workerStartTimeout: duration('workerStartTimeout'),
      },
    },
    drain: { type: 'object', additionalProperties: false, properties: { timeout: duration('drainTimeout'), retryAfter: duration('drainRetryAfter') } },
    log: { type: 'object', additionalProperties: false, properties: { level: { enum: ['debug', 'info', 'warn', 'error', 'silent'] } } },
    trustProxy: { type: 'array', items: { type: 'string', minLength: 1 } },
    proxyHeader: { enum: ['x-forwarded-for', 'forwarded'] },
    store: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', minLength: 1, description: 'redis://[user:password@]host:port[/db] or rediss://' },
        cluster: { type: 'boolean' },
        keyPrefix: { type: 'string', pattern: '^[^{}]*$', description: 'A string without "{" or "}" (they would move the hash tag that keeps a decision\'s keys on one cluster slot)' },
        onStoreError: { enum: ['open', 'closed', 'local'] },
        instances: int(1, B.instances),
        timeout: duration('storeTimeout'),
        stateEncoding: { enum: ['binary', 'text'], description: "How rate states are written: 'binary' (default), or 'text', which versions before binary states read — while a fleet is upgraded gateway by gateway." },
        tenantKeys: { enum: ['hash', 'raw'], description: "How tenant keys (API keys) are named in Redis: 'hash' (default), by their SHA-256; 'raw', as they are — the names versions before this option wrote, while a fleet is upgraded gateway by gateway." },
      },
    },
    upstreams: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', pattern: '^http://[^/?#@]+(/[^?#]*)?$', description: 'http://host:port[/base]' },
          timeout: duration('upstreamTimeout'),
          idleTimeout: duration('upstreamIdleTimeout'),
          maxSockets: int(1, B.sockets),
        },
      },
    },
    policies: { type: 'object', additionalProperties: policy },
    routes: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          name: host,
          path: { type: 'string', pattern: '^/', description: 'A path starting with /' },
          methods: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[A-Z]+$', description: 'An HTTP method in capitals (GET, POST, ...)' } },
          upstream: host,
          policy: { ...policy, type: ['string', 'object'], minLength: 1, description: 'A key of policies, or a policy of this route alone.' },
          cost: units,
          criticality: { enum: ['critical-plus', 'critical', 'sheddable-plus', 'sheddable'] },
          exempt: { type: 'boolean' },
          allowTrace: { type: 'boolean', description: 'Forward TRACE on this route (405 otherwise).' },
          caseInsensitive: { type: 'boolean', description: 'Match the path regardless of ASCII case (for an upstream that routes that way).' },
          maxWait: duration('maxWait'),
          maxBodySize: size,
          fault,
        },
      },
    },
  },
}));
