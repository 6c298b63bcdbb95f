// The Express and Fastify adapters against the oldest majors package.json's peer ranges claim:
// compiles test/types/adapters.test-d.ts (and through it src/express, src/fastify) with
// test/types/tsconfig.oldest-majors.json, which maps `express` to @types/express 4 and
// `fastify` to fastify 4 (devDependency aliases @types/express4, fastify4), then checks from
// tsc's file list that those were the typings compiled, and not the newest majors' as well.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
for (const alias of ['@types/express4', 'fastify4']) {
  if (!existsSync(new URL(`../node_modules/${alias}/package.json`, import.meta.url))) {
    process.stderr.write(`typecheck of the oldest majors: the devDependency ${alias} is not installed (run npm install)\n`);
    process.exit(1);
  }
}
const r = spawnSync(process.execPath, [tsc, '-p', 'test/types/tsconfig.oldest-majors.json', '--listFiles'], { cwd: root, encoding: 'utf8' });
const lines = r.stdout.split('\n').filter((l) => l !== '');
const files = lines.filter((l) => /\.(d\.)?[cm]?ts$/.test(l) && !l.includes('error TS')).map((f) => f.replaceAll('\\', '/'));
if (r.status !== 0) {
  process.stderr.write(`${lines.filter((l) => !files.includes(l.replaceAll('\\', '/'))).join('\n')}\n${r.stderr}`);
  process.exit(r.status ?? 1);
}
const problems = [];
for (const want of ['/node_modules/@types/express4/index.d.ts', '/node_modules/@types/express4/node_modules/@types/express-serve-static-core/index.d.ts', '/node_modules/fastify4/fastify.d.ts']) {
  if (!files.some((f) => f.endsWith(want))) problems.push(`not compiled: ${want}`);
}
const top = `${root.replaceAll('\\', '/')}node_modules/`;
for (const unwanted of ['@types/express/index.d.ts', '@types/express-serve-static-core/index.d.ts', 'fastify/fastify.d.ts']) {
  if (files.includes(`${top}${unwanted}`)) problems.push(`a newest major's typings were compiled too: node_modules/${unwanted}`);
}
if (problems.length > 0) {
  process.stderr.write(`typecheck of the oldest majors: ${problems.join('; ')}\n`);
  process.exit(1);
}
