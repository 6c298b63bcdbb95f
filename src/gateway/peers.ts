/**
 * The gateway's own dependencies — ajv (config schema), yaml (config file) and undici
 * (upstream connection pools) — are optional peers, so that installing the library installs
 * nothing. Each is loaded the first time the gateway (or the simulator) needs it, and a
 * missing one is a MissingDependencyError naming it and the install command.
 *
 * Loaded with require(), not import(): all three ship CommonJS, so loading them on demand
 * keeps the gateway's synchronous calls (parseConfigText, a reload's validation) synchronous,
 * and `require('sluice/gateway')` needs no top-level await.
 */
import { createRequire } from 'node:module';
import type * as AjvModule from 'ajv';
import type * as UndiciModule from 'undici';
import type * as YamlModule from 'yaml';
import { MissingDependencyError } from '../core/errors.js';
import { deepFreeze } from '../core/deep-freeze.js';

/** What `sluice gateway` needs besides sluice: optional peers in package.json. */
export const GATEWAY_PEERS = deepFreeze(['ajv', 'undici', 'yaml'] as const);
export type GatewayPeer = (typeof GATEWAY_PEERS)[number];

export const GATEWAY_INSTALL = `npm install ${GATEWAY_PEERS.join(' ')}`;

type Load = (id: string) => unknown;

/**
 * Load `name` with `load`; a package that is not installed becomes a MissingDependencyError
 * for `feature`. Only the package itself counts as missing: an installed package whose own
 * dependency is broken rethrows Node's error unchanged.
 */
export function loadPeer<T>(name: string, feature: string, install: string, load: Load): T {
  try {
    return load(name) as T;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = err instanceof Error ? err.message : '';
    if (code === 'MODULE_NOT_FOUND' && message.startsWith(`Cannot find module '${name}'`)) throw new MissingDependencyError(name, feature, install, { cause: err });
    throw err;
  }
}

const requireHere = createRequire(import.meta.url);
const loaded = new Map<GatewayPeer, unknown>();

function peer<T>(name: GatewayPeer): T {
  if (!loaded.has(name)) loaded.set(name, loadPeer<T>(name, 'the sluice gateway', GATEWAY_INSTALL, requireHere));
  return loaded.get(name) as T;
}

export const ajv = (): typeof AjvModule => peer('ajv');
export const yaml = (): typeof YamlModule => peer('yaml');
export const undici = (): typeof UndiciModule => peer('undici');
