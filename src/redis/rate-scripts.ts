/**
 * The rate algorithms of sluice/rate (token-bucket.ts, gcra.ts, sliding-window.ts) as one Lua
 * script that decides a batch: many (key, operation) pairs in one atomic EVALSHA, in order.
 * The formulas are the same expressions in the same order as the JavaScript, so Redis makes
 * the memory store's decision for the same state and time; the time is Redis's `TIME`, read
 * once per batch inside the script, so the clocks of the callers never enter a decision.
 *
 * The script decides and writes; it does not print its numbers. It answers with the time it
 * used, as `TIME` gave it, and for each entry the state it read, as Redis stored it. The
 * client runs the very same step (sluice/rate's algorithm functions) on that state at that
 * time and gets every field of the decision — remaining, reset, delay, Retry-After — exactly,
 * without Redis formatting a float per field (string.format('%.17g') is the script's
 * costliest operation). Each entry also carries Redis's verdict, which the client checks.
 *
 * Calling convention (KEYS and ARGV as EVALSHA passes them):
 *
 *   KEYS[i]   entry i's state key (one hash slot per batch in a cluster)
 *   ARGV[1]   '' — or a time in ms standing in for `TIME` (tests compare the script with the
 *             memory store at the same instants; sluice never sends one)
 *   ARGV[2]   m, the number of policies; then m × 4: algorithm ('t' token bucket, 'g' GCRA,
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
 * The reply is ONE string (the cheapest reply to send and to parse): the time — "<s> <us>"
 * from TIME, or "=<ms>" — then per entry ";" and a verdict followed by the state the entry
 * found ("" for none): '1' allowed/taken, '0' refused, '-' refund. An entry whose key holds
 * another type answers 'W' and changes nothing (redis.pcall: the other entries go on).
 *
 * States are strings: GCRA "tat", token bucket "tokens,last", sliding window "win,prev,curr",
 * numbers printed with %.17g (exact). A state is written only when it changes. Its expiry
 * follows the moment it becomes indistinguishable from a fresh one (the algorithm's idleAt):
 * the key expires at the end of the second whole second after that moment (Redis time), so
 * it outlives it by 1–2 s; while a write leaves that moment in the same second, the write
 * keeps the expiry (SET KEEPTTL) instead of setting it again, which costs as much as the
 * rest of the write.
 */

/**
 * Time (Redis `TIME`, or the time a test passes in `given`), the current entry's key and
 * policy, delayUntil (algorithm.ts), the write. Both scripts start with it.
 */
const clockFrom = (given: string): string => `
local now, clock
local given = ${given}
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
local fmt, find, sub, floor = string.format, string.find, string.sub, math.floor
local K
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
-- The state (found: it was there, idle0: its idle moment then) becomes v, idle at idle1.
local function write(found, idle0, v, idle1)
  if idle1 <= now then
    if found then redis.call('DEL', K) end
  elseif found and floor(idle0 / 1000) == floor(idle1 / 1000) then
    redis.call('SET', K, v, 'KEEPTTL')
  else
    redis.call('SET', K, v, 'PX', math.ceil((floor(idle1 / 1000) + 2) * 1000 - now))
  end
end
`;

/** The batch's policies (T = perMs / rate, as the JavaScript computes it), the algorithms and specs it needs. */
const BATCH_ARGS = `
local pol = {}
local m = tonumber(ARGV[2])
for j = 1, m do
  local i = 4 * j - 1
  local x, y = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  pol[j] = { ARGV[i], x, y, tonumber(ARGV[i + 3]), y / x }
  local c = ARGV[i]
  if c == 'g' then need_g = true elseif c == 't' then need_t = true else need_s = true end
end
-- The specs: one for every entry, or one each.
local a = 4 * m + 2
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
 * Each algorithm, as local functions defined only when the batch needs it (every closure is
 * made again at each call of the script; functions stored in tables cost microseconds more):
 * `load` (the state string or false),
 * `step` → 1 allowed / 0 refused (the state changes only when it allows), `available`,
 * `refund`, `idle` (idleAt), `save` (the state as a string). The policy's numbers are in
 * the prelude's locals (T = perMs / rate, as the JavaScript computes it).
 */
const TOKEN_BUCKET = `
local tokens, last
local tb_load, refilled, tb_step, tb_refund, tb_idle, tb_save
if need_t then
function tb_load(s)
  if s then
    local c = find(s, ',', 1, true)
    tokens = tonumber(sub(s, 1, c - 1)); last = tonumber(sub(s, c + 1))
  else
    tokens = b; last = now
  end
end
function refilled()
  local x = tokens
  if now > last then x = tokens + ((now - last) * rate) / perMs end
  if x < b then return x end
  return b
end
function tb_step(cost, maxDelay)
  local have = refilled()
  if cost > b then return 0 end
  if tokens < cost then
    local at = last + (cost - tokens) * T
    if at > now and delay_until(at) > maxDelay then return 0 end
  end
  tokens = have - cost; last = now
  return 1
end
if need_cold then
function tb_refund(cost)
  local x = refilled() + cost
  if x < b then tokens = x else tokens = b end
  last = now
end
end
function tb_idle() return last + ((b - tokens) * perMs) / rate end
function tb_save() return fmt('%.17g,%.17g', tokens, last) end
end
`;

const GCRA = `
local tat
local g_load, g_available, g_step, g_refund, g_idle, g_save
if need_g then
function g_load(s)
  if s then tat = tonumber(s) else tat = now end
end
if need_cold then
function g_available()
  if tat > now then return b - ((tat - now) * rate) / perMs end
  return b
