// A context that is not an object: a JavaScript caller's null, or a number meant as the cost
// (`acquire(3)`). Before, null threw "Cannot read properties of null (reading 'cost')" and a
// number, string or array was read as an empty context (a cost of 1, admitted).
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, consecutiveFailures } from '../../src/breaker/index.js';
import { compose } from '../../src/compose/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { InvalidArgumentError, VirtualClock } from '../../src/core/index.js';
import type { AdmissionContext, Gate } from '../../src/core/index.js';
import { Channel } from '../../src/queue/index.js';
import { KeyedRateLimiter, TokenBucket } from '../../src/rate/index.js';

const clock = new VirtualClock();
const gates: [string, () => Gate][] = [
  ['ConcurrencyGate', () => new ConcurrencyGate({ limit: 2, clock })],
  ['TokenBucket', () => new TokenBucket({ rate: 1, burst: 5, clock })],
  ['KeyedRateLimiter', () => new KeyedRateLimiter({ policy: { algorithm: 'gcra', rate: 1, burst: 5 }, clock })],
  ['CircuitBreaker', () => new CircuitBreaker({ rule: consecutiveFailures({ threshold: 1 }), clock })],
  ['compose', () => compose(new TokenBucket({ rate: 1, burst: 5, clock }), new ConcurrencyGate({ limit: 2, clock }))],
];

describe('an admission context that is not an object', () => {
  for (const [name, make] of gates) {
    for (const [shown, ctx] of [['null', null], ['3', 3], ['"a"', 'a'], ['an array of length 0', []]] as const) {
      it(`${name}: admit(${shown}) and acquire(${shown}) name the context`, async () => {
        const gate = make();
        const message = `context: expected an object ({ key, priority, cost, deadline, maxWaitMs, signal }) or undefined, received ${shown}`;
        expect(() => gate.admit(ctx as unknown as AdmissionContext)).toThrow(message);
        await expect(gate.acquire(ctx as unknown as AdmissionContext)).rejects.toThrow(InvalidArgumentError);
        expect(gate.stats().admitted).toBe(0);
      });
    }
  }

  it('a Channel put with a context that is not an object', async () => {
    const ch = new Channel<number>({ capacity: 1, clock });
    await expect(ch.put(1, null as unknown as AdmissionContext)).rejects.toThrow('context: expected an object');
    expect(ch.size).toBe(0);
  });

  it('a deadline that is not a number names what it is; a symbol is shown as one', () => {
    const gate = new ConcurrencyGate({ limit: 1, clock });
    expect(() => gate.admit({ deadline: NaN })).toThrow("deadline: expected a number (a time on the gate's clock), received NaN");
    expect(() => gate.admit({ cost: Symbol('c') as unknown as number })).toThrow('cost: expected a number >= 1, received Symbol(c)');
  });
});
