/**
 * The rate algorithms of sluice/rate (token-bucket.ts, gcra.ts, sliding-window.ts) as one Lua
 * script that decides a batch: many (key, operation) pairs in one atomic EVALSHA, in order.
 * The formulas are the same expressions in the same order as the JavaScript, so Redis makes
 * the memory store's decision for the same state and time; the time is Redis's `TIME`, read
 * once per batch inside the script, so the clocks of the callers never enter a decision.
 *
 * The script decides and writes; it answers with the time it used, as `TIME` gave it, and
 * for each entry the state it read. The client runs the very same step (sluice/rate's
 * algorithm functions) on that state at that time and gets every field of the decision —
 * remaining, reset, delay, Retry-After — exactly; Redis's verdict comes along and is checked.
 *
 * Calling convention (KEYS and ARGV as EVALSHA passes them):
 *
 *   KEYS[i]   entry i's state key (one hash slot per batch in a cluster)
 *   ARGV[1]   '' — or a time in ms standing in for `TIME` (tests compare the script with the
 *             memory store at the same instants; sluice never sends one)
 *   ARGV[2]   '' — or 't': write states as text (below)
 *   ARGV[3]   m, the number of policies; then m × 4: algorithm ('t' token bucket, 'g' GCRA,
 *             's' sliding window) and its three numbers (rate, perMs, burst; or limit,
 *             windowMs, 0)
 *   then      one spec per entry — or a single spec for every entry when all are alike (the
 *             usual batch: cost 1, one maxWaitMs) — "<op><policy index>:<x>:<y>", with op
 *               'c' consume   x = cost, y = maxDelayMs
 *               't' take      x = min, y = max  (SharedLimitStore.takeTokens: min, then what
 *                             is there up to max)
 *               'r' refund    x = cost
 *
 * A batch of one — a lone caller's decision, the usual case at low concurrency — goes to a
 * second script, RATE_ONE_SCRIPT (below), built from the same parts: the same algorithms
 * and the same reply, with the policy and the operation as flat arguments, so Redis builds
 * no tables of policies and specs and parses no spec for it.
 *
 * The reply is ONE string (the cheapest reply to send and to parse), read as bytes: the time
 * — "<s> <us>" from TIME, or "=<ms>" — and ";", then per entry its verdict, one byte ('1'
 * allowed/taken, '0' refused, '-' refund), followed by the state the entry found, when there
 * was one, as stored: byte 1 (GCRA: 2, sliding window: 3), then its doubles — a state of an earlier version
 * (text, or GCRA's TAT alone) packed as this version stores it. An entry whose key holds
 * another type answers 'W' and changes nothing (redis.pcall: the other entries go on).
 *
 * States are binary strings: byte 1, then the doubles, 8 bytes each, little-endian
 * (struct.pack '<d': exact) — token bucket tokens, last; sliding window byte 3, then win, prev,
 * curr, w (the window length they count over; earlier versions stored byte 1 and the first
 * three, read still, with the policy's length, and fail on byte 3: stateEncoding 'text' writes
 * the three as text); GCRA
 * byte 2, then tat, last (the reading it was written at; earlier versions stored byte 1 and
 * tat alone, read still, and fail on byte 2: an upgrade from them runs stateEncoding 'text',
 * below, which writes GCRA's TAT alone). No number is printed or parsed (%.17g and strtod on 17 digits were a fifth to a third
 * of the batch script's time per decision: bench/redis-script-cost.ts). A text state of
 * earlier versions ("%.17g" numbers, comma-separated) is read too, and rewritten in binary at
 * its next write — or kept in text, with stateEncoding 'text' ('t' in the call), which a fleet
 * upgrading from such a version runs until none is left: an older process cannot read a binary
 * state (its script fails). A state is written only when it changes — a state from a later reading than Redis's TIME (its clock stepped back, or a
 * failover to a replica whose clock is behind) changes even on a refusal: the step brings it
 * to now, as in the JavaScript. Its expiry follows the
 * moment it becomes indistinguishable from a fresh one (the algorithm's idleAt): the end of
 * the second whole second after it (Redis time); while a write leaves that moment in the same
 * second it keeps the expiry (SET KEEPTTL). A token bucket's refusal writes no state but
 * lengthens the expiry to the state's idle moment under the policy in use, if it was shorter
 * (a rate lowered since the last write: the key outlived by the state it holds).
 */
import { GCRA, SLIDING_WINDOW, TOKEN_BUCKET } from './rate-lua.js';

/**
 * Time (Redis `TIME`, or the time a test passes in `given`), the current entry's key and
 * policy, delayUntil (algorithm.ts), the write. Both scripts start with it.
 */
