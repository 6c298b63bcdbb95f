// `npm run measure:install`: what installing sluice costs a user. Builds and packs the
// package, installs the tarball into a fresh app outside the repository, and counts the
// packages and bytes in node_modules: the library alone, then with the gateway's optional
// peers (ajv, undici, yaml) added, as `sluice gateway` asks for them.
// npm reads its cache first (--prefer-offline); a package it does not have is fetched.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

/** Bytes of the files under dir (apparent size, symlinks not followed). */
function bytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += bytes(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

/** Installed packages: the directories npm recorded in node_modules/.package-lock.json. */
function packages(app) {
  const lock = JSON.parse(readFileSync(join(app, 'node_modules/.package-lock.json'), 'utf8'));
  return Object.keys(lock.packages).filter((k) => k.startsWith('node_modules/')).map((k) => k.slice('node_modules/'.length));
}

const work = mkdtempSync(join(tmpdir(), 'sluice-install-'));
try {
  // What prepack does, run first so that its output stays out of `npm pack --json`.
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  const [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], root));
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const install = (...specs) => npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...specs], app);

  install(join(work, packed.filename));
  const lib = { packages: packages(app), bytes: bytes(join(app, 'node_modules')) };
  const peers = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).peerDependencies;
  install(...['ajv', 'undici', 'yaml'].map((name) => `${name}@${peers[name]}`));
  const gw = { packages: packages(app), bytes: bytes(join(app, 'node_modules')) };

  const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;
  const rows = [
    ['install', 'packages', 'node_modules', 'of which sluice'],
    ['npm install sluice (the library)', String(lib.packages.length), mb(lib.bytes), mb(bytes(join(app, 'node_modules/sluice')))],
    ['+ npm install ajv undici yaml (the gateway)', String(gw.packages.length), mb(gw.bytes), ''],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}\n`);
  const shipped = join(app, 'node_modules/sluice');
  const parts = readdirSync(shipped).map((name) => [name, statSync(join(shipped, name)).isDirectory() ? bytes(join(shipped, name)) : statSync(join(shipped, name)).size]);
  process.stdout.write(`\nsluice's own: ${parts.sort((a, b) => b[1] - a[1]).map(([name, b]) => `${name} ${mb(b)}`).join(', ')}\n`);
  process.stdout.write(`tarball ${packed.filename}: ${mb(packed.size)} packed, ${mb(packed.unpackedSize)} unpacked, ${packed.entryCount} files\n`);
  process.stdout.write(`library install: ${lib.packages.join(', ')}\n`);
  process.stdout.write(`gateway peers add: ${gw.packages.filter((p) => !lib.packages.includes(p)).join(', ')}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
