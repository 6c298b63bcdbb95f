/** Reading `sluice.yaml`: YAML with positions, then validation; errors name file, line and key path. */
import { readFile } from 'node:fs/promises';
import { GatewayConfigError } from './config-error.js';
import type { GatewayConfig } from './config-types.js';
import type { ResolvedConfig } from './resolved-config.js';
import { resolveConfig } from './validate-config.js';
import { parseYaml } from './yaml-source.js';

/** Parse and validate config text; `file` names it in errors. Throws GatewayConfigError. */
export function parseConfigText(text: string, file: string): GatewayConfig {
  return checkText(text, file).source;
}

export function checkText(text: string, file: string): ResolvedConfig {
  const parsed = parseYaml(text, file);
  if (!parsed.ok) throw new GatewayConfigError(file, parsed.issues);
  return resolveConfig(parsed.value, parsed.source);
}

/** Read, parse and validate a config file. Throws GatewayConfigError (an unreadable file too). */
export async function loadConfigFile(file: string): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new GatewayConfigError(file, [{ path: '', line: undefined, expected: 'a readable file', found: (err as NodeJS.ErrnoException).code ?? String(err) }]);
  }
  return parseConfigText(text, file);
}
