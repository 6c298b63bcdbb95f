/**
 * A forked server process of the demo (and of bench/gateway.ts): the demo upstream, or the
 * sluice gateway in front of an upstream elsewhere. `argv[2]` is a JSON {@link ServerSpec}.
 * Runs the child side of ipc.ts.
 */
import { runChild } from './child-side.js';
import type { DemoGatewaySettings } from './gateway-config.js';
import type { DemoUpstreamOptions } from './upstream.js';
import { startDemoUpstream } from './upstream.js';

export type ServerSpec =
  | { readonly upstream: DemoUpstreamOptions }
  | { readonly gateway: DemoGatewaySettings; readonly upstreamUrl: string };

await runChild(async () => {
  const spec = JSON.parse(process.argv[2] ?? '') as ServerSpec;
  if ('upstream' in spec) {
    const upstream = await startDemoUpstream(spec.upstream);
    return { url: upstream.url, parts: { upstream, close: () => upstream.close() } };
  }
  // Loaded only when asked: the upstream's process does not load the gateway at all.
  const { startDemoGateway } = await import('./gateway-front.js');
  const gateway = await startDemoGateway(spec.upstreamUrl, spec.gateway);
  return { url: gateway.url, adminUrl: gateway.adminUrl, parts: { close: () => gateway.close() } };
});