const clockFrom = (given: string, encoding: string): string => `
local now, clock
local given = ${given}
-- 't': write states as text (stateEncoding 'text', for a fleet still running older versions).
local TEXT = ${encoding} == 't'
if given and given ~= '' then
  now = tonumber(given)
  clock = '=' .. given
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  clock = t[1] .. ' ' .. t[2]
end
local EPS = 2 ^ -52
local TINY = 2 ^ -1074
local find, sub, floor, byte, pack, unpacks, fmt = string.find, string.sub, math.floor, string.byte, struct.pack, struct.unpack, string.format
local K
-- Set by a step that brought a state from a later reading than now (Redis's clock set back)
-- to now: the state is written even when the step refused.
local moved
local rate, perMs, b, T, limit, w
-- The algorithms the call needs; whether any operation is not a consume (refunds and takes
-- need functions a consume does without).
local need_t, need_g, need_s, need_cold = false, false, false, false
local function delay_until(at)
  local d = at - now
  if d <= 0 then return 0 end
  local step = math.max(d * EPS, TINY)
  while now + d < at do d = d + step; step = step * 2 end
  return d
end
-- The state (found: it was there, idle0: its idle moment then) becomes v, idle at idle1; a
-- batch remembers what it wrote (seen[K], false when deleted): its states were read up front.
local seen
local function write(found, idle0, v, idle1)
  if idle1 <= now then
    if found then redis.call('DEL', K); if seen then seen[K] = false end end
    return
  end
  if TEXT then
    local n = (#v - 1) / 8
    -- GCRA (byte 2: tat, last) as earlier versions wrote it: its TAT alone.
    if byte(v) == 2 or n == 1 then v = fmt('%.17g', unpacks('<d', v, 2))
    elseif n == 2 then v = fmt('%.17g,%.17g', unpacks('<dd', v, 2))
    else v = fmt('%.17g,%.17g,%.17g', unpacks('<ddd', v, 2)) end
  end
  if seen then seen[K] = v end
  if found and floor(idle0 / 1000) == floor(idle1 / 1000) then
    redis.call('SET', K, v, 'KEEPTTL')
  else
    redis.call('SET', K, v, 'PX', math.ceil((floor(idle1 / 1000) + 2) * 1000 - now))
  end
end
-- A token bucket's refusal writes nothing, but its key must live until the state is idle under
-- the policy in use: a rate lowered since the last write (a smaller plan) refills it more
-- slowly, and a state expired at the old moment came back a full bucket.
local function keep(idle1)
  if idle1 <= now then return end
  local px = math.ceil((floor(idle1 / 1000) + 2) * 1000 - now)
  if redis.call('PTTL', K) < px then redis.call('PEXPIRE', K, px) end
end
`;

/** The batch's policies (T = perMs / rate, as the JavaScript computes it), the algorithms and specs it needs. */
const BATCH_ARGS = `
local pol = {}
local m = tonumber(ARGV[3])
for j = 1, m do
  local i = 4 * j
  local x, y = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  pol[j] = { ARGV[i], x, y, tonumber(ARGV[i + 3]), y / x }
  local c = ARGV[i]
  if c == 'g' then need_g = true elseif c == 't' then need_t = true else need_s = true end
end
-- The specs: one for every entry, or one each.
local a = 4 * m + 3
local one = #ARGV == a + 1
for j = a + 1, #ARGV do
  if sub(ARGV[j], 1, 1) ~= 'c' then need_cold = true; break end
end
`;

/** The one operation's policy, straight into the locals (no tables: the lone call's saving). */
const ONE_ARGS = `
local code, op = ARGV[1], ARGV[5]
local x, y = tonumber(ARGV[6]), tonumber(ARGV[7])
if code == 'g' then need_g = true elseif code == 't' then need_t = true elseif code == 's' then need_s = true
else return redis.error_reply('sluice: unknown algorithm ' .. tostring(code)) end
need_cold = op ~= 'c'
if need_s then
  limit = tonumber(ARGV[2]); w = tonumber(ARGV[3])
else
  rate = tonumber(ARGV[2]); perMs = tonumber(ARGV[3]); b = tonumber(ARGV[4]); T = perMs / rate
end
`;

/**
 * One entry (key K, operation op with x, y) decided with the algorithm's functions, its state
 * read by `get`: the verdict in `r`, the state found for the reply in `rs` ('' for none; as
 * stored, or a text state of an earlier version packed as it was read).
 */
