// `npm publish` runs this first (prepublishOnly): the registry's copy is what users install and
// what `npm repo`, `npm bugs` and the registry's page link to, so it must say where the
// source, the home page and the issue tracker are. sluice has no public address yet; rather
// than ship invented links, publishing stops here, naming each field, until they are set.
// Usage: node scripts/package/publish-check.mjs [dir holding package.json] (default: the repo).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.argv[2] ?? fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** A URL with an http(s) or git scheme, as npm accepts in these fields. */
const isUrl = (v) => {
  try {
    return ['http:', 'https:', 'git:', 'git+https:', 'git+ssh:', 'ssh:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
};
const url = (v) => (typeof v === 'string' ? v : v !== null && typeof v === 'object' ? v.url : undefined);

const problems = [];
const want = (field, value, expected) => {
  if (value === undefined) problems.push(`${field}: expected ${expected}, received nothing`);
  else if (!isUrl(value)) problems.push(`${field}: expected ${expected}, received ${JSON.stringify(value)}`);
};
want('repository', url(pkg.repository), 'the public git repository ({ "type": "git", "url": "git+https://…" })');
want('homepage', pkg.homepage, 'the project page (https://…)');
want('bugs', url(pkg.bugs), 'the issue tracker ({ "url": "https://…/issues" })');
if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(String(pkg.version))) problems.push(`version: expected semver x.y.z, received ${JSON.stringify(pkg.version)}`);

if (problems.length > 0) {
  process.stderr.write(`${pkg.name}@${pkg.version} is not ready to publish (package.json):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`${pkg.name}@${pkg.version}: repository, homepage and bugs are set\n`);
