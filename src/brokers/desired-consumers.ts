/**
 * The autoscaling signal: how many consumers would drain the lag within `drainSeconds` while
 * keeping up with arrivals, from what the consumers measurably do:
 *
 *     perConsumer = processedPerSec / consumers
 *     arrivals    = processedPerSec + growthPerSec        (what comes in = what leaves + what piles up)
 *     desired     = clamp(ceil((arrivals + lag / drainSeconds) / perConsumer), min, max)
 *
 * With no processing measured yet (perConsumer = 0) and a lag, it asks for `max`; with no lag
 * and no arrivals, `min`. Kept current by ConsumerScaling, which the metrics adapters export as
 * the gauge `sluice_broker_desired_consumers` for an HPA or KEDA to read.
 */
import { InvalidArgumentError } from '../core/errors.js';

export interface DesiredConsumersInput {
  readonly lag: number;
  readonly growthPerSec: number;
  readonly processedPerSec: number;
  readonly consumers: number;
  readonly drainSeconds: number;
  readonly min: number;
  readonly max: number;
}

const INPUTS = ['lag', 'growthPerSec', 'processedPerSec', 'consumers', 'drainSeconds', 'min', 'max'] as const;

export function desiredConsumers(i: DesiredConsumersInput): number {
  if (typeof i !== 'object' || i === null) throw new InvalidArgumentError('input', `an object of desiredConsumers() inputs (${INPUTS.join(', ')})`, i);
  for (const k of INPUTS) if (typeof i[k] !== 'number') throw new InvalidArgumentError(`input.${k}`, 'a number', i[k]);
  const clamp = (n: number): number => Math.min(i.max, Math.max(i.min, n));
  const lag = Number.isFinite(i.lag) ? Math.max(0, i.lag) : 0;
  const arrivals = Math.max(0, i.processedPerSec + i.growthPerSec);
  const need = arrivals + lag / i.drainSeconds;
  if (need <= 0) return clamp(i.min);
  const perConsumer = i.consumers > 0 ? i.processedPerSec / i.consumers : 0;
  if (!(perConsumer > 0)) return clamp(i.max);
  return clamp(Math.ceil(need / perConsumer));
}
