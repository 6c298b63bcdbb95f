// parseConfigText (sluice/gateway) given what is not text or a file name: an InvalidArgumentError
// naming the argument — it threw "Cannot read properties of undefined (reading 'length')" — and
// not a GatewayConfigError, which would blame a config that was never read.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/index.js';
import { parseConfigText } from '../../src/gateway/index.js';

const loose = <T>(v: unknown): T => v as T;
const TEXT = 'text: expected the config as a string of YAML or JSON, received';
const FILE = 'file: expected a non-empty string naming the config in errors (its path), received';
const YAML = 'upstreams:\n  api: { url: http://127.0.0.1:1 }\nroutes:\n  - { path: /, upstream: api }\n';

const CASES: readonly [string, () => unknown, string][] = [
  ['text undefined', () => parseConfigText(loose(undefined), 'sluice.yaml'), `${TEXT} undefined`],
  ['text null', () => parseConfigText(loose(null), 'sluice.yaml'), `${TEXT} null`],
  ['text a Buffer', () => parseConfigText(loose(Buffer.from(YAML)), 'sluice.yaml'), `${TEXT} an object`],
  ['text an object', () => parseConfigText(loose({ upstreams: {} }), 'sluice.yaml'), `${TEXT} an object`],
  ['file undefined', () => parseConfigText(YAML, loose(undefined)), `${FILE} undefined`],
  ['file empty', () => parseConfigText(YAML, ''), `${FILE} ""`],
  ['file a number', () => parseConfigText(YAML, loose(42)), `${FILE} 42`],
];

describe('parseConfigText names a bad argument', () => {
  it.each(CASES)('%s', (_label, call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it('reads valid text as before', () => {
    expect(parseConfigText(YAML, 'sluice.yaml').upstreams).toEqual({ api: { url: 'http://127.0.0.1:1' } });
  });
});
