// The config-errors files' shared steps: a config file in a temporary directory, and
// `sluice gateway --check` of it run in this process.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayCommandRun, tempDir } from './helpers.js';

/** One upstream, the start of most configs these tests check. */
export const UP = 'upstreams:\n  app:\n    url: http://127.0.0.1:3000\n';

export function configFile(yaml: string): string {
  const file = join(tempDir(), 'sluice.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** `sluice gateway --check --config <file>` in this process. */
export async function check(yaml: string): Promise<{ code: number | null; stderr: string; file: string; stdout: string }> {
  const file = configFile(yaml);
  const r = await gatewayCommandRun(['--check', '--config', file]);
  return { code: r.code, stderr: r.stderr.replaceAll(file, 'sluice.yaml'), file, stdout: r.stdout.trimEnd() };
}
