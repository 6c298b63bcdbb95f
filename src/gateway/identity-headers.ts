/**
 * The headers a policy reads to tell who a request is (its tenant header, its criticality
 * header) must mean the same thing to the gateway and to the upstream. Two ways a client
 * could make them differ (hostile findings F2, F3):
 * - sending the header twice: node:http joins the copies ("spent-key, fresh-key"), a key
 *   never seen before and so with a full quota, while the upstream reads the first copy;
 * - naming it in `Connection`: a hop-by-hop header is dropped before the upstream, so the
 *   request is limited under the key it named and arrives at the upstream with none.
 * Either is refused with 400 before admission; nothing is counted against any key.
 */
import type { IncomingMessage } from 'node:http';
import type { BadVerdict } from './bad-requests.js';

/** Whether the request's identity headers are unambiguous; a verdict when they are not. */
export function identityVerdict(req: IncomingMessage, names: readonly string[]): BadVerdict | undefined {
  if (names.length === 0) return undefined;
  const raw = req.rawHeaders;
  for (const name of names) {
    let n = 0;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) n++;
    if (n > 1) return { status: 400, reason: 'duplicate_identity_header', detail: `The ${name} header appears ${n} times: which one identifies the request is ambiguous.` };
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
