/**
 * The one form of a request path the gateway routes on and forwards, so that the gateway and
 * an upstream that normalises paths (nginx, WHATWG URL parsers, most frameworks) can never
 * disagree on which route a request took. `/healthz/../api/x`, `/healthz/%2e%2e/api/x`,
 * `//api/x`, `/./api/x` and `/%61pi/x` are all `/api/x` here, and `/api/x` is what the
 * upstream receives.
 *
 * The rules, in order, per segment of the path (the query string is kept byte for byte, a
 * `#` in it refused):
 * - a percent-escape of an unreserved character (RFC 3986 section 2.3: ALPHA, DIGIT, `-._~`)
 *   is decoded; every other escape is kept, its hex in capitals (`%3b` is `%3B`);
 * - a character that may not stand raw in a path (`"<>^`{|}[]`, non-ASCII) is percent-encoded;
 * - empty segments are dropped: `//` collapses to `/` (a trailing slash is kept);
 * - `.` segments are dropped and `..` removes the segment before it (RFC 3986 section 5.2.4),
 *   after decoding, so `%2e%2e` is `..`.
 *
 * Refused (400, with the reason), because some upstream would route them differently from
 * any form this gateway could forward: an encoded `/` (`%2F`, a segment separator to many
 * upstreams and not to others), `\` raw or encoded (a `/` to WHATWG URL parsers), NUL and
 * control characters raw or encoded, a malformed escape (`%zz`), `..` above the root, a
 * dot segment carrying a parameter (`..;x`, a `..` to Tomcat-style servers), an escaped `%`
 * before `2E`, `2F` or `5C` (`%252e`, a dot or slash to upstreams that decode twice), and a
 * fragment (`#`) anywhere in the target, query included: RFC 9112 section 3.2 gives a request
 * target no fragment and RFC 3986 no `#` in a query, and upstreams part ways on one there
 * (WHATWG parsers end the query at it, others keep it), so it is refused rather than forwarded
 * or silently cut.
 */

/** Why a path was refused: a stable label for metrics and logs. */
export type PathRefusal =
  | 'bad_target'
  | 'bad_escape'
  | 'encoded_slash'
  | 'backslash'
  | 'control_char'
  | 'above_root'
  | 'dot_segment_param'
  | 'double_encoded'
  | 'fragment'
  | 'bad_utf8'
  | 'unicode_path_char';

export type CanonicalTarget =
  | { readonly ok: true; /** The canonical path, what routes match. */ readonly path: string; /** The canonical path and the query as received: what is forwarded. */ readonly target: string }
  | { readonly ok: false; readonly reason: PathRefusal; /** A sentence for the client. */ readonly detail: string };

const DETAIL: Readonly<Record<PathRefusal, string>> = {
  bad_target: 'The request target is neither a path starting with / nor an absolute URL of this gateway.',
  bad_escape: 'The path has a malformed percent-escape (a % not followed by two hex digits).',
  encoded_slash: 'The path has an encoded slash (%2F): it is refused, as upstreams disagree on what it means.',
  backslash: 'The path has a backslash (raw or %5C): it is refused, as some upstreams read it as a slash.',
  control_char: 'The path has a control character or NUL (raw or encoded).',
  above_root: 'The path climbs above the root with "..".',
  dot_segment_param: 'The path has a dot segment with a parameter (such as "..;x").',
  double_encoded: 'The path has an encoded percent before 2E, 2F or 5C (such as %252e): a dot or slash encoded twice.',
  fragment: 'The request target has a fragment (#), in its path or its query: request targets carry none (RFC 9112 section 3.2).',
  bad_utf8: 'The path has escaped bytes that are not UTF-8 (an overlong, truncated or surrogate sequence): a lax decoder reads %c0%ae as a dot.',
  unicode_path_char: 'The path has a character that Unicode compatibility normalization (NFKC) turns into a dot segment, a slash, a backslash or a percent sign (such as a fullwidth full stop).',
};

function refuse(reason: PathRefusal): CanonicalTarget {
  return { ok: false, reason, detail: DETAIL[reason] };
}

/**
 * Paths already canonical: segments of characters allowed raw in a path, none empty, none a
 * dot segment (with or without a parameter), and no escape at all. Most requests take this
 * way and are returned as they came.
 */
const CANONICAL = /^(?:\/(?!\.\.?(?:[/;]|$))[A-Za-z0-9\-._~!$&'()*+,;=:@]+)*\/?$/;

const HEX = '0123456789ABCDEF';

/** Characters that stand raw in a canonical segment: RFC 3986 pchar minus pct-encoded. */
function isPathChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x40 && c <= 0x5a) || // @ A-Z
    (c >= 0x26 && c <= 0x3b) || // & ' ( ) * + , - . / 0-9 : ;
    c === 0x21 || c === 0x24 || c === 0x3d || c === 0x5f || c === 0x7e // ! $ = _ ~
  );
}

