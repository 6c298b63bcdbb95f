// Which keys the store's probe writes in a cluster (probe-keys.ts): one per master that may hold
// the store's keys, found by the slot each key hashes to.
import { describe, expect, it } from 'vitest';
import { keySlot } from '../../src/redis/keys.js';
import { ProbeKeys } from '../../src/redis/probe-keys.js';

/** A slot table: slot → [master], masters by range. */
function table(owner: (slot: number) => string): string[][] {
  return Array.from({ length: 16_384 }, (_x, s) => [owner(s)]);
}

describe('ProbeKeys', () => {
  it('three masters: one key on each', () => {
    const slots = table((s) => (s < 5461 ? 'a' : s < 10_923 ? 'b' : 'c'));
    const keys = new ProbeKeys('sluice:').forMasters(slots);
    expect(keys).toHaveLength(3);
    expect(new Set(keys.map((k) => slots[keySlot(k)]![0]))).toEqual(new Set(['a', 'b', 'c']));
    for (const k of keys) expect(k.startsWith('sluice:probe:{')).toBe(true);
  });

  it('a master of one slot is found, over a few probes at most', () => {
    const slots = table((s) => (s === 777 ? 'tiny' : 'big'));
    const p = new ProbeKeys('s:');
    let keys: string[] = [];
    for (let i = 0; i < 100 && keys.length < 2; i++) keys = p.forMasters(slots);
    expect(keys.map((k) => slots[keySlot(k)]![0]).sort()).toEqual(['big', 'tiny']);
    expect(keySlot(keys.find((k) => slots[keySlot(k)]![0] === 'tiny')!)).toBe(777);
  });

  it('a hash tag in the keyPrefix puts every key in one slot: its master only', () => {
    const slots = table((s) => (s < 8192 ? 'a' : 'b'));
    const keys = new ProbeKeys('x:{tenants}:').forMasters(slots);
    expect(keys).toHaveLength(1);
    expect(keySlot(keys[0]!)).toBe(keySlot('{tenants}'));
  });

  it('slots not known yet (not connected): the single key', () => {
    expect(new ProbeKeys('s:').forMasters([])).toEqual(['s:probe']);
  });
});
