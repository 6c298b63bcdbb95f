/**
 * Game-day faults on a route: a delay before forwarding, or an answer with a status instead
 * of forwarding, each for a share of requests. Requests are picked evenly, not at random:
 * request n is picked when ⌊n·p/100⌋ moves (Bresenham), so any window of 100 requests holds
 * p of them (±1) and a rehearsal is the same every time. The fault happens after admission,
 * where the upstream would: a delayed request holds its permit (latency rises, an adaptive
 * limit sees it), an aborted one releases with the status's outcome (a breaker counts a 5xx).
 * An aborted 429 or 503 carries `Retry-After` (the gateway's default, 1 s), as every 429 and 503
 * the gateway writes does: a rehearsal exercises the clients' real path (RFC 9110 section
 * 10.2.3; retry libraries wait for it on these two). Other statuses carry none, as the
 * gateway's own 500, 502 and 504 do not.
 */
import type { ServerResponse } from 'node:http';
import type { HttpPermit } from '../http/http-permit.js';
import type { FaultConfig } from './config-types.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import { writeProblem } from './responses.js';
import { durationMs } from './units.js';

/** The Retry-After of an injected abort, s: the gateway's default on a 429 or 503, as its own refusals carry; none on other statuses. */
export function faultRetryAfterS(status: number): number | undefined {
  return status === 429 || status === 503 ? GATEWAY_DEFAULTS.retryAfterS : undefined;
}

class EvenPicker {
  #n = 0;
  constructor(readonly percent: number) {}
  next(): boolean {
    const n = this.#n++;
    return Math.floor(((n + 1) * this.percent) / 100) > Math.floor((n * this.percent) / 100);
  }
}

export interface FaultSnapshot {
  readonly delayMs: number | undefined;
  readonly delayPercent: number | undefined;
  readonly abortStatus: number | undefined;
  readonly abortPercent: number | undefined;
  readonly delayed: number;
  readonly aborted: number;
}

export class RouteFault {
  readonly delayMs: number | undefined;
  readonly abortStatus: number | undefined;
  readonly #delay: EvenPicker | undefined;
  readonly #abort: EvenPicker | undefined;
  delayed = 0;
  aborted = 0;

  constructor(c: FaultConfig) {
    this.delayMs = c.delay === undefined ? undefined : durationMs(c.delay.duration);
    this.#delay = c.delay === undefined ? undefined : new EvenPicker(c.delay.percent);
    this.abortStatus = c.abort?.status;
    this.#abort = c.abort === undefined ? undefined : new EvenPicker(c.abort.percent);
  }

  /**
   * Run `forward` for this request, after the fault if one is picked. An aborted request is
   * answered here, and its permit ended with the status's outcome, as the upstream's would be.
   */
  apply(res: ServerResponse, forward: () => void, permit: HttpPermit | undefined): void {
    const { delayMs, abortStatus } = this.pick();
    const go = (): void => {
      if (res.destroyed || res.writableEnded) {
        permit?.release('ignored'); // the client left while held: no work was done
        return;
      }
      if (abortStatus !== undefined) {
        const retryAfterS = faultRetryAfterS(abortStatus);
        writeProblem(res, abortStatus, 'injected_fault', 'Injected fault (route fault.abort).', retryAfterS === undefined ? {} : { 'Retry-After': String(retryAfterS) });
        permit?.finish(abortStatus);
      } else forward();
    };
    if (delayMs === undefined) return go();
    setTimeout(go, delayMs);
  }

  /**
   * The fault for the next request (counted): a delay before it goes on, and whether it is
   * answered with the abort status instead of forwarded. `sluice simulate` applies the same
   * picks on its virtual clock.
   */
  pick(): { readonly delayMs: number | undefined; readonly abortStatus: number | undefined } {
    const delay = this.#delay?.next() === true;
    const abort = this.#abort?.next() === true;
    if (delay) this.delayed++;
    if (abort) this.aborted++;
    return { delayMs: delay ? this.delayMs : undefined, abortStatus: abort ? this.abortStatus : undefined };
  }

  snapshot(): FaultSnapshot {
    return {
      delayMs: this.delayMs,
      delayPercent: this.#delay?.percent,
      abortStatus: this.abortStatus,
      abortPercent: this.#abort?.percent,
      delayed: this.delayed,
      aborted: this.aborted,
    };
  }
}
