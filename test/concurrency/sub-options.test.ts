// A gate's or channel's nested options: the discipline object refuses a key it does not take
// (`tagetMs` was ignored and CoDel ran on its default target) and a value that is neither a
// name nor an object (`discipline: 5` said "discipline.type … received undefined"); an
// algorithm that is not one (`algorithm: 'aimd'`) is named as such, not "algorithm.limit … NaN".
import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { ConcurrencyOptions } from '../../src/concurrency/index.js';
import { AimdLimit } from '../../src/limit/index.js';
import { Channel } from '../../src/queue/index.js';
import type { ChannelOptions } from '../../src/queue/index.js';
import { thrown } from '../option-error.js';

const gate = (o: Record<string, unknown>): ConcurrencyGate => new ConcurrencyGate({ limit: 2, maxQueue: 4, ...o } as ConcurrencyOptions);
const channel = (o: Record<string, unknown>): Channel<number> => new Channel<number>({ capacity: 4, ...o } as ChannelOptions<number>);
const DISCIPLINE = 'a discipline: one of "fifo", "lifo", "codel", "priority", or an object { type, … }';
const ALGORITHM = 'a limit algorithm (an object with limit and onSample(): new AimdLimit(), VegasLimit, Gradient2Limit, WindowedLimit from sluice/limit)';

const CASES: readonly [string, () => unknown, string][] = [
  ['gate discipline.tagetMs', () => gate({ discipline: { type: 'codel', tagetMs: 5 } }), 'discipline.tagetMs: expected one of the codel discipline options (did you mean "targetMs"?), received 5'],
  ['gate discipline: codel with agingMs', () => gate({ discipline: { type: 'codel', agingMs: 5 } }), 'discipline.agingMs: expected one of the codel discipline options: type, targetMs, intervalMs, received 5'],
  ['gate discipline: fifo with targetMs', () => gate({ discipline: { type: 'fifo', targetMs: 5 } }), 'discipline.targetMs: expected one of the fifo discipline options: type, received 5'],
  ['gate discipline a number', () => gate({ discipline: 5 }), `discipline: expected ${DISCIPLINE}, received 5`],
  ['gate discipline an array', () => gate({ discipline: ['codel'] }), `discipline: expected ${DISCIPLINE}, received an array of length 1`],
  ['channel discipline.agingMS', () => channel({ discipline: { type: 'priority', agingMS: 5 } }), 'discipline.agingMS: expected one of the priority discipline options (did you mean "agingMs"?), received 5'],
  ['channel discipline true', () => channel({ discipline: true }), `discipline: expected ${DISCIPLINE}, received true`],
  ['gate algorithm a name', () => new ConcurrencyGate({ algorithm: 'aimd' } as unknown as ConcurrencyOptions), `algorithm: expected ${ALGORITHM}, received "aimd"`],
  ['gate algorithm a plain object', () => new ConcurrencyGate({ algorithm: { limit: 5 } } as unknown as ConcurrencyOptions), `algorithm: expected ${ALGORITHM}, received an object`],
];

describe('nested options of gates and channels', () => {
  it.each(CASES)('%s', (_label, make, message) => {
    expect(thrown(make).message).toBe(message);
  });

  it('takes every valid form as before', () => {
    for (const discipline of ['lifo', { type: 'fifo' }, { type: 'codel', targetMs: 5, intervalMs: 100 }, { type: 'priority', agingMs: 50 }]) {
      expect(gate({ discipline }).stats().limit).toBe(2);
      expect(channel({ discipline }).capacity).toBe(4);
    }
    expect(new ConcurrencyGate({ algorithm: new AimdLimit({ initialLimit: 7 }) }).stats().limit).toBe(7);
  });
});
