/**
 * A Node proxy under test, in its own process: `proxy-process.ts <kind> <upstream URL>
 * [settings JSON]`, kind `bare` or `refuser` (bare-proxy.ts), `limit` (limit-floor.ts, settings
 * as LimitFloorSettings). Speaks the child side of src/demo/ipc.ts. The sluice gateway does not
 * run here (through tsx) but from its build, dist/demo/server-process.js (built.ts).
 */
import { runChild } from '../../src/demo/child-side.js';
import { startBareProxy, startBareRefuser } from './bare-proxy.js';
import { startLimitFloor } from './limit-floor.js';
import type { LimitFloorSettings } from './limit-floor.js';

await runChild(async () => {
  const [kind, upstreamUrl, settings] = process.argv.slice(2);
  if (upstreamUrl === undefined) throw new Error('usage: proxy-process.ts bare|refuser|limit <upstream URL> [settings JSON]');
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
  throw new Error(`unknown proxy kind ${JSON.stringify(kind)}: bare, refuser or limit (the sluice gateway runs from dist/demo/server-process.js)`);
});
