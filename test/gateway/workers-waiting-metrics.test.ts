// /metrics says how many requests wait for admission, per policy (sluice_requests_waiting{policy})
// and on every route (sluice_gateway_requests_waiting); with --workers the primary's page shows
// them summed over the workers, without a worker label. Until gwsplit neither was on the page:
// sluice_queue_depth is each worker's gate's alone, and leaves out a request asking for its slot
// after its body. Real waiting requests: 2 slots held by an upstream that does not answer yet, 4
// more on their own connections (the kernel spreads them over both workers).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { PrimaryStatus } from '../../src/gateway/primary.js';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, sluice, tempDir, upstream, within } from './helpers.js';

afterEach(cleanup);

const config = (up: string): string => `listen: { host: 127.0.0.1, port: 0 }
admin: { port: 0 }
server: { workers: 2 }
upstreams:
  app: { url: ${up} }
policies:
  api:
    concurrency: { limit: 2, queue: 10, queueTimeout: 60s }
  other:
    concurrency: { limit: 5, queue: 5, queueTimeout: 1s }
routes:
  - { name: reads, path: /api, policy: api }
  - { name: more, path: /other, policy: other }
`;

/** The sample lines of `family` on the page, as written. */
const lines = (text: string, family: string): string[] => text.split('\n').filter((l) => l.startsWith(`${family} `) || l.startsWith(`${family}{`));

describe('sluice gateway --workers 2: requests waiting on /metrics', () => {
  it('per policy and in all, summed over the workers; back to 0 once they are served', async () => {
    const held: ServerResponse[] = [];
    const up = await upstream((_req, res) => void held.push(res));
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, config(up.url));
    const gw = sluice(['gateway', '--config', file]);
    const l = await gw.waitFor('listening', WORKERS_START_MS);
    const [url, adminUrl] = [String(l['url']), String(l['adminUrl'])];
    const status = async (): Promise<PrimaryStatus> => JSON.parse((await get(`${adminUrl}/status`)).body) as PrimaryStatus;
    const scrape = async (): Promise<string> => (await get(`${adminUrl}/metrics`)).body;

    const replies = Array.from({ length: 6 }, () => get(`${url}/api/x`));
    // 2 at the upstream, 4 waiting (the primary's status: its workers' summed, refreshed once a second).
    expect(await within(60_000, async () => held.length === 2 && (await status()).queued === 4)).toBe(true);
    const page = await scrape();
    expect(lines(page, 'sluice_requests_waiting')).toEqual(['sluice_requests_waiting{policy="api"} 4', 'sluice_requests_waiting{policy="other"} 0']);
    expect(lines(page, 'sluice_gateway_requests_waiting')).toEqual(['sluice_gateway_requests_waiting 4']);
    expect(page).toContain('# TYPE sluice_requests_waiting gauge');

    // Served one by one as slots come free: nothing waits, and the page says 0.
    expect(await within(60_000, async () => (held.splice(0).forEach((r) => r.end('ok')), (await status()).queued === 0 && held.length === 0))).toBe(true);
    expect((await Promise.all(replies)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const after = await scrape();
    expect(lines(after, 'sluice_requests_waiting')).toEqual(['sluice_requests_waiting{policy="api"} 0', 'sluice_requests_waiting{policy="other"} 0']);
    expect(lines(after, 'sluice_gateway_requests_waiting')).toEqual(['sluice_gateway_requests_waiting 0']);
  }, WORKERS_TEST_MS);
});
