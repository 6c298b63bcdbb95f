import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import { CHANNEL_DEFAULTS, Channel } from '../../src/queue/index.js';
import type { ChannelOptions } from '../../src/queue/index.js';

function optionError(options: unknown): InvalidOptionError {
  try {
    new Channel<number>(options as ChannelOptions<number>);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionError);
    return err as InvalidOptionError;
  }
  throw new Error('expected an InvalidOptionError');
}

describe('channel options', () => {
  it.each([
    [{}, 'capacity', 'undefined'],
    [{ capacity: 0 }, 'capacity', 'received 0'],
    [{ capacity: 1.5 }, 'capacity', 'an integer'],
    [{ capacity: Infinity }, 'capacity', 'Infinity'],
    [{ capacity: '8' }, 'capacity', '"8"'],
    [{ capacity: 1, overflow: 'spill' }, 'overflow', '"spill"'],
    [{ capacity: 1, maxPutWaitMs: -1 }, 'maxPutWaitMs', '>= 0'],
    [{ capacity: 1, overflow: 'drop-oldest', maxPutWaitMs: 100 }, 'maxPutWaitMs', 'drop-oldest'],
    [{ capacity: 1, overflow: 'reject', maxPutWaitMs: 100 }, 'maxPutWaitMs', 'never waits'],
    [{ capacity: 1, random: () => 0.5 }, 'random', 'drop-random'],
    [{ capacity: 1, overflow: 'drop-random', random: 0.5 }, 'random', 'a function'],
    [{ capacity: 1, discipline: 'random' }, 'discipline', '"random"'],
    [{ capacity: 1, discipline: { type: 'codel', targetMs: -1 } }, 'discipline.targetMs', '-1'],
    [{ capacity: 1, discipline: { type: 'priority', agingMs: 0 } }, 'discipline.agingMs', 'received 0'],
    [{ capacity: 1, onDrop: 'log' }, 'onDrop', 'a function'],
    [{ capacity: 1, name: '' }, 'name', 'non-empty'],
    [{ capacity: 1, clock: {} }, 'clock', 'Clock'],
  ])('%j is rejected naming %s', (options, option, inMessage) => {
    const err = optionError(options);
    expect(err.option).toBe(option);
    expect(err.message).toContain(option);
    expect(err.message).toContain(inMessage);
    expect(err.code).toBe('SLUICE_ERR_INVALID_OPTION');
  });

  it('rejects a missing options object as every constructor does: InvalidArgumentError naming options', () => {
    expect(() => new Channel<number>(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => new Channel<number>(undefined as never)).toThrow('options: expected an object of Channel options, received undefined');
  });

  it('applies the documented defaults', () => {
    const ch = new Channel<number>({ capacity: 8, clock: new VirtualClock() });
    const s = ch.stats();
    expect(s).toMatchObject({ name: CHANNEL_DEFAULTS.name, kind: 'channel', overflow: 'block', discipline: 'fifo', limit: 8, capacity: 8, inFlight: 0, tokens: undefined });
    expect(CHANNEL_DEFAULTS).toMatchObject({ overflow: 'block', maxPutWaitMs: Infinity, discipline: 'fifo' });
  });

  it('accepts maxPutWaitMs 0 with block: a full put fails at once with queue_timeout', async () => {
    const ch = new Channel<number>({ capacity: 1, clock: new VirtualClock(), maxPutWaitMs: 0 });
    ch.tryPut(1);
    await expect(ch.put(2)).rejects.toMatchObject({ reason: 'queue_timeout' });
  });

  it('accepts a large capacity without allocating it upfront', () => {
    const ch = new Channel<number>({ capacity: Number.MAX_SAFE_INTEGER, clock: new VirtualClock() });
    for (let i = 0; i < 5000; i++) expect(ch.tryPut(i)).toBe('accepted');
    expect(ch.size).toBe(5000);
    expect(ch.tryTake()).toEqual({ ok: true, value: 0 });
  });
});
