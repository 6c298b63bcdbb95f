// Two in-process gateways sharing a fixed concurrency limit (4) through a test's own Redis
// ('local' mode, 2 instances), and an upstream that counts what is in flight at it — outside
// sluice. Shared by the tests of a Redis that goes away under such a pair.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startGateway } from '../../src/gateway/index.js';
import type { Gateway, GatewayConfig } from '../../src/gateway/index.js';
import { oneRoute, onCleanup, upstream } from '../gateway/helpers.js';

/** An upstream that holds each request `?ms=` long and counts what is in flight at it; its peak from `measure()` on. */
export async function countingUpstream(): Promise<{ url: string; inFlight: () => number; peak: () => number; measure: () => void }> {
  let inFlight = 0;
  let peak = 0;
  let measuring = false;
  const up = await upstream((req: IncomingMessage, res: ServerResponse) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? '0');
    inFlight++;
    if (measuring) peak = Math.max(peak, inFlight);
    setTimeout(() => {
      inFlight--;
      res.end('ok');
    }, ms);
  });
  return { url: up.url, inFlight: () => inFlight, peak: () => peak, measure: () => ((measuring = true), (peak = inFlight)) };
}

/** Two gateways in front of `upstreamUrl`, concurrency 4 shared through `redisUrl`, 'local' mode with 2 instances; closed at cleanup. */
export async function gatewayPair(upstreamUrl: string, redisUrl: string): Promise<[Gateway, Gateway]> {
  const config: GatewayConfig = {
    ...oneRoute(upstreamUrl, '20s'),
    store: { url: redisUrl, onStoreError: 'local', instances: 2, timeout: '250ms' },
    policies: { p: { concurrency: { limit: 4, queue: 100, queueTimeout: '15s' } } },
    routes: [{ path: '/', upstream: 'app', policy: 'p' }],
  };
  const pair: Gateway[] = [];
  for (let i = 0; i < 2; i++) {
    const gw = await startGateway(config);
    onCleanup(() => gw.close());
    pair.push(gw);
  }
  return [pair[0]!, pair[1]!];
}
