import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterBatch } from '../../src/prometheus/counter-batch.js';

function counterWithBatch(labelNames: string[]): { registry: Registry; batch: CounterBatch } {
  const registry = new Registry();
  const counter: Counter = new Counter({ name: 'c_total', help: 'c', labelNames, registers: [registry], collect: () => batch.flush() });
  const batch = new CounterBatch(counter, labelNames);
  return { registry, batch };
}

describe('CounterBatch (sluice/prometheus)', () => {
  it('adds up per series, in the order first seen, whatever order the labels are written in (shown in the first one\'s order, as prom-client shows them)', async () => {
    const { registry, batch } = counterWithBatch(['gate', 'reason']);
    batch.add({ gate: 'a', reason: 'x' }, 1);
    batch.add({ reason: 'y', gate: 'a' }, 2);
    batch.add({ reason: 'x', gate: 'a' }, 3);
    batch.add({ gate: 'b', reason: 'x' }, 1);
    batch.add({ gate: 'a' }, 1); // a label left out is a series of its own, as prom-client has it
    expect(await registry.metrics()).toBe('# HELP c_total c\n# TYPE c_total counter\nc_total{gate="a",reason="x"} 4\nc_total{reason="y",gate="a"} 2\nc_total{gate="b",reason="x"} 1\nc_total{gate="a"} 1\n');
    batch.add({ gate: 'b', reason: 'x' }, 0.5);
    expect(await registry.metrics()).toContain('c_total{gate="b",reason="x"} 1.5\n');
  });

  it('a label the counter does not take, or a count it refuses, throws at once, as prom-client does', async () => {
    const { registry, batch } = counterWithBatch(['gate']);
    expect(() => batch.add({ gate: 'a', other: 'x' }, 1)).toThrow(/Added label "other" is not included in initial labelset/);
    expect(() => batch.add({ gate: 'a' }, -1)).toThrow(/It is not possible to decrease a counter/);
    expect(() => batch.add({ gate: 'a' }, Infinity)).toThrow(/Value is not a valid number/);
    expect(await registry.metrics()).toBe('# HELP c_total c\n# TYPE c_total counter\n');
  });

  it('a label it does not take throws for a series already counted too, and nothing is added to it', async () => {
    const { registry, batch } = counterWithBatch(['gate']);
    batch.add({ gate: 'a' }, 1);
    expect(() => batch.add({ gate: 'a', other: 'x' }, 1)).toThrow(/Added label "other" is not included in initial labelset/);
    expect(await registry.metrics()).toContain('\nc_total{gate="a"} 1\n');
  });

  it('labels of the shape last checked are not checked again, but every other shape is: each unknown label throws, however often and wherever it comes', async () => {
    const { registry, batch } = counterWithBatch(['gate', 'reason']);
    const unknown = /Added label "other" is not included in initial labelset/;
    // The series first (a new one is checked by the counter itself): each case below would land in one of them.
    for (const gate of ['a', 'b']) {
      batch.add({ gate }, 1);
      batch.add({ gate, reason: 'x' }, 1);
    }
    expect(() => batch.add({ gate: 'a', other: 'x' }, 1)).toThrow(unknown); // as many keys as the last, one differs
    expect(() => batch.add({ gate: 'a', other: 'x' }, 1)).toThrow(unknown); // a refused shape is not remembered
    expect(() => batch.add({ other: 'x', gate: 'a' }, 1)).toThrow(unknown);
    batch.add({ gate: 'a', reason: 'x' }, 1);
    expect(() => batch.add({ gate: 'a', reason: 'x', other: 'y' }, 1)).toThrow(unknown); // one key more
    const reused: Record<string, string> = { gate: 'b', reason: 'x' };
    batch.add(reused, 1);
    delete reused.reason;
    reused.other = 'z'; // the object checked before, another key since
    expect(() => batch.add(reused, 1)).toThrow(unknown);
    batch.add({ gate: 'b', reason: 'x' }, 1);
    const inherited = Object.assign(Object.create({ other: 'p' }) as Record<string, string>, { gate: 'a', reason: 'x' });
    expect(() => batch.add(inherited, 1)).toThrow(unknown); // as prom-client (for...in): an inherited enumerable label counts
    expect(await registry.metrics()).toBe('# HELP c_total c\n# TYPE c_total counter\nc_total{gate="a"} 1\nc_total{gate="a",reason="x"} 2\nc_total{gate="b"} 1\nc_total{gate="b",reason="x"} 3\n');
  });

  it('a counter without labels has one series', async () => {
    const { registry, batch } = counterWithBatch([]);
    batch.add({}, 2);
    batch.add({}, 3);
    expect(await registry.metrics()).toContain('\nc_total 5\n');
  });
});
