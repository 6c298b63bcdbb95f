/** Start the sluice gateway in this process in front of the demo upstream (its programmatic API). */
import { startGateway } from '../gateway/index.js';
import type { DemoGatewaySettings } from './gateway-config.js';
import { demoGatewayConfig } from './gateway-config.js';

export interface DemoGateway {
  readonly url: string;
  readonly adminUrl: string;
  close(): Promise<void>;
}

export async function startDemoGateway(upstreamUrl: string, settings: DemoGatewaySettings): Promise<DemoGateway> {
  const gateway = await startGateway(demoGatewayConfig(upstreamUrl, settings));
  return { url: gateway.url, adminUrl: gateway.adminUrl, close: () => gateway.close() };
}
