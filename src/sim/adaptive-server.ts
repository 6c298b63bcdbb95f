/**
 * The simulated server: `capacity` requests run at full speed, each needing `baseLatencyMs`
 * of service; beyond that knee the server shares itself among everything in flight
 * (processor sharing), so each request progresses at capacity / inFlight of full speed and
 *   latency = baseLatencyMs · max(1, inFlight / capacity)
 * in steady state — Little's law with throughput capped at capacity / baseLatencyMs.
 *
 * Implemented in cumulative service: every in-flight request has received the same service
 * S since it arrived, dS/dt = min(1, capacity / n) / baseLatencyMs (in requests' worth), and
 * a request arriving at S0 is done at S0 + 1. Equal sizes mean FIFO completion, so a ring of
 * finish marks replaces a heap. Capacity and speed may change at any time; requests in
 * flight carry on at the new rate. The server never cancels work whose client gave up.
 */
export class SimServer<T> {
  capacity: number;
  baseLatencyMs: number;
  #service = 0;
  #finish: number[] = [];
  #items: (T | undefined)[] = [];
  #head = 0;
  #now = 0;

  constructor(capacity: number, baseLatencyMs: number) {
    this.capacity = capacity;
    this.baseLatencyMs = baseLatencyMs;
  }

  get inFlight(): number {
    return this.#finish.length - this.#head;
  }

  /** Service rate per request, requests' worth per ms. */
  #rate(): number {
    const n = this.inFlight;
    return (n <= this.capacity ? 1 : this.capacity / n) / this.baseLatencyMs;
  }

  /** Move the server's time forward; no request may finish strictly before `t` (call nextDoneAt first). */
  advanceTo(t: number): void {
    if (t > this.#now && this.inFlight > 0) this.#service += (t - this.#now) * this.#rate();
    this.#now = t;
  }

  start(item: T): void {
    this.#finish.push(this.#service + 1);
    this.#items.push(item);
  }

  /** When the oldest request finishes if nothing changes, or Infinity. */
  nextDoneAt(): number {
    const f = this.#finish[this.#head];
    return f === undefined ? Infinity : this.#now + Math.max(0, f - this.#service) / this.#rate();
  }

  /** Take the oldest request if it is done (within float error). */
  takeDone(): T | undefined {
    const f = this.#finish[this.#head];
    if (f === undefined || f > this.#service + 1e-9) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head > 4096 && this.#head * 2 > this.#finish.length) {
      this.#finish = this.#finish.slice(this.#head);
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
