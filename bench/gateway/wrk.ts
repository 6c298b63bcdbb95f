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

const script = (times: boolean): string => `${times ? TIMES_HEAD : ''}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) codes = {} ra = 0 refusedAt = {} end
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
  ${times ? 'if status == 503 or status == 429 then refusedAt[#refusedAt + 1] = monotonic_ms() end' : ''}
  if (status == 503 or status == 429) and (headers["Retry-After"] ~= nil or headers["retry-after"] ~= nil) then ra = ra + 1 end
end
function done(summary, latency, requests)
  local all = {}
  local ras = 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("codes")) do all[k] = (all[k] or 0) + v end
    ras = ras + t:get("ra")
  end
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
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wrk-'));
  const file = join(dir, 'count.lua');
  writeFileSync(file, script(o.refusalTimes === true));
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
    const line = /WRK-JSON (\{.*\})/.exec(out)?.[1];
    if (line === undefined) throw new Error(`wrk printed no result: ${out.trim()}`);
    const r = JSON.parse(line) as { durationUs: number; requests: number; codes: Record<string, number>; retryAfter: number; errors: WrkResult['errors']; p50Us: number; p99Us: number };
    const refusedAt =
      o.refusalTimes === true
        ? [...out.matchAll(/WRK-REFUSED-AT ([\d.,]*)/g)]
            .flatMap((m) => (m[1] === '' || m[1] === undefined ? [] : m[1].split(',').map(Number)))
            .sort((a, b) => a - b)
        : undefined;
    return { seconds: r.durationUs / 1e6, requests: r.requests, codes: r.codes, retryAfter: r.retryAfter, errors: r.errors, p50: r.p50Us / 1000, p99: r.p99Us / 1000, ...(refusedAt === undefined ? {} : { refusedAt }) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
