/**
 * The headers a policy reads to tell who a request is (its tenant header, its criticality
 * header) must mean the same thing to the gateway and to the upstream. Two ways a client
 * could make them differ (hostile findings F2, F3):
 * - sending the header twice: node:http joins the copies ("spent-key, fresh-key"), a key
 *   never seen before and so with a full quota, while the upstream reads the first copy;
 * - naming it in `Connection`: a hop-by-hop header is dropped before the upstream, so the
 *   request is limited under the key it named and arrives at the upstream with none.
 * Either is refused with 400 before admission; nothing is counted against any key. So are
 * two quieter forms of the first (F22): an underscore twin (`X_Api_Key` is `X-Api-Key` to a
 * CGI-style upstream — Rack, PHP, WSGI — which reads one of the two), and one copy holding a
 * list (`spent, fresh`: what two copies look like joined; an upstream may take the first).
 * The twin alone is refused too (hostile-3 H6): the gateway limits the request as keyless
 * (per address, a fresh bucket) while the upstream serves it as the key's tenant. And so is a
 * value with bytes beyond ASCII (red21): `spent` + a no-break space (0xA0) was a fresh key here
 * and `spent` to an upstream that trims it (JavaScript's trim, Python's strip; Python's takes
 * NEL, 0x85, too) — as many fresh buckets for one key as paddings.
 */
import type { IncomingMessage } from 'node:http';
import type { BadVerdict } from './bad-requests.js';
import type { PolicyConfig } from './config-types.js';
import { notForwardedAsSent } from './forward-headers.js';
import { listHas } from './header-lists.js';

/**
 * A policy's tenant and criticality headers must reach the upstream as the client sent them:
 * one the gateway drops or rewrites (X-Forwarded-For, Forwarded, X-Real-IP, Connection, ...)
 * would be limited by a value any client picks afresh for each request, and that the upstream
 * never sees. Refused in the config, with what to use instead.
 */
export function identityHeaderIssues(p: PolicyConfig, stripHeaders: readonly string[] = []): { key: string[]; expected: string; found: string }[] {
  const out: { key: string[]; expected: string; found: string }[] = [];
  // Underscores as dashes, as the gateway strips them (strippedSet).
  const dashed = (n: string): string => n.toLowerCase().replaceAll('_', '-');
  const stripped = (name: string): string | undefined => (stripHeaders.some((h) => dashed(h) === dashed(name)) ? 'is in server.stripHeaders: the upstream never sees what a client sent' : undefined);
  const check = (key: string[], name: string | undefined, instead: string): void => {
    const why = name === undefined ? undefined : (notForwardedAsSent(name) ?? stripped(name));
    if (why !== undefined) out.push({ key, expected: `a header the upstream receives as the client sent it (${name} ${why}${instead})`, found: JSON.stringify(name) });
  };
  check(['tenant', 'header'], typeof p.tenant === 'object' ? p.tenant.header : undefined, "; to limit by the client's address: tenant: ip, with trustProxy behind a proxy");
  check(['criticalityHeader'], p.criticalityHeader, '');
  return out;
}

/**
 * The one subject of every identity-header refusal: the header as configured, and what it is
 * for. Each detail then says what is wrong and what to do (hostile-4: the three refusals said it
 * three ways, a plain duplicate spoke of underscores, and none said what to send instead).
 */
const IDENTIFIES = (name: string): string => `The ${name} header (which this route limits requests by)`;

/** A byte beyond ASCII (obs-text, RFC 9110 section 5.5): node:http gives header values as latin1, one character a byte. */
const BEYOND_ASCII = /[\x80-\xff]/;

/** Whether the request's identity headers are unambiguous; a verdict when they are not. */
export function identityVerdict(req: IncomingMessage, names: readonly string[]): BadVerdict | undefined {
  if (names.length === 0) return undefined;
  const raw = req.rawHeaders;
  for (const name of names) {
    const dashed = name.replaceAll('_', '-');
    let n = 0;
    let underscored: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      // Underscores read as dashes, as CGI-style upstreams read them (and case ignored).
      if (raw[i]!.length !== name.length || raw[i]!.toLowerCase().replaceAll('_', '-') !== dashed) continue;
      n++;
      // Its dashes and underscores not as configured: the same header to a CGI-style upstream, none to node:http.
      if (raw[i]!.toLowerCase() !== name.toLowerCase()) underscored = raw[i];
      if (raw[i + 1]!.includes(',')) return { status: 400, reason: 'duplicate_identity_header', detail: `${IDENTIFIES(name)} holds a list (a comma), and which item identifies the request is ambiguous: send one value.` };
      if (BEYOND_ASCII.test(raw[i + 1]!)) {
        return {
          status: 400,
          reason: 'bad_identity_header',
          detail: `${IDENTIFIES(name)} has bytes beyond ASCII, which upstreams read in different ways (a no-break space is trimmed off by some, kept by others), so the key it names is ambiguous: send it in ASCII.`,
        };
      }
    }
    if (n > 1) {
      const twin = underscored === undefined ? '' : ` (counting ${underscored}, which upstreams that read headers CGI-style take for ${name})`;
      return { status: 400, reason: 'duplicate_identity_header', detail: `${IDENTIFIES(name)} is sent ${n} times${twin}, and which one identifies the request is ambiguous: send it once.` };
    }
    // Alone, the twin is no key here (the request is limited as keyless) and the key to a CGI-style upstream (hostile-3 H6).
    if (underscored !== undefined) {
      return { status: 400, reason: 'underscore_identity_header', detail: `${IDENTIFIES(name)} is sent as ${underscored}, which upstreams that read headers CGI-style take for ${name} but this gateway does not: send it as ${name}.` };
    }
  }
  const connection = req.headers.connection;
  if (connection !== undefined) {
    for (const name of names) {
      if (listHas(connection, name)) return { status: 400, reason: 'hop_by_hop_identity_header', detail: `${IDENTIFIES(name)} is named in Connection, so it would not reach the upstream, which must see what the request is limited by: do not list it there.` };
    }
  }
  return undefined;
}
