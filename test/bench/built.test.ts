// The gateway bench runs sluice from its build (bench/gateway/built.ts): when a checkout's dist/
// is stale, and which checkouts a run needs built.
import { describe, expect, it } from 'vitest';
import { staleReason, treesToBuild } from '../../bench/gateway/built.js';

describe('staleReason', () => {
  const src = [
    { path: 'gateway/gateway.ts', mtimeMs: 1_000 },
    { path: 'index.ts', mtimeMs: 2_000 },
    { path: '../tsconfig.json', mtimeMs: 500 },
  ];
  const dist = [
    { path: 'gateway/gateway.js', mtimeMs: 3_000 },
    { path: 'index.js', mtimeMs: 3_100 },
  ];

  it('a build written after every source is fresh', () => {
    expect(staleReason(src, dist)).toBeUndefined();
  });

  it('no dist/, or an empty one, is stale', () => {
    expect(staleReason(src, undefined)).toBe('no dist/');
    expect(staleReason(src, [])).toBe('no dist/');
  });

  it('a source changed after the build started writing (its oldest file) is stale, named', () => {
    expect(staleReason([...src, { path: 'gateway/proxy.ts', mtimeMs: 3_050 }], [...dist, { path: 'gateway/proxy.js', mtimeMs: 3_200 }])).toBe(
      '1 source file(s) changed after dist/ was built (newest: gateway/proxy.ts, 0 s after)',
    );
    expect(staleReason([{ path: '../tsconfig.build.json', mtimeMs: 9_000 }, ...src], dist)).toMatch(/newest: \.\.\/tsconfig\.build\.json, 6 s after/);
  });

  it('a source without its .js (a module added since the build) is stale', () => {
    expect(staleReason([...src, { path: 'gateway/new-part.ts', mtimeMs: 100 }], dist)).toBe('src/gateway/new-part.ts has no dist/gateway/new-part.js');
  });
});

describe('treesToBuild', () => {
  it('builds this checkout when a sluice row runs, and the baseline when an @baseline row does', () => {
    const all = { only: undefined, baseline: '/b', overhead: false };
    expect(treesToBuild('/own', all)).toEqual(['/own', '/b']);
    expect(treesToBuild('/own', { ...all, baseline: undefined })).toEqual(['/own']);
    expect(treesToBuild('/own', { ...all, only: ['sluice 1 worker @baseline', 'sluice 1 worker'] })).toEqual(['/own', '/b']);
    expect(treesToBuild('/own', { ...all, only: ['sluice 1 worker @baseline'] })).toEqual(['/b']);
    expect(treesToBuild('/own', { ...all, only: ['haproxy nbthread 1', 'node limit floor'] })).toEqual([]);
    // The open loop's overhead pair always runs sluice fixed.
    expect(treesToBuild('/own', { ...all, only: ['haproxy maxconn'], overhead: true })).toEqual(['/own']);
  });
});
