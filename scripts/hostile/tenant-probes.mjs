// Identity probes against the yaml scenario's /api route (tenant: x-api-key, 5/s burst 5, a
// daily quota of 20): a client must not get a fresh bucket by respelling its key or planting
// an address, and a quota must hold across workers.
import { call } from './load-probes.mjs';
import { raw, reasonOf, sleep } from './lib.mjs';

const api = (headers) => `GET /api/t HTTP/1.1\r\nHost: gw\r\n${headers}Connection: close\r\n\r\n`;

async function burst(port, n, headers) {
  const out = [];
  for (let i = 0; i < n; i += 1) out.push((await call(port, '/api/t', { headers: typeof headers === 'function' ? headers(i) : headers })).status);
  return out;
}

export async function runTenants(PORTS, upstream) {
  const port = PORTS.proxy;
  const rows = [];
  const one = async (name, headers, status, reason) => {
    const before = upstream.records.length;
    const r = await raw(port, [api(headers)]);
    const st = r.first?.status ?? 0;
    const why = reasonOf(r.first);
    const reached = upstream.records.length - before;
    rows.push({ name, ok: st === status && (reason === undefined || why === reason) && (status === 200 || reached === 0), expected: `${status}${reason ? ` ${reason}` : ''}`, actual: `${st} ${why}; reached upstream ${reached}` });
  };
  await one('x-api-key twice', 'X-Api-Key: a\r\nX-Api-Key: b\r\n', 400, 'duplicate_identity_header');
  await one('x_api_key twin', 'X_Api_Key: a\r\n', 400, 'underscore_identity_header');
  await one('x-api-key named in Connection', 'X-Api-Key: a\r\nConnection: x-api-key\r\n', 400, 'hop_by_hop_identity_header');
  await one('x-api-key with 0xA0', 'X-Api-Key: a\xa0\r\n', 400, 'bad_identity_header');
  await one('x-api-key with a comma list', 'X-Api-Key: a, b\r\n', 400);

  // The rate (5/min): 5 then refusals, however the key is padded with whitespace HTTP drops.
  const spelled = await burst(port, 8, (i) => ({ 'x-api-key': ['k1', ' k1', 'k1 ', '\tk1'][i % 4] }));
  rows.push({ name: 'k1 respelled with OWS, 8 in a row', ok: spelled.filter((s) => s === 200).length === 5, expected: '5 × 200 then 429', actual: spelled.join(' ') });

  // No key: metered per address; planted X-Forwarded-For must not make new clients.
  const planted = await burst(port, 8, (i) => ({ 'x-forwarded-for': `10.0.0.${i}`, forwarded: `for=10.0.1.${i}`, 'x-real-ip': `10.0.2.${i}` }));
  rows.push({ name: 'no key, planted XFF each request', ok: planted.filter((s) => s === 200).length === 5, expected: '5 × 200 then 429', actual: planted.join(' ') });

  // A daily quota of 20: requests the concurrency limit refuses (503, nothing served) must
  // not spend it. 4 served, 10 refused while 5 others hold every slot, then 20 asked: 16 left.
  const first = [];
  for (let i = 0; i < 4; i += 1) first.push((await call(port, '/quota/q', { headers: { 'x-api-key': 'quota-key' } })).status);
  const holders = Array.from({ length: 5 }, (_, i) => call(port, '/quota/slow', { headers: { 'x-api-key': `holder${i}` } }));
  await sleep(400);
  const during = [];
  for (let i = 0; i < 10; i += 1) during.push((await call(port, '/quota/q', { headers: { 'x-api-key': 'quota-key' } })).status);
  await Promise.all(holders);
  const after = [];
  for (let i = 0; i < 20; i += 1) after.push((await call(port, '/quota/q', { headers: { 'x-api-key': 'quota-key' } })).status);
  const served = after.filter((s) => s === 200).length + first.filter((s) => s === 200).length;
  const refusedDuring = during.filter((s) => s === 503).length;
  rows.push({
    name: 'daily quota 20: 503s while the slots are held spend none of it',
    ok: served + during.filter((s) => s === 200).length === 20,
    expected: '20 served in all (4 first, any during, the rest after)',
    actual: `during the hold: ${during.join(' ')}; after: ${after.filter((s) => s === 200).length} × 200 of 20 — ${served + during.filter((s) => s === 200).length} served, ${refusedDuring} refused 503 while held`,
  });
  return rows;
}