end
function g_refund(cost)
  local x = tat - (cost * perMs) / rate
  if x > now then tat = x else tat = now end
end
end
function g_step(cost, maxDelay)
  local base = tat
  if base < now then base = now end
  if cost > b then return 0 end
  local at = tat - (b - cost) * T
  if at > now and delay_until(at) > maxDelay then return 0 end
  tat = base + cost * T
  return 1
end
function g_idle() return tat end
function g_save() return fmt('%.17g', tat) end
end
`;

const SLIDING_WINDOW = `
local win, prev, curr
local s_load, prev_at, curr_at, window_at, estimate, allow_at, s_available, s_step, s_refund, s_idle, s_save
if need_s then
function s_load(s)
  if s then
    local c1 = find(s, ',', 1, true)
    local c2 = find(s, ',', c1 + 1, true)
    win = tonumber(sub(s, 1, c1 - 1)); prev = tonumber(sub(s, c1 + 1, c2 - 1)); curr = tonumber(sub(s, c2 + 1))
  else
    win = floor(now / w); prev = 0; curr = 0
  end
end
function prev_at(k)
  if k == win then return prev elseif k == win + 1 then return curr end
  return 0
end
function curr_at(k)
  if k == win then return curr end
  return 0
end
function window_at(x)
  local k = floor(x / w)
  if k > win then return k end
  return win
end
function estimate(x)
  local k = window_at(x)
  local elapsed = x - k * w
  local frac = 0
  if elapsed > 0 then frac = elapsed / w end
  return prev_at(k) * (1 - frac) + curr_at(k)
end
function allow_at(k, room)
  local p, c = prev_at(k), curr_at(k)
  local x
  if c <= room and p > 0 and 1 - (room - c) / p < 1 then
    x = k * w + w * (1 - (room - c) / p)
  elseif c <= room then
    x = (k + 1) * w
  else
    x = (k + 1) * w + w * (1 - room / c)
  end
  local st = math.max(math.abs(x) * EPS, TINY)
  local i = 0
  while i < 1100 and estimate(x) > room do x = x + st; st = st * 2; i = i + 1 end
  return x
end
if need_cold then function s_available() return limit - estimate(now) end end
function s_step(cost, maxDelay)
  local k = window_at(now)
  local p, c = prev_at(k), curr_at(k)
  if cost > limit then return 0 end
  if estimate(now) + cost > limit then
    local at = allow_at(k, limit - cost)
    if delay_until(at) > maxDelay or floor(at / w) ~= k then return 0 end
  end
  win = k; prev = p; curr = c + cost
  return 1
end
if need_cold then
function s_refund(cost)
  local k = window_at(now)
  local p, c = prev_at(k), curr_at(k)
  local fromCurr = cost
  if c < cost then fromCurr = c end
  c = c - fromCurr
  p = math.max(0, p - (cost - fromCurr))
  win = k; prev = p; curr = c
end
end
function s_idle() return (win + 2) * w end
function s_save() return fmt('%.17g,%.17g,%.17g', win, prev, curr) end
end
`;

/**
 * One entry (key K, operation op with x, y) decided with the algorithm's functions: its
 * answer in `r`.
 */
const DECIDE = `
  local s = redis.pcall('GET', K)
  if type(s) == 'table' then
    r = 'W'
  else
    load(s)
    local found = s ~= false
    local idle0 = found and idle()
    if s == false then s = '' end
    if op == 'c' then
      if step(x, y) == 1 then
        write(found, idle0, save(), idle())
        r = '1' .. s
      else
        r = '0' .. s
      end
    elseif op == 't' then
      if step(x, 0) == 1 then
        local extra = math.min(y - x, floor(available() + 1e-9))
        if extra >= 1 then step(extra, 0) end
        write(found, idle0, save(), idle())
        r = '1' .. s
      else
        r = '0' .. s
      end
    elseif op == 'r' then
      if found then refund(x); write(found, idle0, save(), idle()) end
      r = '-' .. s
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
local out = { clock }
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
  local r
${DECIDE}
  out[i + 1] = r
end
return table.concat(out, ';')
`;

/** The one entry; the same reply as a batch of one. */
const ONE_DISPATCH = `
K = KEYS[1]
local load, step, available, refund, idle, save
${BIND}
local r
${DECIDE}
return clock .. ';' .. r
`;

/** The ioredis command the script is defined as (its number of keys comes with each call). */
export const RATE_COMMAND = 'sluiceRate';

export const RATE_SCRIPT = clockFrom('ARGV[1]') + BATCH_ARGS + TOKEN_BUCKET + GCRA + SLIDING_WINDOW + BATCH_DISPATCH;

/** The ioredis command of the one-operation script (one key). */
export const RATE_ONE_COMMAND = 'sluiceRate1';

/**
 * A batch of one — a lone caller's decision — as its own script: the same algorithms and the
 * same reply as {@link RATE_SCRIPT} for one entry, with the policy and the operation as flat
 * arguments (no tables of policies and specs to build, nothing to parse):
 *
 *   KEYS[1]   the state key
 *   ARGV      algorithm ('t', 'g', 's'), its three numbers (as in a batch), op ('c', 't',
 *             'r'), x, y (as in a spec); an 8th argument, when there, stands in for `TIME`
 */
export const RATE_ONE_SCRIPT = clockFrom('ARGV[8]') + ONE_ARGS + TOKEN_BUCKET + GCRA + SLIDING_WINDOW + ONE_DISPATCH;

/** The script's letter for each algorithm. */
export const ALGORITHM_CODE = { 'token-bucket': 't', gcra: 'g', 'sliding-window': 's' } as const;
