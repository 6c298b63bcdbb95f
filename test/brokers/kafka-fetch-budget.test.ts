import { describe, expect, it } from 'vitest';
import { FetchBudget, RECORD_OVERHEAD } from '../../src/kafka/fetch-budget.js';

const ceilings = { maxBytesPerPartition: 1_048_576, maxBytes: 10_485_760 };

describe('FetchBudget', () => {
  it('asks for the room left in the partition buffers, at the assumed record size until one is seen', () => {
    let rooms = [8, 3, 0];
    const b = new FetchBudget({ ...ceilings, initialRecordBytes: 1000, adaptive: true }, () => rooms);
    expect(b.perPartition()).toBe(8 * 1000);
    expect(b.total()).toBe(11 * 1000);
    rooms = [0, 0];
    expect(b.perPartition()).toBe(1000); // never below one record: a fetch must be able to make progress
    expect(b.total()).toBe(1000);
  });

  it('follows the observed record size (key + value + headers + overhead), α = 0.2', () => {
    const b = new FetchBudget({ ...ceilings, initialRecordBytes: 1000, adaptive: true }, () => [10]);
    const record = { key: Buffer.from('k1'), value: Buffer.alloc(96), headers: { h: 'vv' }, timestamp: '0', attributes: 0, offset: '0' };
    const size = RECORD_OVERHEAD + 2 + 96 + 1 + 2;
    b.observe(record);
    expect(b.recordBytes).toBeCloseTo(1000 + 0.2 * (size - 1000));
    for (let i = 0; i < 100; i++) b.observe(record);
    expect(b.recordBytes).toBeCloseTo(size, 3);
    expect(b.perPartition()).toBe(Math.ceil(10 * b.recordBytes));
  });

  it('stays within the ceilings; fixed sizing asks for the ceilings always', () => {
    const big = new FetchBudget({ maxBytesPerPartition: 5000, maxBytes: 12_000, initialRecordBytes: 1000, adaptive: true }, () => [64, 64, 64]);
    expect(big.perPartition()).toBe(5000);
    expect(big.total()).toBe(12_000);
    const fixed = new FetchBudget({ ...ceilings, initialRecordBytes: 1000, adaptive: false }, () => [1]);
    expect(fixed.perPartition()).toBe(ceilings.maxBytesPerPartition);
    expect(fixed.total()).toBe(ceilings.maxBytes);
  });

  it('hands kafkajs limits that are read anew at each use (Buffer#writeInt32BE converts with +value)', () => {
    let rooms = [4];
    const b = new FetchBudget({ ...ceilings, initialRecordBytes: 100, adaptive: true }, () => rooms);
    const limits = b.kafkajsLimits();
    const buf = Buffer.alloc(8);
    buf.writeInt32BE(limits.maxBytesPerPartition, 0);
    buf.writeInt32BE(limits.maxBytes, 4);
    expect([buf.readInt32BE(0), buf.readInt32BE(4)]).toEqual([400, 400]);
    rooms = [2, 5];
    buf.writeInt32BE(limits.maxBytesPerPartition, 0);
    buf.writeInt32BE(limits.maxBytes, 4);
    expect([buf.readInt32BE(0), buf.readInt32BE(4)]).toEqual([500, 700]);
  });
});
