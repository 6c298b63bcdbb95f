/** Reading `sluice.yaml`: YAML with positions, then validation; errors name file, line and key path. */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { InvalidArgumentError } from '../core/errors.js';
import { GatewayConfigError } from './config-error.js';
import type { GatewayConfig } from './config-types.js';
import type { ResolvedConfig } from './resolved-config.js';
import { resolveConfig } from './validate-config.js';
import { utf8Text } from './utf8-text.js';
import { parseYaml } from './yaml-source.js';

/** Parse and validate config text; `file` names it in errors. Throws GatewayConfigError. */
export function parseConfigText(text: string, file: string): GatewayConfig {
  // A caller's mistake, not the config's: a GatewayConfigError would blame a file that was never read.
  if (typeof text !== 'string') throw new InvalidArgumentError('text', 'the config as a string of YAML or JSON', text);
  if (typeof file !== 'string' || file.length === 0) throw new InvalidArgumentError('file', 'a non-empty string naming the config in errors (its path)', file);
  return checkText(text, file).source;
}

export function checkText(text: string, file: string): ResolvedConfig {
  const parsed = parseYaml(text, file);
  if (!parsed.ok) throw new GatewayConfigError(file, parsed.issues);
  return resolveConfig(parsed.value, parsed.source);
}

/** The largest config file read: a config is kilobytes; more is a mistake (the wrong file, a log). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * A config file's text, or GatewayConfigError naming why not. Only a regular file of at most
 * MAX_CONFIG_BYTES: a FIFO (or a symlink to one) blocked the read until a writer came — at
 * start, or at a reload, behind which every later reload waited — and /dev/zero or a huge file
 * was read whole into memory. Text that is not UTF-8 is refused with its line (utf8-text.ts). Opened non-blocking (a FIFO without a writer does not block the
 * open), then judged by what the descriptor is, not by the path (which may change between).
 */
export async function readConfigText(file: string): Promise<string> {
  const refuse = (expected: string, found: string): GatewayConfigError => new GatewayConfigError(file, [{ path: '', line: undefined, expected, found }]);
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw refuse('a readable file', (err as NodeJS.ErrnoException).code ?? String(err));
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw refuse('a regular file', st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device');
    if (st.size > MAX_CONFIG_BYTES) throw refuse(`a file of at most ${MAX_CONFIG_BYTES} bytes`, `${st.size} bytes`);
    // Read to one byte past the bound: a file that grew since the stat is caught too.
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_CONFIG_BYTES) throw refuse(`a file of at most ${MAX_CONFIG_BYTES} bytes`, 'more (it grew while read)');
    }
    const text = utf8Text(buf.subarray(0, n));
    if (text.ok) return text.text;
    const hex = `0x${text.byte.toString(16).padStart(2, '0')}`;
    const found = text.utf16 ? `a UTF-16 file (byte order mark ${hex}${buf[1]!.toString(16)})` : `byte ${hex} at column ${text.column}, which UTF-8 cannot have there (a file in another encoding: Latin-1, Windows-1252?)`;
    throw new GatewayConfigError(file, [{ path: '', line: text.utf16 ? 1 : text.line, expected: 'UTF-8 text', found }]);
  } catch (err) {
    if (err instanceof GatewayConfigError) throw err;
    throw refuse('a readable file', (err as NodeJS.ErrnoException).code ?? String(err));
  } finally {
    await handle.close();
  }
}

/** Read, parse and validate a config file. Throws GatewayConfigError (an unreadable or unfit file too: readConfigText). */
export async function loadConfigFile(file: string): Promise<GatewayConfig> {
  return parseConfigText(await readConfigText(file), file);
}
