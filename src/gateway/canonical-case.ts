/**
 * A canonical path as a `caseInsensitive` route matches it: regardless of case, as upstreams
 * that match so read it. ASCII case is not the whole of it: some letters beyond ASCII are ASCII
 * letters to a case-insensitive matcher — `ı` (U+0131) and `İ` (U+0130) are `i` to Python's
 * re.IGNORECASE (its docs name them, with `ſ` U+017F and the Kelvin sign U+212A), to Java's
 * equalsIgnoreCase and to Spring's case-insensitive PathPattern; and an upstream that compares
 * upper-cased forms (JavaScript's, Python's and Java's toUpperCase) reads `ß` as `SS` and `ﬁ` as
 * `FI`. A canonical path carries such letters percent-encoded (canonical-path.ts), so lower-casing
 * it left `/ap%C4%B1/x` and `/a%C3%9Fets` on the catch-all route while such an upstream served
 * them from its /api and /assets handlers (red21).
 *
 * The fold: the path's letters beyond ASCII decoded, `İ` made `i` (Java's Character.toLowerCase;
 * JavaScript's gives `i` + a combining dot), upper-cased then lower-cased (`ß` → `SS` → `ss`,
 * `ı` → `I` → `i`, `ſ` → `S` → `s`, Kelvin → itself → `k`), re-encoded, all of it in lower case.
 * No letter folds to path syntax (`/`, `.`, `%`...), so the segments stay as they were.
 */

/** An escaped byte beyond ASCII: where a canonical path's letters beyond ASCII are. */
const HIGH_ESCAPE = /%[89A-Fa-f][0-9A-Fa-f]/;
const HIGH_ESCAPES = /%([89A-Fa-f][0-9A-Fa-f])/g;

/** `path` (canonical, or a route's path, canonical too) in the form case-insensitive routes compare. */
export function caseFolded(path: string): string {
  if (!HIGH_ESCAPE.test(path)) return path.toLowerCase();
  // Valid UTF-8: canonicalTarget refused a path that is not (bad_utf8), and validates a route's.
  const text = Buffer.from(
    path.replace(HIGH_ESCAPES, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
  let out = '';
  for (const ch of text.replaceAll('\u0130', 'i').toUpperCase().toLowerCase()) {
    if (ch.charCodeAt(0) < 0x80) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}
