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
 */
import type { IncomingMessage } from 'node:http';
import type { BadVerdict } from './bad-requests.js';

/** Whether the request's identity headers are unambiguous; a verdict when they are not. */
export function identityVerdict(req: IncomingMessage, names: readonly string[]): BadVerdict | undefined {
  if (names.length === 0) return undefined;
  const raw = req.rawHeaders;
  for (const name of names) {
    const dashed = name.replaceAll('_', '-');
    let n = 0;
    for (let i = 0; i < raw.length; i += 2) {
      // Underscores read as dashes, as CGI-style upstreams read them (and case ignored).
      if (raw[i]!.length !== name.length || raw[i]!.toLowerCase().replaceAll('_', '-') !== dashed) continue;
      n++;
      if (raw[i + 1]!.includes(',')) return { status: 400, reason: 'duplicate_identity_header', detail: `The ${name} header holds a list (a comma): which item identifies the request is ambiguous.` };
    }
    if (n > 1) return { status: 400, reason: 'duplicate_identity_header', detail: `The ${name} header appears ${n} times (underscores read as dashes): which one identifies the request is ambiguous.` };
  }
  const connection = req.headers.connection;
  if (connection !== undefined) {
    const named = new Set(connection.split(',').map((t) => t.trim().toLowerCase()));
    for (const name of names) {
      if (named.has(name)) return { status: 400, reason: 'hop_by_hop_identity_header', detail: `The ${name} header is named in Connection: it would not reach the upstream, which must see the key the request is limited by.` };
    }
  }
  return undefined;
}
