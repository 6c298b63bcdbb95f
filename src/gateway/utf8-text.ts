/**
 * A config file's bytes as text, only when they are UTF-8. `buf.toString('utf8')` turns every
 * byte that is not into U+FFFD without a word: a Latin-1 override key ("key:caf\xe9") became a
 * key no client sends, a header name one no request has — a config that passed and did not do
 * what it said.
 */
import { isUtf8 } from 'node:buffer';

/** Where the bytes stop being UTF-8: 1-based line and column (in bytes), and the byte there. */
export interface NotUtf8 {
  readonly line: number;
  readonly column: number;
  readonly byte: number;
  readonly utf16: boolean;
}

/** The text, or where it is not UTF-8. A leading UTF-8 byte order mark is UTF-8 (YAML allows it). */
export function utf8Text(buf: Uint8Array): { ok: true; text: string } | ({ ok: false } & NotUtf8) {
  if (isUtf8(buf)) return { ok: true, text: Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8') };
  const at = firstInvalid(buf);
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++) {
    if (buf[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  // FF FE or FE FF: a UTF-16 byte order mark, what editors on Windows write for "Unicode".
  const utf16 = buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff));
  return { ok: false, line, column: at - lineStart + 1, byte: buf[at]!, utf16 };
}

/**
 * Index of the first byte that does not belong to a well-formed UTF-8 sequence, as node's own
 * decoder finds it: where it puts its first U+FFFD that was not a U+FFFD (EF BF BD) in the bytes.
 * The replacement characters before it were all such, three bytes each, so the text before it
 * measures the bytes before it.
 */
function firstInvalid(buf: Uint8Array): number {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const text = b.toString('utf8');
  for (let j = text.indexOf('\uFFFD'); j >= 0; j = text.indexOf('\uFFFD', j + 1)) {
    const at = Buffer.byteLength(text.slice(0, j));
    if (b[at] !== 0xef || b[at + 1] !== 0xbf || b[at + 2] !== 0xbd) return at;
  }
  return b.length;
}
