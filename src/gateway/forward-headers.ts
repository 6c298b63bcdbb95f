/**
 * Headers across the proxy. Hop-by-hop headers (RFC 9110 section 7.6.1: Connection and every
 * header it names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, and Proxy-*) belong
 * to one connection and are dropped both ways, and so is `Proxy` (httpoxy). X-Forwarded-For/-Proto/-Host and Forwarded
 * (RFC 7239) are appended to when the peer is a trusted proxy, and replaced otherwise: an
 * untrusted client cannot plant an address the upstream will believe. Trusted proxies write
 * one of the two (`proxyHeader`); the other is rebuilt from it, not appended to, since such a
 * proxy passes it on as the client sent it (forwardingChains). For the same reason
 * the other headers through which proxies speak for a client (X-Real-IP, True-Client-IP,
 * every other X-Forwarded-*, X-Original-URL, ...: STRIPPED_HEADERS) and those the operator
 * lists (`server.stripHeaders`) are dropped unless the peer is a trusted proxy.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeaderPair } from '../http/ratelimit-headers.js';
import type { TrustCheck } from '../http/trusted-proxies.js';
import { forwardedParam } from '../http/forwarded.js';
import type { ProxyHeader } from '../http/forwarded.js';
import { parseIp, parseNode } from '../http/ip.js';
import { decremented, hopCounted } from './max-forwards.js';
import { listElements } from './header-lists.js';

// `Proxy` is no hop-by-hop header, but a CGI-style upstream turns it into HTTP_PROXY, the proxy
// its own outbound calls then go through (httpoxy, CVE-2016-5385): nobody legitimate sends it,
// and it is dropped whoever sent it, as the Proxy-* are.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'proxy']);
/** Request headers the gateway writes itself (the upstream's Host and the forwarding headers). */
const REPLACED = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

/**
 * Request headers only a proxy may write, dropped from untrusted peers besides every
 * `x-forwarded-*`: the client's address as CDNs and proxies pass it (an upstream that trusts
 * them would take a planted one for the client's), and the original-URL headers some
 * frameworks route on (a planted one would route around the canonical path).
 */
export const STRIPPED_HEADERS: readonly string[] = [
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-original-forwarded-for',
  'x-original-url',
  'x-rewrite-url',
  // Read by client-IP libraries after the usual names (PHP's HTTP_CLIENT_IP, request-ip,
  // django-ipware), CDNs' own names, and Envoy's (hostile finding F23).
  'client-ip',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'x-proxyuser-ip',
  'forwarded-for',
  'x-forwarded',
  'x-appengine-user-ip',
  'akamai-client-ip',
  'cdn-src-ip',
  'ali-cdn-real-ip',
  'cf-pseudo-ipv4',
  'x-envoy-external-address',
  'x-envoy-internal',
  // Host and scheme overrides some frameworks honour (a planted one poisons generated URLs and host routing).
  'x-host',
  'x-http-host-override',
  'x-original-host',
  'front-end-https',
  'x-url-scheme',
  // ... and those of ingress-nginx, Tornado (xheaders) and Envoy, which pass the scheme and the original target so (hostile-15).
  'x-scheme',
  'x-original-uri',
  'x-envoy-original-path',
  // A client certificate as a TLS-terminating proxy passes it on: the gateway terminates no TLS,
  // so any is planted, and an upstream that authenticates by it would take the client for whoever
  // the (public) certificate names. RFC 9440 (a TLS-terminating proxy removes any a client sent), IIS ARR
  // and ASP.NET Core's certificate forwarding, nginx and HAProxy conventions (hostile-15).
  'client-cert',
  'client-cert-chain',
  'x-arr-clientcert',
  'x-arr-ssl',
  'x-ssl-client-cert',
  'x-ssl-client-verify',
  'x-ssl-client-s-dn',
  'x-ssl-client-i-dn',
  'x-ssl-client-dn',
  'ssl-client-cert',
  'ssl-client-verify',
  'x-client-cert',
  'x-client-verify',
];