function isUnreserved(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

const escape = (byte: number): string => `%${HEX[byte >> 4]!}${HEX[byte & 15]!}`;

/** Why a segment has no canonical form (an object: a decoded segment may read like a reason). */
interface Refusal {
  readonly reason: PathRefusal;
}
const refusals = Object.fromEntries(Object.keys(DETAIL).map((r) => [r, { reason: r }])) as Readonly<Record<PathRefusal, Refusal>>;

/** One raw segment, decoded as far as canonical form goes; a refusal when it cannot be. */
function segment(raw: string): string | Refusal {
  let out = '';
  /** A byte beyond ASCII is in it (escaped): its UTF-8 is judged at the end. */
  let high = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return refusals.bad_escape;
      const byte = (hi << 4) | lo;
      i += 2;
      if (byte === 0x2f) return refusals.encoded_slash;
      if (byte === 0x5c) return refusals.backslash;
      if (byte < 0x20 || byte === 0x7f) return refusals.control_char;
      if (byte === 0x25) {
        const next = raw.slice(i + 1, i + 3).toUpperCase();
        if (next === '2E' || next === '2F' || next === '5C') return refusals.double_encoded;
      }
      if (byte >= 0x80) high = true;
      out += isUnreserved(byte) ? String.fromCharCode(byte) : escape(byte);
    } else if (c === 0x5c) return refusals.backslash;
    else if (c < 0x20 || c === 0x7f) return refusals.control_char;
    else if (c === 0x23) return refusals.fragment;
    else if (isPathChar(c)) out += raw[i];
    else if (c < 0x80) out += escape(c);
    else {
      // Beyond ASCII (node:http's parser refuses these; an absolute-form target may carry one): UTF-8 bytes, escaped.
      const cp = raw.codePointAt(i)!;
      high = true;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += escape(b);
      if (cp > 0xffff) i++;
    }
  }
  // Judged on the result too: `%25%32%65` decodes (its unreserved `2` and `e`) to `%252e`.
  if (DOUBLE_ENCODED.test(out)) return refusals.double_encoded;
  return high ? (unicodeVerdict(out) ?? out) : out;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** Path syntax that NFKC can make of other characters: a slash, a backslash, a percent sign. */
const SYNTAX = /[/\\%]/g;
const syntaxCount = (s: string): number => s.match(SYNTAX)?.length ?? 0;

/**
 * A canonical segment with escaped bytes beyond ASCII: refused when they are not UTF-8
 * (overlong forms such as `%c0%ae`, a `.` to a lax decoder; truncated sequences; surrogates),
 * or when Unicode compatibility normalization — which some upstreams apply (Python's
 * unicodedata, IIS's best fit) — turns the segment into a dot segment or gives it a `/`, `\`
 * or `%` (`%EF%BC%8E`, a fullwidth full stop, is `.` under NFKC).
 */
