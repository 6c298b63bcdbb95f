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

/** Index of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629, section 4). */
function firstInvalid(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // The length of the sequence and the range of its second byte (overlongs, surrogates and
    // code points above U+10FFFF are excluded there).
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) n = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      n = 3;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 4;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    if (i + 1 >= buf.length || buf[i + 1]! < lo || buf[i + 1]! > hi) return i;
    for (let k = 2; k < n; k++) if (i + k >= buf.length || (buf[i + k]! & 0xc0) !== 0x80) return i;
    i += n;
  }
  return buf.length;
}
