// bench:refusal's order of work (bench/lib/refusal-rounds.ts): each server's wrk is started
// first in its share of rounds, the warm-up loads only servers still cold, and one that stays
// cold is named rather than measured cold without a word.
import { describe, expect, it } from 'vitest';
import { startOrder, stillCold, warmUpLine } from '../../bench/lib/refusal-rounds.js';

const names = ['sluice', 'sluice wait', 'node 503 floor', 'baseline', 'baseline wait'];

describe('bench:refusal rounds', () => {
  it('every contender is started first in turn, and each round starts every contender once', () => {
    const firsts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((r) => startOrder(names, r)[0]);
    for (const n of names) expect(firsts.filter((f) => f === n)).toHaveLength(2);
    for (let r = 1; r <= 10; r++) expect([...startOrder(names, r)].sort()).toEqual([...names].sort());
    expect(startOrder(names, 1)).toEqual(names);
  });

  it('the warm-up loads only the servers still below the target, and says which stayed there', () => {
    const warmed = new Map([
      ['sluice', 41_000],
      ['sluice wait', 12_000],
      ['node 503 floor', 90_000],
    ]);
    expect(stillCold(warmed, 40_000)).toEqual(['sluice wait']);
    expect(warmUpLine(warmed, 40_000)).toBe(
      'warm-up: sluice 41000, sluice wait 12000, node 503 floor 90000 answers, not counted\nWARNING: warm-up incomplete — sluice wait below 40000 answers: their first rounds include JIT compilation',
    );
    expect(warmUpLine(warmed, 10_000)).toBe('warm-up: sluice 41000, sluice wait 12000, node 503 floor 90000 answers, not counted');
    expect(stillCold(warmed, 0)).toEqual([]); // --warmup 0: none
  });
});
