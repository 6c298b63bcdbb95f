// One route with one concurrency slot and a queue, in front of an upstream that holds each
// request until the test lets it go: the setup of the queued-close tests.
import type { ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { get, oneRoute, startInProcess, upstream, within } from './helpers.js';

/** An upstream that records each request's path (with its body's length, when it has one) and holds it until the test lets it go. */
export async function heldUpstream(): Promise<{ url: string; seen: string[]; releaseAll: () => void }> {
  const held: ServerResponse[] = [];
  const seen: string[] = [];
  const up = await upstream((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('end', () => {
      seen.push(n === 0 ? (req.url ?? '') : `${req.url} ${n}`);
      held.push(res);
    });
  });
  return { url: up.url, seen, releaseAll: () => held.splice(0).forEach((r) => r.end('ok')) };
}

type Gw = Awaited<ReturnType<typeof startInProcess>>;
/** Requests waiting at the route's concurrency gate. */
export const queued = (gw: Gw): number => gw.status().policies[0]!.gates.find((g) => g.kind === 'concurrency')!.queued;
/** One slot, a queue of 5 that waits up to 10 s. */
export const oneSlot = (up: string) => oneRoute(up, '5s', { routes: [{ path: '/', policy: { concurrency: { limit: 1, queue: 5, queueTimeout: '10s' } } }] });
export const H = 'Host: gw\r\n';

/** A gateway (oneSlot, or `config`) whose one slot GET /1 holds at the upstream: `first` is its answer, to come once the test releases it. */
export async function slotTaken(config: (up: string) => GatewayConfig = oneSlot) {
  const up = await heldUpstream();
  const gw = await startInProcess(config(up.url));
  const first = get(`${gw.url}/1`);
  if (!(await within(3000, () => up.seen.length === 1))) throw new Error('GET /1 never reached the upstream');
  return { up, gw, first };
}
