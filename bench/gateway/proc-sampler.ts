/**
 * CPU and RSS of a process and its children (an nginx master and its workers), read from
 * /proc the same way for every contender — Node, nginx, HAProxy. Linux only; elsewhere the
 * figures are NaN.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux we know). */
const TICKS_PER_S = 100;

interface ProcReading {
  readonly cpuMs: number;
  readonly rssMb: number;
}

function statOf(pid: number): { ppid: number; cpuTicks: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: state ppid ... utime(14) stime(15).
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

function rssMbOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) / 1024;
  } catch {
    return 0;
  }
}

/** The pid and its direct children. */
function tree(pid: number): number[] {
  const pids = [pid];
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const st = statOf(Number(d));
      if (st?.ppid === pid) pids.push(Number(d));
    }
  } catch {
    // no /proc
  }
  return pids;
}

/** CPU ms one process has used so far; NaN once it is gone. */
function cpuMsOf(pid: number): number {
  const st = statOf(pid);
  return st === undefined ? NaN : (st.cpuTicks * 1000) / TICKS_PER_S;
}

export function readProc(pid: number): ProcReading {
  if (process.platform !== 'linux') return { cpuMs: NaN, rssMb: NaN };
  let ticks = 0;
  let rss = 0;
  for (const p of tree(pid)) {
    ticks += statOf(p)?.cpuTicks ?? 0;
    rss += rssMbOf(p);
  }
  return { cpuMs: (ticks * 1000) / TICKS_PER_S, rssMb: rss };
}

export interface ProcWindow {
  /** CPU time used in the window, ms (all processes of the tree). */
  readonly cpuMs: number;
  /**
   * The same, per process: the root first (a gateway's primary, nginx's master), then its
   * children in pid order as they were when the window opened (a child that exited counts
   * what it used until then).
   */
  readonly cpuMsByProcess: readonly number[];
  readonly wallMs: number;
  /** RSS sampled every second, MB, first and last included. */
  readonly rssSeriesMb: readonly number[];
}

/** Sample a process tree over a window: CPU used and RSS once a second. */
export class ProcSampler {
  readonly #pid: number;
  #start: ProcReading = { cpuMs: 0, rssMb: 0 };
  /** Each process's CPU ms when the window opened. */
  #startByPid = new Map<number, number>();
  #wall = 0;
  #series: number[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(pid: number) {
    this.#pid = pid;
  }

  open(): void {
    this.#start = readProc(this.#pid);
    this.#startByPid = new Map(tree(this.#pid).map((p) => [p, cpuMsOf(p)]));
    this.#wall = performance.now();
    this.#series = [round(this.#start.rssMb)];
    this.#timer = setInterval(() => this.#series.push(round(readProc(this.#pid).rssMb)), 1000);
  }

  close(): ProcWindow {
    clearInterval(this.#timer);
    const end = readProc(this.#pid);
    this.#series.push(round(end.rssMb));
    const byProcess = [...this.#startByPid].map(([p, at]) => {
      const now = cpuMsOf(p);
      return Number.isFinite(now) ? now - at : NaN;
    });
    return { cpuMs: end.cpuMs - this.#start.cpuMs, cpuMsByProcess: byProcess, wallMs: performance.now() - this.#wall, rssSeriesMb: this.#series };
  }
}

const round = (x: number): number => Math.round(x * 10) / 10;

/** Ticks of every core together since boot (/proc/stat's `cpu` line): busy and total; undefined off Linux. */
export function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    // cpu user nice system idle iowait irq softirq steal ...
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - v[3]! - v[4]!, total };
  } catch {
    return undefined;
  }
}

/** The share of all cores busy between two `machineTicks` readings, in % (100: every core busy); NaN without them. */
export function machineBusyPct(from: ReturnType<typeof machineTicks>, to: ReturnType<typeof machineTicks>): number {
  if (from === undefined || to === undefined || to.total <= from.total) return NaN;
  return ((to.busy - from.busy) / (to.total - from.total)) * 100;
}

/**
 * Connections the kernel dropped because a listener's accept queue was full
 * (TcpExt ListenOverflows): machine-wide, so read it around one contender at a time. A
 * server that does not accept fast enough, or listens with a short backlog (Node's and
 * nginx's default is 511), loses connection attempts here; the client retries its SYN a
 * second later. NaN where /proc/net/netstat is missing.
 */
export function listenOverflows(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const keys = lines[0]?.split(' ') ?? [];
    const values = lines[1]?.split(' ') ?? [];
    const i = keys.indexOf('ListenOverflows');
    return i < 0 ? NaN : Number(values[i]);
  } catch {
    return NaN;
  }
}
