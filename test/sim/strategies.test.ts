import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { strategiesCommand } from '../../src/cli/strategies.js';
import { simulateStrategy, STRATEGIES } from '../../src/sim/strategies.js';

const short = { durationSec: 5, capacity: 500 } as const;

describe('the strategies scenario (virtual time)', () => {
  for (const strategy of STRATEGIES) {
    it(`${strategy}: every offered event is accounted for`, async () => {
      const r = await simulateStrategy(strategy, short);
      expect(r.offered).toBe(50_000);
      expect(r.delivered + r.lost + r.rejected + r.bufferedAtEnd + r.heldAtSource).toBe(r.offered);
      // the consumer is never starved while work is waiting: it delivers its full rate
      expect(r.delivered).toBe(25_000);
      expect(r.delayP99Ms).toBeGreaterThanOrEqual(r.delayP50Ms);
    });
  }

  it('bounded strategies never buffer more than the capacity; the unbounded buffer grows by the rate gap', async () => {
    for (const s of STRATEGIES.filter((x) => x !== 'unbounded')) {
      expect((await simulateStrategy(s, short)).peakBuffer).toBeLessThanOrEqual(500);
    }
    const unbounded = await simulateStrategy('unbounded', short);
    expect(unbounded.peakBuffer).toBeGreaterThanOrEqual(0.99 * 5 * 5_000);
    expect(unbounded.lost + unbounded.rejected).toBe(0);
  });

  it('block loses nothing but moves the backlog to the source; drops and rejections keep the delay bounded', async () => {
    const block = await simulateStrategy('block', short);
    expect(block.lost + block.rejected).toBe(0);
    expect(block.heldAtSource).toBeGreaterThan(20_000);
    for (const s of ['drop-newest', 'drop-oldest', 'reject'] as const) {
      const r = await simulateStrategy(s, short);
      expect(r.delayP99Ms).toBeLessThanOrEqual((500 / 5_000) * 1000 + 1); // a full buffer drains in capacity / consumer rate
    }
    const tb = await simulateStrategy('token-bucket', short);
    expect(tb.lost).toBe(0);
    expect(tb.peakBuffer).toBeLessThanOrEqual(100 + 10);
  });

  it('the command prints the table and JSON', async () => {
    let text = '';
    const out = new Writable({ write: (chunk: Buffer, _e, cb) => ((text += chunk.toString()), cb()) });
    await strategiesCommand(['--duration', '2s'], out);
    expect(text).toMatch(/strategy\s+peak buffer\s+memory \(peak\)\s+delivered\s+lost\s+rejected/);
    for (const s of STRATEGIES) expect(text).toContain(s);
    text = '';
    await strategiesCommand(['--duration', '1s', '--json'], out);
    expect((JSON.parse(text) as { results: unknown[] }).results).toHaveLength(STRATEGIES.length);
    await expect(strategiesCommand(['--duration', 'soon'], out)).rejects.toThrow('--duration: expected a duration from 1s to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), received "soon"');
    await expect(strategiesCommand(['--duration', '2'], out)).rejects.toThrow('--duration: expected a duration from 1s to 1h');
  });
});
