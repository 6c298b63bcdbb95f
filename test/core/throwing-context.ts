import type { AdmissionContext } from '../../src/core/index.js';

/** A context whose `key` getter throws 'key getter failed' (read by a gate's admit event). */
export function throwingKey(): AdmissionContext {
  return Object.defineProperty({}, 'key', {
    get: (): never => {
      throw new Error('key getter failed');
    },
  }) as AdmissionContext;
}
