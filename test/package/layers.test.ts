// The architecture, checked: no import cycles, and imports only point down the layers.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../../src', import.meta.url));
const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
const graph = new Map<string, string[]>();
for (const f of files) {
  const text = readFileSync(join(src, f), 'utf8');
  const deps = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g)].map((m) => normalize(join(dirname(f), m[1]!.replace(/\.js$/, '.ts'))));
  graph.set(normalize(f), deps);
}
const layerOf = (f: string): string => f.split('/')[0]!.replace(/\.ts$/, '');

// What each layer may import (besides itself): the library (core, mechanisms, composition),
// then adapters (each over the library, a framework adapter over sluice/http, a metrics
// exporter over sluice/metrics), then applications (the gateway over the library and the
// adapters, the demo over the gateway, the CLI over everything).
const MECHANISMS = ['queue', 'rate', 'concurrency', 'limit', 'breaker', 'retry', 'pressure'];
const LIBRARY = ['core', 'discipline', ...MECHANISMS, 'compose', 'shared'];
const ADAPTERS = ['http', 'http-client', 'express', 'fastify', 'metrics', 'otel', 'prometheus', 'streams', 'brokers', 'rabbitmq', 'jetstream', 'redis-streams', 'kafka', 'sqs', 'dashboard', 'redis'];
const APPLICATIONS = ['gateway', 'sim', 'demo', 'cli'];
const allowed: Record<string, readonly string[]> = {
  core: [],
  discipline: ['core'],
  queue: ['core', 'discipline'],
  rate: ['core'],
  limit: ['core'],
  concurrency: ['core', 'discipline', 'limit'],
  breaker: ['core'],
  retry: ['core'],
  pressure: ['core'],
  compose: ['core'],
  // Composition: the one interface behind which a limit is shared across processes.
  shared: ['core', ...MECHANISMS],
  // The root export re-exports the library, never an adapter (they have their own subpaths).
  index: LIBRARY,
  http: LIBRARY,
  'http-client': LIBRARY,
  metrics: LIBRARY,
  streams: LIBRARY,
  // Broker adapters: the shared consumer sits on streams; each broker's adapter on the shared part.
  brokers: [...LIBRARY, 'streams'],
  rabbitmq: [...LIBRARY, 'brokers'],
  jetstream: [...LIBRARY, 'brokers'],
  'redis-streams': [...LIBRARY, 'brokers'],
  kafka: [...LIBRARY, 'brokers'],
  sqs: [...LIBRARY, 'brokers'],
  express: [...LIBRARY, 'http'],
  fastify: [...LIBRARY, 'http'],
  otel: [...LIBRARY, 'metrics'],
  prometheus: [...LIBRARY, 'metrics'],
  // Limits shared through Redis: the library's stores, algorithms and the breaker it guards calls with.
  redis: LIBRARY,
  // The live dashboard reads gates' stats and events: the library only.
  dashboard: LIBRARY,
  gateway: [...LIBRARY, ...ADAPTERS],
  // The policy simulator runs the gateway's own policy code on the virtual clock.
  sim: [...LIBRARY, ...ADAPTERS, 'gateway'],
  demo: [...LIBRARY, ...ADAPTERS, 'gateway'],
  cli: [...LIBRARY, ...ADAPTERS, 'gateway', 'sim', 'demo'],
};

describe('layers', () => {
  it('reads the import graph', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('concurrency/concurrency-gate.ts')).toContain('core/index.ts');
  });

  it('has no import cycles', () => {
    const state = new Map<string, 1 | 2>();
    const cycles: string[][] = [];
    const stack: string[] = [];
    const visit = (u: string): void => {
      state.set(u, 1);
      stack.push(u);
      for (const v of graph.get(u) ?? []) {
        if (!graph.has(v)) continue;
        if (state.get(v) === 1) cycles.push([...stack.slice(stack.indexOf(v)), v]);
        else if (state.get(v) === undefined) visit(v);
      }
      stack.pop();
      state.set(u, 2);
    };
    for (const f of graph.keys()) if (state.get(f) === undefined) visit(f);
    expect(cycles).toEqual([]);
  });

  it('imports only point down: the core imports nothing, mechanisms only the core (and what they build on), adapters only the library, applications nothing above them', () => {
    const bad: string[] = [];
    const unplaced = new Set<string>();
    for (const [f, deps] of graph) {
      const from = layerOf(f);
      const ok = allowed[from];
      if (ok === undefined) {
        unplaced.add(from); // every folder has a place in the layers: a new one is added above
        continue;
      }
      for (const d of deps) {
        const to = layerOf(d);
        if (to !== from && !ok.includes(to)) bad.push(`${f} -> ${d}`);
      }
    }
    expect(bad).toEqual([]);
    expect([...unplaced]).toEqual([]);
    expect([...LIBRARY, ...ADAPTERS, ...APPLICATIONS].every((m) => m in allowed)).toBe(true);
  });
});
