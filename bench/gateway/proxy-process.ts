/**
 * A Node proxy under test, in its own process: `proxy-process.ts <kind> <upstream URL>
 * [settings JSON]`, kind `sluice` (the gateway, settings as in src/demo/gateway-config.ts),
 * `bare` or `refuser` (bare-proxy.ts), `limit` (limit-floor.ts, settings as LimitFloorSettings). Speaks the child side of src/demo/ipc.ts.
 * `npm run bench:gateway` runs the sluice gateway from its build instead (built.ts); `bench:refusal`
 * still runs it here, from src through tsx (its `--baseline` runs the other checkout's copy of this file).
 */
import { runChild } from '../../src/demo/child-side.js';
import type { DemoGatewaySettings } from '../../src/demo/gateway-config.js';
import { startBareProxy, startBareRefuser } from './bare-proxy.js';
import { startLimitFloor } from './limit-floor.js';
import type { LimitFloorSettings } from './limit-floor.js';

await runChild(async () => {
  const [kind, upstreamUrl, settings] = process.argv.slice(2);
  if (upstreamUrl === undefined) throw new Error('usage: proxy-process.ts sluice|bare|refuser|limit <upstream URL> [settings JSON]');
  if (kind === 'bare') {
    const proxy = await startBareProxy(upstreamUrl);
    return { url: proxy.url, parts: { close: proxy.close } };
  }
  if (kind === 'refuser') {
    const refuser = await startBareRefuser();
    return { url: refuser.url, parts: { close: refuser.close } };
  }
  if (kind === 'limit') {
    const floor = await startLimitFloor(upstreamUrl, JSON.parse(settings ?? '') as LimitFloorSettings);
    return { url: floor.url, parts: { close: floor.close } };
  }
  if (kind !== 'sluice') throw new Error(`unknown proxy kind ${JSON.stringify(kind)}: sluice, bare, refuser or limit`);
  const { startDemoGateway } = await import('../../src/demo/gateway-front.js');
  const gateway = await startDemoGateway(upstreamUrl, JSON.parse(settings ?? '') as DemoGatewaySettings);
  return { url: gateway.url, adminUrl: gateway.adminUrl, parts: { close: () => gateway.close() } };
});
