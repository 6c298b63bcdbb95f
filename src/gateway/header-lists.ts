/**
 * Header values that are comma-separated lists (RFC 9110 section 5.6.1: `#element`): Connection,
 * Expect, Transfer-Encoding. An element is what lies between commas with its OWS — space and
 * horizontal tab (section 5.6.3), nothing else — taken off; empty elements count for nothing.
 * Tokens compare case-insensitively. llhttp reads them so: a Transfer-Encoding of `chunked` + NBSP
 * (0xA0, which String.prototype.trim also strips) is no chunked to undici, whose body then came
 * through with its chunk framing while the gateway, trimming it to `chunked`, relayed it as the
 * content (session 18); five modules each split and trimmed their own way until then.
 */

/** OWS at either end of a list element: SP and HTAB only. */
const OWS_ENDS = /^[ \t]+|[ \t]+$/g;

/** The elements of list `value`, lowercased, their OWS taken off, empty ones left out. */
export function listElements(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const element = part.replace(OWS_ENDS, '').toLowerCase();
    if (element !== '') out.push(element);
  }
  return out;
}

/** Whether list `value` has an element equal to `token` (any case); an empty token is no element. */
export function listHas(value: string, token: string): boolean {
  const wanted = token.toLowerCase();
  // Shorter than the token: no element can equal it (most often '', no such header: every answer asks).
  if (wanted === '' || value.length < wanted.length) return false;
  for (const part of value.split(',')) if (part.replace(OWS_ENDS, '').toLowerCase() === wanted) return true;
  return false;
}
