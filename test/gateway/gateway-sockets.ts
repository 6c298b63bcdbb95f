// The gateway's sockets to an upstream, as undici reports them on its diagnostics channels, for
// tests that run the gateway in their own process and count its connections to their upstream.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { onCleanup } from './helpers.js';

interface Connect {
  readonly connectParams: { readonly port: number | string };
  readonly socket?: Socket;
}

/**
 * The gateway's sockets to `port`: `byPort`, those connected, by their own port (kept after
 * they close); `open()`, those being opened or open now (a destroyed one's descriptor is closed);
 * `peak()`, the most at once, counted as each connect starts. Unsubscribed at cleanup.
 */
export function gatewaySockets(port: number): { byPort: Map<number, Socket>; open: () => number; peak: () => number } {
  const byPort = new Map<number, Socket>();
  let opening = 0;
  let peak = 0;
  const open = (): number => {
    let n = opening;
    for (const s of byPort.values()) if (!s.destroyed) n++;
    return n;
  };
  const ours = (m: unknown): boolean => Number((m as Connect).connectParams.port) === port;
  const begun = (m: unknown): void => {
    if (!ours(m)) return;
    opening++;
    peak = Math.max(peak, open());
  };
  const failed = (m: unknown): void => void (ours(m) && opening--);
  const connected = (m: unknown): void => {
    if (!ours(m)) return;
    opening--;
    const s = (m as Connect).socket!;
    // Kept after its close: the upstream may read that close later, and asks by port.
    byPort.set(s.localPort!, s);
  };
  subscribe('undici:client:beforeConnect', begun);
  subscribe('undici:client:connectError', failed);
  subscribe('undici:client:connected', connected);
  onCleanup(async () => {
    unsubscribe('undici:client:beforeConnect', begun);
    unsubscribe('undici:client:connectError', failed);
    unsubscribe('undici:client:connected', connected);
  });
  return { byPort, open, peak: () => peak };
}
