/**
 * Requests refused for what they are, not for load: malformed, hostile or not ours to proxy.
 * Each is counted by reason (`/status` `badRequests`, `sluice_bad_requests_total{reason}`)
 * and logged per burst, one `"msg":"bad request"` line per reason and period with its count.
 * The reasons are a fixed list, so every worker's counts line up (status-merge.ts sums them).
 */
import type { Logger } from './logger.js';
import { RejectionLog } from './rejection-log.js';

export const BAD_REQUEST_REASONS = [
  // The path (canonical-path.ts's PathRefusal, every one).
  'bad_target',
  'bad_escape',
  'encoded_slash',
  'backslash',
  'control_char',
  'above_root',
  'dot_segment_param',
  'double_encoded',
  'fragment',
  'bad_utf8',
  'unicode_path_char',
  // A canonical path whose segment parameters change its route (request-handler.ts).
  'ambiguous_params',
  // ... or whose segments' trailing dots and spaces do (request-handler.ts).
  'ambiguous_trailing',
  // ... or whose Unicode compatibility forms (NFKC) do (request-handler.ts).
  'ambiguous_unicode',
  // Not ours to proxy.
  'foreign_target',
  // Sent round a loop back to a gateway (message-checks.ts: Via, 508).
  'loop_detected',
  // An absolute-form target for this gateway's address in a scheme it does not serve (https:, 421).
  'foreign_scheme',
  'method_not_allowed',
  // A method the parser does not know (501).
  'method_not_implemented',
  // An Expect other than 100-continue (417).
  'expectation_failed',
  // The headers a policy identifies requests by (identity-headers.ts).
  'duplicate_identity_header',
  'underscore_identity_header',
  'hop_by_hop_identity_header',
  // ... one with bytes beyond ASCII, which upstreams trim or decode each their own way.
  'bad_identity_header',
  // The message's syntax and framing (client-errors.ts).
  'bad_request_line',
  'bad_version',
  'bad_header',
  'obs_fold',
  'content_length_and_transfer_encoding',
  'duplicate_content_length',
  'bad_content_length',
  'bad_transfer_encoding',
  'unsupported_transfer_encoding',
  'bad_chunk',
  'chunk_extensions_too_large',
  'headers_too_large',
  'uri_too_long',
  'request_timeout',
  'incomplete_request',
  'missing_host',
  'duplicate_host',
  'bad_host',
  'parse_error',
] as const;

export type BadRequestReason = (typeof BAD_REQUEST_REASONS)[number];

/** What a bad request is answered: its status, the reason counted, and a sentence for the client. */
export interface BadVerdict {
  readonly status: number;
  readonly reason: BadRequestReason;
  readonly detail: string;
}

export type BadRequestCounts = Readonly<Record<BadRequestReason, number>>;

/** Every reason at 0. */
export function noBadRequests(): Record<BadRequestReason, number> {
  return Object.fromEntries(BAD_REQUEST_REASONS.map((r) => [r, 0])) as Record<BadRequestReason, number>;
}

export class BadRequests {
  readonly #counts: Record<BadRequestReason, number>;
  readonly #log: RejectionLog;
  /** Connections whose bad request was answered (they close): later errors on them are its echo. */
  readonly #answered = new WeakSet<object>();
  /** Connections whose first request line is longer than the whole head may be (versionless-requests.ts). */
  readonly #longFirstLine = new WeakSet<object>();
  /** Connections whose current head has a line that began in an earlier read: that line's first bytes. */
  readonly #headLines = new WeakMap<object, Buffer>();

  constructor(logger: Logger, periodMs: number) {
    this.#counts = noBadRequests();
    this.#log = new RejectionLog(logger, periodMs, { message: 'bad request' });
  }

  count(reason: BadRequestReason, status: number): void {
    this.#counts[reason]++;
    this.#log.count('-', reason, status);
  }

  markAnswered(socket: object): void {
    this.#answered.add(socket);
  }

  answered(socket: object): boolean {
    return this.#answered.has(socket);
  }

  markLongFirstLine(socket: object): void {
    this.#longFirstLine.add(socket);
  }

  longFirstLine(socket: object): boolean {
    return this.#longFirstLine.has(socket);
  }

  /** The first bytes of the line a read left open inside a head (head-lines.ts); undefined to forget. */
  keepHeadLine(socket: object, line: Buffer | undefined): void {
    if (line === undefined) this.#headLines.delete(socket);
    else this.#headLines.set(socket, line);
  }

  headLine(socket: object): Buffer | undefined {
    return this.#headLines.get(socket);
  }

  /** The counts so far, every reason present. */
  snapshot(): BadRequestCounts {
    return { ...this.#counts };
  }

  /** Write the burst counted so far (on close, so the last one is not lost). */
  flush(): void {
    this.#log.flush();
  }
}