/**
 * Names dropped from untrusted peers by their prefix: every `x-forwarded-*`, and every
 * `x-envoy-*` — what an Envoy in front of the upstream (a mesh sidecar) obeys from a request
 * it takes for internal, as the gateway's are: `x-envoy-max-retries: 10` with
 * `x-envoy-retry-on: 5xx` made one admitted request eleven at the upstream, and
 * `x-envoy-upstream-rq-timeout-ms: 0` took its timeout away (hostile-15). Envoy at an edge
 * drops them from external requests so. And every `l5d-*`, Linkerd's: a Linkerd proxy in
 * ingress mode beside the gateway routes a request by its `l5d-dst-override` — to any
 * service of the cluster, an open proxy (hostile-15).
 */
function proxyPrefixed(lower: string): boolean {
  return lower.startsWith('x-forwarded-') || lower.startsWith('x-envoy-') || lower.startsWith('l5d-');
}

/**
 * Adds to `into` the names a Connection header value lists (lowercased), but for those
 * hop-by-hop whatever it says (HOP_BY_HOP): nearly every response says `Connection:
 * keep-alive`, and then no set is built at all.
 */
function connectionNamed(value: string, into: Set<string> | undefined): Set<string> | undefined {
  if (HOP_BY_HOP.has(value.toLowerCase())) return into; // `keep-alive` alone: nothing to split
  for (const n of listElements(value)) if (!HOP_BY_HOP.has(n)) (into ??= new Set()).add(n);
  return into;
}

function isHopByHop(name: string, named: Set<string> | undefined): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || named?.has(name) === true;
}

/** The names a raw request header list's Connection headers name (they are hop-by-hop too). */
function namedInRaw(raw: readonly string[]): Set<string> | undefined {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 10 && name.toLowerCase() === 'connection') named = connectionNamed(raw[i + 1]!, named);
  }
  return named;
}

/**
 * The draft RateLimit fields are lists of quota items, each naming its policy: the gateway's
 * items and the upstream's go out together, two field lines that are one list (RFC 9110 section
 * 5.3). With one of them dropped when the upstream sent the name, a client read the upstream's
 * `r=999` and met the gateway's 429, or a gateway `RateLimit` item beside the upstream's
 * `RateLimit-Policy`, which does not list it (hostile-19).
 */
const LIST_FIELDS: ReadonlySet<string> = new Set(['ratelimit', 'ratelimit-policy']);

/**
 * A response's header block for writeHead, as a flat name/value list: `own` (the admission's
 * RateLimit headers) unless the upstream sent the same name — the draft's list fields both
 * ways (LIST_FIELDS), single-valued ones (`X-RateLimit-*`, `Retry-After`) the upstream's —
 * then the upstream's end-to-end headers (raw, as undici or node:http hand them over: in
 * order, duplicates such as Set-Cookie kept, bytes as latin1 like node:http).
 */
export function responseHead(raw: readonly (string | Buffer)[], own: readonly HeaderPair[]): string[] {
  // One pass decodes each name once and finds what Connection names; the second keeps the
  // end-to-end ones (the names Connection lists are known only after the first).
  const n = raw.length >> 1;
  const names = new Array<string>(n);
  const lower = new Array<string>(n);
  let named: Set<string> | undefined;
  for (let i = 0; i < n; i++) {
    const name = raw[i * 2]!.toString('latin1');
    const l = name.toLowerCase();
    names[i] = name;
    lower[i] = l;
    if (l === 'connection') named = connectionNamed(raw[i * 2 + 1]!.toString('latin1'), named);
  }
  const out: string[] = [];
  for (const [name, value] of own) {
    const l = name.toLowerCase();
    if (LIST_FIELDS.has(l) || !lower.includes(l)) out.push(name, value);
  }
  for (let i = 0; i < n; i++) if (!isHopByHop(lower[i]!, named)) out.push(names[i]!, raw[i * 2 + 1]!.toString('latin1'));
  return out;
}

