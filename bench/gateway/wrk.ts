/**
 * wrk, the closed-loop load generator: each connection sends its next request as soon as
 * it has an answer — a 503 included — which is what a client that ignores Retry-After does
 * (a retry storm). A Lua script counts answers by status and the refusals that carried
 * Retry-After; wrk prints them as one JSON line. The file limit is raised to the hard
 * limit for wrk (10,000 connections need 10,000 descriptors).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * With refusal times: LuaJIT's ffi reads CLOCK_MONOTONIC (the clock the demo upstream's
 * recordArrivals uses) at each 429/503, and done() prints them.
 */
const TIMES_HEAD = `
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } sluice_ts; int clock_gettime(int, sluice_ts *); ]]
local sluice_now = ffi.new("sluice_ts")
local function monotonic_ms() ffi.C.clock_gettime(1, sluice_now) return tonumber(sluice_now.tv_sec) * 1000 + tonumber(sluice_now.tv_nsec) / 1e6 end
`;

/**
 * `times`: record each refusal's time. `fromMs` (CLOCK_MONOTONIC ms): also count the answers that
 * come at or after it apart (the row's window after its onset: closed-window.ts), and print them
 * with the window's length, from `fromMs` to done().
 */
export const script = (times: boolean, fromMs?: number): string => `${times || fromMs !== undefined ? TIMES_HEAD : ''}
local threads = {}
${fromMs === undefined ? '' : `local sluice_from = ${fromMs.toFixed(3)}`}
function setup(thread) table.insert(threads, thread) end
function init(args) codes = {} ra = 0 refusedAt = {} wcodes = {} wra = 0 end
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
  ${times ? 'if status == 503 or status == 429 then refusedAt[#refusedAt + 1] = monotonic_ms() end' : ''}
  local hasRa = (status == 503 or status == 429) and (headers["Retry-After"] ~= nil or headers["retry-after"] ~= nil)
  if hasRa then ra = ra + 1 end
  ${fromMs === undefined ? '' : 'if monotonic_ms() >= sluice_from then wcodes[status] = (wcodes[status] or 0) + 1 if hasRa then wra = wra + 1 end end'}
end
function done(summary, latency, requests)
  local all = {}
  local ras = 0
  local wall = {}
  local wras = 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("codes")) do all[k] = (all[k] or 0) + v end
    ras = ras + t:get("ra")
    for k, v in pairs(t:get("wcodes")) do wall[k] = (wall[k] or 0) + v end
    wras = wras + t:get("wra")
  end
  ${fromMs === undefined ? '' : `local wparts = {}
  for k, v in pairs(wall) do table.insert(wparts, string.format('"%d":%d', k, v)) end
  io.write(string.format('WRK-WINDOW {"spanMs":%.3f,"codes":{%s},"retryAfter":%d}\\n', monotonic_ms() - sluice_from, table.concat(wparts, ","), wras))`}
  ${times ? `for _, t in ipairs(threads) do
    local xs = t:get("refusedAt")
    local out = {}
    for i = 1, #xs do out[i] = string.format("%.3f", xs[i]) end
    io.write("WRK-REFUSED-AT ", table.concat(out, ","), "\\n")
  end` : ''}
  local parts = {}
  for k, v in pairs(all) do table.insert(parts, string.format('"%d":%d', k, v)) end
  local e = summary.errors
  io.write(string.format('WRK-JSON {"durationUs":%d,"requests":%d,"codes":{%s},"retryAfter":%d,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"p50Us":%d,"p99Us":%d}\\n',
    summary.duration, summary.requests, table.concat(parts, ","), ras, e.connect, e.read, e.write, e.timeout, latency:percentile(50), latency:percentile(99)))
end
`;

export interface WrkResult {
  readonly seconds: number;
  readonly requests: number;
  /** Answers by status. */
  readonly codes: Readonly<Record<string, number>>;
  /** Refusals (429/503) that carried Retry-After. */
  readonly retryAfter: number;
  readonly errors: { readonly connect: number; readonly read: number; readonly write: number; readonly timeout: number };
  /** With `refusalTimes`: when each refusal (429/503) came, CLOCK_MONOTONIC ms, sorted. */
  readonly refusedAt?: readonly number[];
  /** With `fromS`: the answers from then to the end, and that window's length. */
  readonly window?: { readonly seconds: number; readonly codes: Readonly<Record<string, number>>; readonly retryAfter: number };
  /** Latency of every answer (wrk does not split by status), ms. */
  readonly p50: number;
  readonly p99: number;
}

export interface WrkOptions {
  readonly binary: string;
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly threads: number;
  /** wrk's socket timeout: an answer later than this is an error ("timeout"). */
  readonly timeoutS: number;
  /** Record when each refusal came (CLOCK_MONOTONIC, through LuaJIT's ffi). @default false */
  readonly refusalTimes?: boolean;
  /** Count the answers from this many seconds after wrk's start apart (WrkResult.window): the row after its onset (closed-window.ts). */
  readonly fromS?: number;
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wrk-'));
  const file = join(dir, 'count.lua');
  // CLOCK_MONOTONIC, like wrk's LuaJIT ffi reading (process.hrtime on Linux).
  const fromMs = o.fromS === undefined ? undefined : Number(process.hrtime.bigint()) / 1e6 + o.fromS * 1000;
  writeFileSync(file, script(o.refusalTimes === true, fromMs));
  try {
    const cmd = `ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;
    const args = [o.binary, '-t', String(o.threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '--timeout', `${o.timeoutS}s`, '-s', file, o.url];
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('sh', ['-c', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (b: Buffer) => (text += b.toString()));
      child.stderr.on('data', (b: Buffer) => (text += b.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text.trim()}`))));
    });
    return parseWrkOutput(out, o.refusalTimes === true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the script printed (`times`: refusal times were asked for); throws when wrk printed no result. */
export function parseWrkOutput(out: string, times: boolean): WrkResult {
  const line = /WRK-JSON (\{.*\})/.exec(out)?.[1];
  if (line === undefined) throw new Error(`wrk printed no result: ${out.trim()}`);
  const r = JSON.parse(line) as { durationUs: number; requests: number; codes: Record<string, number>; retryAfter: number; errors: WrkResult['errors']; p50Us: number; p99Us: number };
  const refusedAt = times
    ? [...out.matchAll(/WRK-REFUSED-AT ([\d.,]*)/g)]
        .flatMap((m) => (m[1] === '' || m[1] === undefined ? [] : m[1].split(',').map(Number)))
        .sort((a, b) => a - b)
    : undefined;
  const w = /WRK-WINDOW (\{.*\})/.exec(out)?.[1];
  const parsed = w === undefined ? undefined : (JSON.parse(w) as { spanMs: number; codes: Record<string, number>; retryAfter: number });
  // A window that never opened (wrk ended before `fromS`) has a negative span: no window.
  const window = parsed === undefined || !(parsed.spanMs > 0) ? undefined : { seconds: parsed.spanMs / 1000, codes: parsed.codes, retryAfter: parsed.retryAfter };
  return {
    seconds: r.durationUs / 1e6,
    requests: r.requests,
    codes: r.codes,
    retryAfter: r.retryAfter,
    errors: r.errors,
    p50: r.p50Us / 1000,
    p99: r.p99Us / 1000,
    ...(refusedAt === undefined ? {} : { refusedAt }),
    ...(window === undefined ? {} : { window }),
  };
}