function unicodeVerdict(seg: string): Refusal | undefined {
  let text: string;
  try {
    text = UTF8.decode(Buffer.from(seg.replace(/%([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1'));
  } catch {
    return refusals.bad_utf8;
  }
  const n = text.normalize('NFKC');
  if (n === text) return undefined;
  const bare = n.split(';', 1)[0]!;
  return bare === '.' || bare === '..' || syntaxCount(n) > syntaxCount(text) ? refusals.unicode_path_char : undefined;
}

const DOUBLE_ENCODED = /%25(?:2E|2F|5C)/i;

/** The canonical form of an origin-form request target (`/path?query`), or why there is none. */
export function canonicalTarget(url: string): CanonicalTarget {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  // `#` is no query character (RFC 3986 section 3.4); in the path, segment() refuses it.
  if (q >= 0 && url.indexOf('#', q) >= 0) return refuse('fragment');
  if (CANONICAL.test(path)) return { ok: true, path, target: url };
  if (path.charCodeAt(0) !== 0x2f) return refuse('bad_target');
  const raws = path.slice(1).split('/');
  const out: string[] = [];
  let trailing = false;
  for (let i = 0; i < raws.length; i++) {
    const s = segment(raws[i]!);
    if (typeof s !== 'string') return refuse(s.reason);
    const last = i === raws.length - 1;
    if (s === '' || s === '.') {
      trailing = last;
      continue;
    }
    if (s === '..') {
      if (out.length === 0) return refuse('above_root');
      out.pop();
      trailing = last;
      continue;
    }
    if (s.startsWith('.;') || s.startsWith('..;')) return refuse('dot_segment_param');
    out.push(s);
    trailing = false;
  }
  const canonical = out.length === 0 ? '/' : `/${out.join('/')}${trailing ? '/' : ''}`;
  return { ok: true, path: canonical, target: q < 0 ? canonical : `${canonical}${url.slice(q)}` };
}

/**
 * A canonical path with each segment's parameters (`;` to the segment's end) set aside, as
 * servlet containers (Tomcat, Jetty) read it before routing: `/api;jsessionid=1/x` is
 * `/api/x` to them. The request handler refuses a path whose route would differ.
 */
export function withoutParams(path: string): string {
  const bare = path.replace(/;[^/]*/g, '');
  const c = canonicalTarget(bare);
  return c.ok ? c.path : bare;
}

/** An escaped byte beyond ASCII: the only place a canonical path has characters NFKC may change. */
const HIGH_ESCAPE = /%[89A-F][0-9A-F]/;

/**
 * A canonical path as an upstream that applies Unicode compatibility normalization (NFKC:
 * Python's unicodedata, IIS's best fit) reads it, in canonical form: `/%EF%BD%81pi/x` (a
 * fullwidth `a`) is `/api/x` to it. Undefined when NFKC changes nothing. The request handler
 * refuses a path whose route would differ (hostile-15); segments NFKC turns into dot segments
 * or path syntax were refused already (unicode_path_char).
 */
export function withCompatibilityForms(path: string): string | undefined {
  if (!HIGH_ESCAPE.test(path)) return undefined;
  // Valid UTF-8 here: canonicalTarget refused what is not (bad_utf8).
  const text = Buffer.from(
    path.replace(/%([89A-F][0-9A-F])/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
  const n = text.normalize('NFKC');
  if (n === text) return undefined;
  const c = canonicalTarget(n);
  return c.ok ? c.path : n;
}

/** A segment of a canonical path ends in a dot or an (escaped) space. */
const TRAILING = /(?:\.|%20)(?:\/|$)/;

/**
 * A canonical path with each segment's trailing dots and spaces set aside, as Windows file
 * and URL handling (IIS) and path matchers that trim tokens (older Spring MVC) read it:
 * `/admin./x` and `/admin%20/x` are `/admin/x` to them. A segment left empty is dropped.
 * Undefined when no segment ends so. The request handler refuses a path whose route would
 * differ (hostile-3 H4).
 */
export function withoutTrailingDotsAndSpaces(path: string): string | undefined {
  if (!TRAILING.test(path)) return undefined;
  const segments = path
    .split('/')
    .map((seg) => seg.replace(/(?:\.|%20)+$/, ''))
    .filter((seg) => seg !== '');
  const c = canonicalTarget(`/${segments.join('/')}`);
  return c.ok ? c.path : undefined;
}

/** Why a path that routes elsewhere under another reading is refused (request-handler.ts). */
export type AmbiguousReading = 'ambiguous_params' | 'ambiguous_trailing' | 'ambiguous_unicode';

const NO_READINGS: readonly (readonly [AmbiguousReading, string])[] = [];

/**
 * The other paths an upstream may read a canonical path as, each with the reason it is
 * refused for when it matches another route: its segment parameters dropped (servlet
 * containers), its segments' trailing dots and spaces dropped (IIS), and its NFKC form — and
 * that form's parameters, dots and spaces dropped too (`/api%EF%BC%8E/x`, a fullwidth full
 * stop, is `/api./x` under NFKC and `/api/x` to IIS, which maps best fit and trims both;
 * hostile-15). Most paths have none (one shared empty list).
 */
export function otherReadings(path: string): readonly (readonly [AmbiguousReading, string])[] {
  const nfkc = withCompatibilityForms(path);
  const hasParams = path.includes(';');
  const trimmed = withoutTrailingDotsAndSpaces(path);
  if (nfkc === undefined && !hasParams && trimmed === undefined) return NO_READINGS;
  const out: (readonly [AmbiguousReading, string])[] = [];
  if (hasParams) out.push(['ambiguous_params', withoutParams(path)]);
  if (trimmed !== undefined) out.push(['ambiguous_trailing', trimmed]);
  if (nfkc !== undefined) {
    out.push(['ambiguous_unicode', nfkc]);
    if (nfkc.includes(';')) out.push(['ambiguous_unicode', withoutParams(nfkc)]);
    const t = withoutTrailingDotsAndSpaces(nfkc);
    if (t !== undefined) out.push(['ambiguous_unicode', t]);
  }
  return out;
}
