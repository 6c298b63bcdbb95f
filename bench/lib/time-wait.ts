/**
 * Sockets in TIME_WAIT, and a bounded wait for them to clear before a row that opens
 * connections. A closed-loop row at 10,000 connections leaves ~28,000 sockets in TIME_WAIT
 * (its churned connections: the whole ephemeral port range on a default Linux, 28,232 ports)
 * for the kernel's fixed 60 s; a row run then finds no port to connect from, and its figures
 * are the port range's, not the proxy's (bench/results/open-8x-88a63ec-vs-51cb68a.txt,
 * closed-10k-963e394-busy.md). Linux only: elsewhere nothing is counted and nothing waits.
 */
import { readFileSync } from 'node:fs';

/** /proc/net/tcp's `st` column for TIME_WAIT (include/net/tcp_states.h: TCP_TIME_WAIT = 6). */
const TIME_WAIT = '06';

/** Sockets in TIME_WAIT in one /proc/net/tcp or tcp6 table's text (its 4th column, after a header line). */
export function countTimeWait(table: string): number {
  let n = 0;
  for (const line of table.split('\n').slice(1)) if (line.trim().split(/\s+/)[3] === TIME_WAIT) n++;
  return n;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The machine's sockets in TIME_WAIT now (IPv4 and IPv6); undefined where /proc/net/tcp is not there. */
export function timeWaitNow(): number | undefined {
  const v4 = read('/proc/net/tcp');
  if (v4 === undefined) return undefined;
  return countTimeWait(v4) + countTimeWait(read('/proc/net/tcp6') ?? 'header\n');
}

/** How many local ports connections may take (ip_local_port_range); Linux's default range when unreadable. */
export function ephemeralPorts(): number {
  const [low, high] = (read('/proc/sys/net/ipv4/ip_local_port_range') ?? '32768 60999').trim().split(/\s+/).map(Number);
  return low !== undefined && high !== undefined && high >= low ? high - low + 1 : 28_232;
}

export interface SettleOptions {
  /** Wait only when more than this many are in TIME_WAIT. @default a quarter of the ephemeral range */
  readonly startAbove?: number;
  /** Wait until fewer than this many are. @default 200 */
  readonly below?: number;
  /** Never longer than this, ms (Linux holds TIME_WAIT 60 s). @default 75_000 */
  readonly maxMs?: number;
  /** Stop waiting (Ctrl-C). */
  readonly stopped?: () => boolean;
  readonly log?: (line: string) => void;
  /** The count now; injected by tests. @default timeWaitNow */
  readonly count?: () => number | undefined;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface Settled {
  readonly before: number | undefined;
  readonly after: number | undefined;
  readonly waitedMs: number;
}

/**
 * Before a row: when the machine holds more than `startAbove` sockets in TIME_WAIT, say so
 * loudly and wait (polling each second) until fewer than `below` remain, or `maxMs` passed —
 * then say what is left, loudly again when the range is still crowded.
 */
export async function settleTimeWait(options: SettleOptions = {}): Promise<Settled> {
  const count = options.count ?? timeWaitNow;
  const log = options.log ?? ((l: string) => console.log(l));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const startAbove = options.startAbove ?? Math.floor(ephemeralPorts() / 4);
  const below = options.below ?? 200;
  const maxMs = options.maxMs ?? 75_000;
  const before = count();
  if (before === undefined || before <= startAbove) return { before, after: before, waitedMs: 0 };
  log(`  !! ${before} sockets in TIME_WAIT (of ${ephemeralPorts()} ephemeral ports): the rows before left them; waiting up to ${maxMs / 1000} s for fewer than ${below} before the next row`);
  let waitedMs = 0;
  let now: number | undefined = before;
  while (now !== undefined && now >= below && waitedMs < maxMs && options.stopped?.() !== true) {
    await sleep(1000);
    waitedMs += 1000;
    now = count();
  }
  if (now !== undefined && now >= below) log(`  !! still ${now} sockets in TIME_WAIT after ${waitedMs / 1000} s: the next row may be short of ports — its figures are suspect`);
  else log(`  TIME_WAIT down to ${now ?? '?'} after ${waitedMs / 1000} s; going on`);
  return { before, after: now, waitedMs };
}
