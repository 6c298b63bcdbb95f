/**
 * The sluice gateway's own refusal counts (admin /status) beside the client's. They cannot
 * cover the same requests: the client counts the refusals of the requests scheduled in the
 * measured window, while /status counts by time, from a read issued at the window's start
 * (answered a loop turn or more later) to one after every request settled. That span also
 * holds warm-up requests still queued when the window opened and refused after the first
 * read, and window requests the client had abandoned (its timeouts) refused afterwards; the
 * 503 answers do not say their reason in a head the generator reads. So the gateway's figure
 * is printed as its own span's, with its total refusals of every reason, never as a
 * breakdown of the window's 503s (at 5362912 the 3x row read "503: 54260; queue_timeout
 * 56479" and the 8x A/B 178,434 against 188,414).
 */
import type { Measurement } from './measure.js';

interface StatusRejections {
  policies?: { gates?: { rejected?: Readonly<Record<string, number | undefined>> }[] }[];
}

/** One /status answer's refusals, every policy's gates summed: all reasons, and queue_timeout (early or after a wait). NaN when it has no policies. */
export function refusalsOf(status: StatusRejections): { refused: number; queueTimeouts: number } {
  if (status.policies === undefined) return { refused: NaN, queueTimeouts: NaN };
  let refused = 0;
  let queueTimeouts = 0;
  for (const p of status.policies) {
    for (const g of p.gates ?? []) {
      for (const [reason, n] of Object.entries(g.rejected ?? {})) {
        refused += n ?? 0;
        if (reason === 'queue_timeout') queueTimeouts += n ?? 0;
      }
    }
  }
  return { refused, queueTimeouts };
}

/** The gateway's refusals so far from its admin /status; NaN without one (other contenders) or when it does not answer. */
export async function readRefusals(adminUrl: string | undefined): Promise<{ refused: number; queueTimeouts: number }> {
  if (adminUrl === undefined) return { refused: NaN, queueTimeouts: NaN };
  try {
    return refusalsOf((await (await fetch(`${adminUrl}/status`)).json()) as StatusRejections);
  } catch {
    return { refused: NaN, queueTimeouts: NaN };
  }
}

const f0 = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The load table's "refused" cell: the window's refusals by status, then the gateway's figures over its own span when it has them. */
export function refusedCell(m: Pick<Measurement, 'refused' | 'refusedByStatus' | 'statusRefused' | 'statusQueueTimeouts'>): string {
  if (m.refused === 0) return '0';
  const window = `${f0(m.refused)} (${Object.entries(m.refusedByStatus).map(([k, v]) => `${k}: ${v}`).join(', ')})`;
  if (!Number.isFinite(m.statusRefused)) return window;
  return `${window}; gateway /status from the window's start to its last answer (warm-up tail and abandoned requests included): ${f0(m.statusRefused)} refused, queue_timeout ${f0(m.statusQueueTimeouts)}`;
}
