// Types for the `require` condition of the exports map. At run time `require('sluice/...')`
// loads the same ES module (Node >= 20.19 and >= 22.12 require() ES modules and return their
// namespace); what differs is how TypeScript reads the declarations. A CommonJS project with
// `module: node16` refuses to import a declaration file that sits in a `"type": "module"`
// package (TS1479). The same declarations under dist/cjs-types/, whose package.json says
// `"type": "commonjs"`, describe exactly what require() returns: the named exports.
import { cpSync, readdirSync, writeFileSync } from 'node:fs';

const dist = new URL('../../dist/', import.meta.url);
const out = new URL('cjs-types/', dist);
let count = 0;
for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
  if (!file.endsWith('.d.ts') || file.startsWith('cjs-types')) continue;
  cpSync(new URL(file, dist), new URL(file, out));
  count += 1;
}
writeFileSync(new URL('package.json', out), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
process.stderr.write(`cjs-types: ${count} declaration files under dist/cjs-types/\n`);