const decide = (get: string): string => `
  local s = ${get}
  if type(s) == 'table' then
    r = 'W'; rs = ''
  else
    local current = load(s)
    local found = s ~= false
    local idle0 = found and idle()
    if not found then rs = '' elseif current then rs = s else rs = save() end
    moved = false
    if op == 'c' then
      r = '0'
      if step(x, y) == 1 then write(found, idle0, save(), idle()); r = '1'
      elseif moved then write(found, idle0, save(), idle())
      elseif found and code == 't' then keep(idle0) end
    elseif op == 't' then
      r = '0'
      if step(x, 0) == 1 then
        local extra = math.min(y - x, floor(available() + 1e-9))
        if extra >= 1 then step(extra, 0) end
        write(found, idle0, save(), idle()); r = '1'
      elseif moved then write(found, idle0, save(), idle())
      elseif found and code == 't' then keep(idle0) end
    elseif op == 'r' then
      if found then refund(x); write(found, idle0, save(), idle()) end
      r = '-'
    else
      return redis.error_reply('sluice: unknown operation ' .. tostring(op))
    end
  end
`;

/** The algorithm's functions under the names DECIDE calls (`code` its letter). */
const BIND = `
    if code == 'g' then load, step, available, refund, idle, save = g_load, g_step, g_available, g_refund, g_idle, g_save
    elseif code == 't' then load, step, available, refund, idle, save = tb_load, tb_step, refilled, tb_refund, tb_idle, tb_save
    elseif code == 's' then load, step, available, refund, idle, save = s_load, s_step, s_available, s_refund, s_idle, s_save
    else return redis.error_reply('sluice: unknown algorithm ' .. tostring(code)) end
`;

/** The policies, then each entry in order; one string back. */
const BATCH_DISPATCH = `
local specs = {}
local function parse(spec)
  local c1 = find(spec, ':', 2, true)
  local c2 = find(spec, ':', c1 + 1, true)
  local e = { sub(spec, 1, 1), pol[tonumber(sub(spec, 2, c1 - 1))], tonumber(sub(spec, c1 + 1, c2 - 1)), tonumber(sub(spec, c2 + 1)) }
  if e[2] == nil then error('sluice: bad rate spec ' .. spec) end
  return e
end
local n = #KEYS
-- Every state in one MGET (a call per key costs more than the decision); a key decided before
-- in the batch has its state in seen. MGET answers nil for a key of another type too: a GET
-- tells it apart from an absent one (a fresh key's cost only).
local got = redis.call('MGET', unpack(KEYS))
seen = {}
local out = { clock, ';' }
local e
if one then e = parse(ARGV[a + 1]) end
local code
local load, step, available, refund, idle, save
for i = 1, n do
  K = KEYS[i]
  if not one then
    local spec = ARGV[a + i]
    e = specs[spec]
    if not e then e = parse(spec); specs[spec] = e end
  end
  local op, p, x, y = e[1], e[2], e[3], e[4]
  if p[1] ~= code then
    code = p[1]
${BIND}
  end
  if code == 's' then limit = p[2]; w = p[3] else rate = p[2]; perMs = p[3]; b = p[4]; T = p[5] end
  local r, rs
${decide("seen[K]; if s == nil then s = got[i]; if not s then s = redis.pcall('GET', K) end end")}
  out[2 * i + 1] = r
  out[2 * i + 2] = rs
end
return table.concat(out)
`;

/** The one entry; the same reply as a batch of one. */
const ONE_DISPATCH = `
K = KEYS[1]
local load, step, available, refund, idle, save
${BIND}
local r, rs
${decide("redis.pcall('GET', K)")}
return clock .. ';' .. r .. rs
`;

export const RATE_SCRIPT = clockFrom('ARGV[1]', 'ARGV[2]') + BATCH_ARGS + TOKEN_BUCKET + GCRA + SLIDING_WINDOW + BATCH_DISPATCH;

/**
 * A batch of one — a lone caller's decision — as its own script: the same algorithms and the
 * same reply as {@link RATE_SCRIPT} for one entry, with the policy and the operation as flat
 * arguments (no tables of policies and specs to build, nothing to parse):
 *
 *   KEYS[1]   the state key
 *   ARGV      algorithm ('t', 'g', 's'), its three numbers (as in a batch), op ('c', 't',
 *             'r'), x, y (as in a spec); then, when there, the encoding (as ARGV[2] of a
 *             batch) and a time standing in for `TIME`
 */
export const RATE_ONE_SCRIPT = clockFrom('ARGV[9]', 'ARGV[8]') + ONE_ARGS + TOKEN_BUCKET + GCRA + SLIDING_WINDOW + ONE_DISPATCH;

/** The script's letter for each algorithm. */
export const ALGORITHM_CODE = { 'token-bucket': 't', gcra: 'g', 'sliding-window': 's' } as const;
