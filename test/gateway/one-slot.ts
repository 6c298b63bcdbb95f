// One route with one concurrency slot and a queue, in front of an upstream that holds each
// request until the test lets it go: the setup of the queued-close tests.
import type { ServerResponse } from 'node:http';
import type { startInProcess} from './helpers.js';
import { oneRoute, upstream } from './helpers.js';

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
