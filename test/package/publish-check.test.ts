// `npm publish` runs scripts/package/publish-check.mjs first (prepublishOnly): the registry's copy
// must link to the source, the home page and the tracker, and sluice has no public address yet —
// so publishing this checkout stops, naming each missing field; once they are set it passes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'scripts/package/publish-check.mjs');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function check(pkg: Record<string, unknown>): { status: number | null; stderr: string; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-publish-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  const r = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('publish check (prepublishOnly)', () => {
  it('is what npm publish runs first', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['prepublishOnly']).toBe('node scripts/package/publish-check.mjs');
  });

  it('stops this checkout from publishing, naming repository, homepage and bugs', () => {
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', cwd: root });
    expect(r.status).toBe(1);
    for (const field of ['repository', 'homepage', 'bugs']) expect(r.stderr).toMatch(new RegExp(`- ${field}: expected .*, received nothing`));
  });

  it('refuses a placeholder and names what it received', () => {
    const r = check({ name: 'x', version: '1.0.0', repository: 'TBD', homepage: 'https://example.org/x', bugs: { url: 'https://example.org/x/issues' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('repository: expected the public git repository');
    expect(r.stderr).toContain('received "TBD"');
    expect(r.stderr).not.toContain('homepage');
  });

  it('passes once the three links are set', () => {
    const r = check({ name: 'x', version: '1.2.3', repository: { type: 'git', url: 'git+https://example.org/x.git' }, homepage: 'https://example.org/x', bugs: { url: 'https://example.org/x/issues' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('runs from npm: `npm run prepublishOnly` fails in this checkout', () => {
    expect(() => execFileSync('npm', ['run', '--silent', 'prepublishOnly'], { cwd: root, stdio: 'pipe' })).toThrow(/not ready to publish/);
  });
});
