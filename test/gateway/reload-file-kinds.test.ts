// A config file that became something other than a small regular file (hostile-9): a FIFO
// blocked the read until a writer came — at a reload, every later reload waited behind it, so
// the gateway never reloaded again — and a symlink to /dev/zero or a huge file was read whole
// into memory. Each is now refused at once, named, and the running config keeps serving.
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gateway, gatewayCommandRun, get, oneLimitYaml, tempDir, upstream, within } from './helpers.js';
import { mkfifoSync } from './mkfifo.js';

afterEach(cleanup);

const config = (up: string, limit: number): string => oneLimitYaml(up, limit);

const REJECTED = 'reload rejected: the previous config keeps serving';

describe('a config file that is not a small regular file', () => {
  it('a FIFO, /dev/zero, a huge file: each reload is refused naming it, the next good one applies', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const dir = tempDir();
    const file = join(dir, 'sluice.yaml');
    writeFileSync(file, config(up.url, 3));
    const gw = await gateway(['gateway', '--config', file]);
    const swapIn = (make: (path: string) => void): void => {
      const tmp = join(dir, `next-${Math.random()}`);
      make(tmp);
      renameSync(tmp, file);
    };
    const cases: [string, (p: string) => void, string][] = [
      ['fifo', (p) => mkfifoSync(p), `${file}: (document): expected a regular file, found a FIFO`],
      ['zero', (p) => symlinkSync('/dev/zero', p), `${file}: (document): expected a regular file, found a device`],
      ['huge', (p) => writeFileSync(p, `# ${'x'.repeat(2 * 1024 * 1024)}\n`), `${file}: (document): expected a file of at most 1048576 bytes, found 2097155 bytes`],
    ];
    // The swap is seen twice, by the file watch and by SIGHUP: on a busy host the previous case's
    // second rejection can come after this case's swap, so the rejection naming this case is awaited.
    const rejections = (from: number): unknown[] =>
      gw.lines.slice(from).flatMap((l) => {
        try {
          const o = JSON.parse(l) as Record<string, unknown>;
          return o['msg'] === REJECTED ? [o['error']] : [];
        } catch {
          return [];
        }
      });
    for (const [, make, error] of cases) {
      const from = gw.lines.length;
      swapIn(make);
      gw.child.kill('SIGHUP');
      await gw.waitFor(REJECTED, 10_000, from);
      await within(10_000, () => rejections(from).includes(error), 20);
      expect(rejections(from)).toContain(error);
      expect((await get(`${gw.url}/`)).status).toBe(200);
    }
    // Reloads still run: a good file applies (before: the FIFO's read never ended, and this waited behind it).
    const from = gw.lines.length;
    swapIn((p) => writeFileSync(p, config(up.url, 5)));
    gw.child.kill('SIGHUP');
    await gw.waitFor('reloaded', 10_000, from);
    const st = JSON.parse((await get(`${gw.adminUrl}/status`)).body) as Record<string, unknown>;
    expect(JSON.stringify(st)).toContain('"limit":5');
  }, 60_000);

  it('read through a symlink swapped as a Kubernetes ConfigMap volume does it, a change reloads (hostile-11: no event named the file, and it never did)', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const dir = tempDir();
    // sluice.yaml -> ..data/sluice.yaml, ..data -> ..v1: the kubelet writes ..v2, then renames a new ..data link over the old.
    const version = (v: string, limit: number): void => {
      mkdirSync(join(dir, v));
      writeFileSync(join(dir, v, 'sluice.yaml'), config(up.url, limit));
    };
    version('..v1', 3);
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync('..data/sluice.yaml', join(dir, 'sluice.yaml'));
    const gw = await gateway(['gateway', '--config', join(dir, 'sluice.yaml')]);
    const from = gw.lines.length;
    version('..v2', 7);
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    // A bound, not a figure: before, no reload came at all.
    await gw.waitFor('reloaded', 10_000, from);
    const st = JSON.parse((await get(`${gw.adminUrl}/status`)).body) as Record<string, unknown>;
    expect(JSON.stringify(st)).toContain('"limit":7');
  }, 60_000);

  it('--check says the same at once', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'fifo.yaml');
    mkfifoSync(fifo);
    const r = await gatewayCommandRun(['--config', fifo, '--check']);
    expect(r).toMatchObject({ code: 2, stderr: `${fifo}: (document): expected a regular file, found a FIFO\n` });
  });

  it('an empty --config (an unset variable: --config "$SLUICE_CONFIG") is the flag\'s error, as every other flag\'s empty value', async () => {
    // Until hostile-29: ': (document): expected a readable file, found ENOENT' — a file named by nothing.
    for (const argv of [['--config', ''], ['--config='], ['--config', '', '--check']]) {
      const r = await gatewayCommandRun(argv);
      expect(r).toMatchObject({ code: 2, stderr: 'sluice gateway: --config: expected the path of a config file, received "" (an empty value: an unset variable?)\n' });
    }
  });
});
