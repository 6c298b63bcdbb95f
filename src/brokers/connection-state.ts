/**
 * A source's connection to its broker, as its client reports it: `up`; `reconnecting` (lost,
 * and the client is re-establishing it: commands wait or fail meanwhile); `down` (lost for good,
 * or the source closed). `reconnects` counts the times a lost connection came back.
 */
export type ConnectionState = 'up' | 'reconnecting' | 'down';

/** What a source reports of its connection (BrokerSource.connection). */
export interface ConnectionStats {
  readonly state: ConnectionState;
  /** Lost connections the client re-established since the source opened. */
  readonly reconnects: number;
}

/** The state machine behind ConnectionStats: down is final; a return from reconnecting to up is counted. */
export class ConnectionTracker implements ConnectionStats {
  #state: ConnectionState = 'up';
  #reconnects = 0;

  get state(): ConnectionState {
    return this.#state;
  }

  get reconnects(): number {
    return this.#reconnects;
  }

  /** The connection was lost and the client tries again. */
  lost(): void {
    if (this.#state === 'up') this.#state = 'reconnecting';
  }

  /** The connection is back (or still up). */
  up(): void {
    if (this.#state !== 'reconnecting') return;
    this.#state = 'up';
    this.#reconnects++;
  }

  /** Lost for good, or closed. */
  down(): void {
    this.#state = 'down';
  }

  /** A copy, so a stats snapshot does not change under its reader. */
  snapshot(): ConnectionStats {
    return { state: this.#state, reconnects: this.#reconnects };
  }
}
