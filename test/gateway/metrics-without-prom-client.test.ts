// prom-client is an optional peer: a gateway in a process that cannot resolve it (a module
// hook that answers "not found", as an install without it would) starts, proxies, and
// answers /metrics 501 with the install hint — loading it at the start must not make it required.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, sluice, tempDir, upstream } from './helpers.js';

afterEach(cleanup);

const HOOK = `export async function resolve(specifier, context, next) {
  if (specifier === 'prom-client' || specifier.startsWith('prom-client/')) {
    throw Object.assign(new Error("Cannot find package 'prom-client'"), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}
`;

describe('gateway without prom-client', () => {
  it('starts and proxies; /metrics answers 501 with the install hint', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'hook.mjs'), HOOK);
    const register = join(dir, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${join(dir, 'hook.mjs')}`).href)});\n`);
    const up = await upstream((_req, res) => res.end('ok'));
    const s = sluice(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0'], ['--import', register]);
    const l = await s.waitFor('listening', 30_000);
    expect((await get(String(l['url']))).status).toBe(200);
    const m = await get(`${String(l['adminUrl'])}/metrics`);
    expect(m.status).toBe(501);
    expect(m.body).toBe('metrics need prom-client: npm install prom-client\n');
    expect((await get(`${String(l['adminUrl'])}/status`)).status).toBe(200);
  });
});
