// A monitor's autoscale options and queueSignal's options refuse a key they do not know, and
// autoscale: null is an option error — before, { autoscale: { dwell: 5000 } } scaled after the
// default 10 s, and autoscale: null threw "Cannot read properties of null (reading 'onScale')".
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import { PressureMonitor, queueSignal } from '../../src/pressure/index.js';

const loose = <T>(v: unknown): T => v as T;

describe('pressure sub-option keys', () => {
  it('autoscale: a misspelt key is named with its path', () => {
    const clock = new VirtualClock();
    expect(() => new PressureMonitor({ clock, signals: [queueSignal(() => 0, { capacity: 10 })], autoscale: loose({ onScale: () => undefined, dwell: 5000 }) })).toThrow('autoscale.dwell: expected one of the autoscale options (did you mean "dwellMs"?), received 5000');
  });
  it('autoscale: null is an option error', () => {
    const clock = new VirtualClock();
    expect(() => new PressureMonitor({ clock, signals: [queueSignal(() => 0, { capacity: 10 })], autoscale: loose(null) })).toThrow(InvalidOptionError);
    expect(() => new PressureMonitor({ clock, signals: [queueSignal(() => 0, { capacity: 10 })], autoscale: loose(null) })).toThrow(/^autoscale: expected an object \{ onScale, /);
  });
  it('queueSignal: a misspelt key is named', () => {
    expect(() => queueSignal(() => 1, loose({ capacty: 10 }))).toThrow('capacty: expected one of the queueSignal options (did you mean "capacity"?), received 10');
  });
});
