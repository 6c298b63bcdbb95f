#!/usr/bin/env node
// The `sluice` command. An installed package runs its build (dist/). A clone of the repository
// runs the TypeScript source through tsx (a devDependency) so that `npx sluice` works right
// after `npm ci`, without `npm run build`, and never runs a stale build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli/main.js', import.meta.url);

async function tsxLoader() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined;
  }
}

const tsx = existsSync(source) ? await tsxLoader() : undefined;
if (tsx !== undefined) {
  tsx.register();
  // register() hooks this process only: a process it forks (`gateway --workers`: node:cluster
  // runs src/gateway/worker-main.ts) inherits execArgv, not the hooks, and every worker died
  // at once, ERR_UNKNOWN_FILE_EXTENSION ".ts" (hostile-12). Its loader goes to them too.
  process.execArgv.push('--import', import.meta.resolve('tsx'));
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write('sluice: no build found (dist/cli/main.js) and tsx is not installed to run the source: run `npm ci` (or `npm run build`) first\n');
  process.exitCode = 2;
}
