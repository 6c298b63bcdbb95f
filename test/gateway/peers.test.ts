// The gateway's optional peers: loaded on demand; a missing one is a MissingDependencyError that
// names the package and the install command. (The packed-tarball test runs the gateway in an app
// where they are not installed: test/package/pack.test.ts.)
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSluiceError, MissingDependencyError } from '../../src/core/index.js';
import { ajv, GATEWAY_INSTALL, loadPeer, undici, yaml } from '../../src/gateway/peers.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-peers-'));
// Node's own resolution from a directory with no node_modules of its own above it.
const requireInEmptyDir = createRequire(join(dir, 'app.js'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gateway peers', () => {
  it('load when installed (this repository has them as devDependencies)', () => {
    expect(typeof ajv().Ajv).toBe('function');
    expect(typeof yaml().parseDocument).toBe('function');
    expect(typeof undici().Pool).toBe('function');
    expect(ajv()).toBe(ajv());
  });

  it('a package that is not installed: MissingDependencyError with the package and the command', () => {
    let caught: unknown;
    try {
      loadPeer('sluice-test-absent-package', 'the sluice gateway', GATEWAY_INSTALL, requireInEmptyDir);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MissingDependencyError);
    expect(isSluiceError(caught)).toBe(true);
    expect(caught).toMatchObject({
      code: 'SLUICE_ERR_MISSING_DEPENDENCY',
      name: 'MissingDependencyError',
      dependency: 'sluice-test-absent-package',
      install: 'npm install ajv undici yaml',
      message: 'the sluice gateway needs the package "sluice-test-absent-package", which is not installed: npm install ajv undici yaml',
    });
    expect((caught as Error).cause).toMatchObject({ code: 'MODULE_NOT_FOUND' });
  });

  it('an installed package whose own dependency is missing: Node\'s error, not a misleading install hint', () => {
    const pkgDir = join(dir, 'node_modules', 'broken-peer');
    mkdirSync(pkgDir, { recursive: true });
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: 'broken-peer', version: '1.0.0', main: 'index.js' }));
    writeFileSync(join(pkgDir, 'index.js'), "require('its-own-missing-dependency');\n");
    expect(() => loadPeer('broken-peer', 'the sluice gateway', GATEWAY_INSTALL, requireInEmptyDir)).toThrow(/Cannot find module 'its-own-missing-dependency'/);
    try {
      loadPeer('broken-peer', 'the sluice gateway', GATEWAY_INSTALL, requireInEmptyDir);
    } catch (err) {
      expect(err).not.toBeInstanceOf(MissingDependencyError);
    }
  });
});