/** The peer's address as text (IPv4-mapped IPv6 as IPv4). */
export function peerAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A Forwarded parameter value: a token, or a quoted string (IPv6 addresses always). */
function forwardedValue(v: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(v) ? v : `"${v.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Why the upstream never receives request header `name` as a client sent it (undefined: it
 * does): hop-by-hop, written by the gateway itself, or dropped from untrusted peers. A policy
 * that limits by such a header limits by a value the client picks freely and the upstream
 * never sees (hostile-8: `--tenant-header x-forwarded-for`, a fresh bucket per planted address).
 */
export function notForwardedAsSent(name: string): string | undefined {
  // Judged with underscores as dashes, as upstreamRequestHead drops them: `x_forwarded_for` as
  // a tenant header was a fresh key per request, and the header never reached the upstream (hostile-11).
  const lower = name.toLowerCase();
  const n = lower.replaceAll('_', '-');
  if (isHopByHop(n, undefined)) return 'is hop-by-hop: it never reaches the upstream';
  if (n !== lower && n === 'content-length') return 'is Content-Length to upstreams that read headers CGI-style, and dropped: the gateway frames the body itself';
  if (n !== 'host' && REPLACED.has(n)) return 'is rewritten by the gateway (from the connection, and from trusted proxies): the upstream never sees what a client sent';
  if (proxyPrefixed(n) || STRIPPED_HEADERS.includes(n)) return 'is dropped unless the peer is a trusted proxy: the upstream never sees what a client sent';
  return undefined;
}

/**
 * Lowercase names dropped from untrusted peers: STRIPPED_HEADERS and `extra` (the operator's),
 * with underscores as dashes — a header is looked up so (upstreamRequestHead), and an entry
 * written CGI-style (`x_user_id`, as PHP shows it: HTTP_X_USER_ID) stripped nothing, neither
 * X-User-Id nor X_User_Id (hostile-11).
 */
export function strippedSet(extra: readonly string[] = []): ReadonlySet<string> {
  return new Set([...STRIPPED_HEADERS, ...extra.map((n) => n.toLowerCase().replaceAll('_', '-'))]);
}

const DEFAULT_STRIPPED = strippedSet();

/**
 * What the forwarding headers need of a connection's peer, worked out on its first request
 * (the address parsed, the trust list asked, the Forwarded `for=` quoted) and kept for the
 * next ones; again when the trust list is another (a reload swaps it). The last Forwarded
 * element is kept with the Host it was made for: a connection's requests name one host.
 */
interface PeerFacts {
  readonly trusted: TrustCheck | undefined;
  readonly peer: string;
  readonly believe: boolean;
  /** The `for=` parameter of Forwarded. */
  readonly forParam: string;
  host: string | undefined;
  element: string;
}

const peerFacts = new WeakMap<object, PeerFacts>();

function factsOf(req: IncomingMessage, trusted: TrustCheck | undefined): PeerFacts {
  const known = peerFacts.get(req.socket);
  if (known !== undefined && known.trusted === trusted) return known;
  const peer = peerAddress(req);
  const ip = parseIp(peer);
  const facts: PeerFacts = {
    trusted,
    peer,
    believe: trusted !== undefined && ip !== undefined && trusted(ip),
    forParam: `for=${forwardedValue(ip?.family === 6 ? `[${peer}]` : peer)}`,
    host: undefined,
    element: '',
  };
  peerFacts.set(req.socket, facts);
  return facts;
}

/** An X-Forwarded-For entry (an address, with a port or not) as a Forwarded `for=` value, as written; anything else is `unknown`. */
function forNode(entry: string): string {
  const text = entry.trim();
  const ip = parseNode(text);
  return `for=${ip === undefined ? 'unknown' : forwardedValue(ip.family === 6 && !text.startsWith('[') ? `[${text}]` : text)}`;
}

/**
 * X-Forwarded-For as Forwarded elements. The trusted proxy's X-Forwarded-Proto/-Host say how
 * the last entry reached it, so they go on that entry's element (`for=client;proto=https`).
 */
function xffElements(xff: string, proto: string | undefined, host: string | undefined): string {
  const nodes = xff.split(',').map(forNode);
  let last = nodes[nodes.length - 1]!;
  if (host !== undefined && host !== '') last += `;host=${forwardedValue(host)}`;
  if (proto !== undefined && proto !== '') last += `;proto=${forwardedValue(proto)}`;
  nodes[nodes.length - 1] = last;
  return nodes.join(', ');
}

/** The address of a Forwarded element's `for=` node, as written (brackets and port taken off), for X-Forwarded-For; anything else is `unknown`. */
function nodeAddress(element: string): string {
  const node = forwardedParam(element, 'for');
  if (node === undefined || parseNode(node) === undefined) return 'unknown';
  if (node.startsWith('[')) return node.slice(1, node.indexOf(']'));
  const colon = node.indexOf(':');
  return colon >= 0 && colon === node.lastIndexOf(':') ? node.slice(0, colon) : node;
}

interface Chains {
  readonly xff: string;
  readonly forwarded: string;
  readonly proto: string;
  readonly host: string;
}

/**
 * The forwarding headers sent upstream. From an untrusted peer: the peer alone, whatever the
 * client wrote. From a trusted proxy: the chain it wrote (`kind`, the header trusted proxies
 * write) with the peer appended, and the other header rebuilt from that chain — a proxy that
 * writes X-Forwarded-For passes a client's `Forwarded: for=…` on untouched, and appended to it
 * reached the upstream as `for=<planted>, for=<proxy>`, two for= of which the first the client
 * chose (and the other way round with `proxyHeader: forwarded`). X-Forwarded-Proto/-Host come
 * from the trusted proxy: its own headers with X-Forwarded-For, its element's proto/host with
 * Forwarded.
 */
function forwardingChains(h: IncomingMessage['headers'], facts: PeerFacts, host: string, kind: ProxyHeader): Chains {
  const { peer, believe, element } = facts;
  const own: Chains = { xff: peer, forwarded: element, proto: 'http', host };
  if (!believe) return own;
  if (kind === 'forwarded') {
    const fwd = single(h.forwarded);
    if (fwd === undefined || fwd.trim() === '') return own;
    const elements = fwd.split(',');
    const last = elements[elements.length - 1]!;
    const fors = elements.map(nodeAddress);
    return { xff: `${fors.join(', ')}, ${peer}`, forwarded: `${fwd}, ${element}`, proto: forwardedParam(last, 'proto') ?? 'http', host: forwardedParam(last, 'host') ?? host };
  }
  const xff = single(h['x-forwarded-for']);
  const proto = single(h['x-forwarded-proto']);
  const fhost = single(h['x-forwarded-host']);
  const chained = xff !== undefined && xff.trim() !== '';
  return {
    xff: chained ? `${xff}, ${peer}` : peer,
    forwarded: chained ? `${xffElements(xff, proto, fhost)}, ${element}` : element,
    proto: proto !== undefined && proto !== '' ? proto : 'http',
    host: fhost !== undefined && fhost !== '' ? fhost : host,
  };
}

/**
 * The request headers sent upstream, as a flat name/value list: the client's end-to-end
 * headers (raw: order and duplicates kept; from an untrusted peer, without `stripped` and
 * X-Forwarded-*), then the upstream's Host and the forwarding headers (forwardingChains):
 * `kind` is the header trusted proxies write (`proxyHeader`).
 */
export function upstreamRequestHead(req: IncomingMessage, upstreamHost: string, trusted: TrustCheck | undefined, stripped: ReadonlySet<string> = DEFAULT_STRIPPED, kind: ProxyHeader = 'x-forwarded-for'): string[] {
  const raw = req.rawHeaders;
  const named = namedInRaw(raw);
  const facts = factsOf(req, trusted);
  const { believe } = facts;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    // Upstreams that read headers CGI-style (Rack, PHP, WSGI) see X_Real_IP as X-Real-IP: judged alike.
    const dashed = lower.includes('_') ? lower.replaceAll('_', '-') : lower;
    if (isHopByHop(lower, named) || REPLACED.has(dashed)) continue;
    // The twin of a framing or hop-by-hop header (Transfer_Encoding, Content_Length, Proxy_Authorization)
    // is that header to a CGI-style upstream, but not to the gateway, which frames the body itself (hostile-4).
    // So is Max_Forwards to such an upstream, on OPTIONS and TRACE, where the gateway owns the hop count (session 17).
    if (dashed !== lower && (isHopByHop(dashed, named) || dashed === 'content-length' || (dashed === 'max-forwards' && hopCounted(req.method)))) continue;
    if (!believe && (stripped.has(dashed) || proxyPrefixed(dashed))) continue;
    // One less hop for OPTIONS and TRACE (0 never comes here: max-forwards.ts answers it).
    if (lower === 'max-forwards' && hopCounted(req.method)) out.push(raw[i]!, decremented(raw[i + 1]!));
    else out.push(raw[i]!, raw[i + 1]!);
  }
  const h = req.headers;
  const host = h.host ?? upstreamHost;
  if (facts.host !== host) {
    facts.host = host;
    facts.element = `${facts.forParam};host=${forwardedValue(host)};proto=http`;
  }
  const chains = forwardingChains(h, facts, host, kind);
  out.push(
    'host', upstreamHost,
    'x-forwarded-for', chains.xff,
    'x-forwarded-proto', chains.proto,
    'x-forwarded-host', chains.host,
    'forwarded', chains.forwarded,
    // RFC 9110 section 7.6.3: a gateway sends Via in each request it forwards (after the client's own, if any).
    'via', `${req.httpVersion} sluice`,
  );
  return out;
}

/** A response head (name, value, ...) without Content-Length. */
export function withoutLength(head: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < head.length; i += 2) if (head[i]!.toLowerCase() !== 'content-length') out.push(head[i]!, head[i + 1]!);
  return out;
}

/** Whether a raw response head (as undici hands it over) has a Transfer-Encoding. */
export function statesTransferCoding(raw: readonly (string | Buffer)[]): boolean {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 17 && raw[i]!.toString('latin1').toLowerCase() === 'transfer-encoding') return true;
  return false;
}

/** An upstream response's head (name, value, ...: responseHead) into `res`, merged by name with headers already set on it (Connection: close while draining). */
export function writeRelayedHead(res: ServerResponse, status: number, statusText: string, head: readonly string[]): void {
  if (res.getHeaderNames().length === 0) {
    // The common case: one header block, written as a list (duplicates such as Set-Cookie kept).
    res.writeHead(status, statusText, head as string[]);
    return;
  }
  const merged = new Map<string, string[]>();
  for (let i = 0; i < head.length; i += 2) {
    const name = head[i]!.toLowerCase();
    const values = merged.get(name);
    if (values === undefined) merged.set(name, [head[i + 1]!]);
    else values.push(head[i + 1]!);
  }
  for (const [name, values] of merged) res.setHeader(name, values.length === 1 ? values[0]! : values);
  res.writeHead(status, statusText);
}

/** The Content-Length an upstream response states (`raw`: name, value, ...), or NaN. */
export function declaredLength(raw: readonly (string | Buffer)[]): number {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 14 && String(raw[i]).toLowerCase() === 'content-length') return Number(String(raw[i + 1]));
  return NaN;
}
