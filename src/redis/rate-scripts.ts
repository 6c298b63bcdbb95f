/**
 * The rate algorithms of sluice/rate (token-bucket.ts, gcra.ts, sliding-window.ts) as Lua,
 * one script per algorithm, each decision one atomic EVALSHA. The formulas are the same
 * expressions in the same order, so a decision in Redis is the decision the memory store
 * makes for the same state and time; only the time differs: it is Redis's `TIME`, read
 * inside the script, so the clocks of the callers never enter a decision.
 *
 * Calling convention: KEYS[1] the key's state; ARGV[1] the operation, ARGV[2..4] the
 * policy's numbers, ARGV[5..6] the operation's:
 *
 *   'c' consume  cost, maxDelayMs  → { allowed 0|1, delayMs, retryAfterMs, remaining, resetMs }
 *   't' take     min, max          → { taken, retryAfterMs, remaining }   (SharedLimitStore.takeTokens)
 *   'r' refund   cost              → {}
 *
 * ARGV[7], when present, stands in for `TIME`: the tests run a script and the memory store
 * at the same instants and compare every field. sluice never sends it.
 *
 * Numbers cross the boundary as strings printed with %.17g (Redis would print a Lua number
 * with 14 digits, and truncate a returned one to an integer); Infinity is "inf".
 * A state is written only when it changes, with PEXPIRE at the moment it becomes
 * indistinguishable from a fresh one (the algorithm's idleAt), so Redis holds only live keys.
 */

/** Shared prelude: server time, float printing, and delayUntil (algorithm.ts). */
const PRELUDE = `
local now
if ARGV[7] then
  now = tonumber(ARGV[7])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local EPS = 2 ^ -52
local TINY = 2 ^ -1074
local function num(x) return string.format('%.17g', x) end
local function delay_until(at)
  local d = at - now
  if d <= 0 then return 0 end
  local step = math.max(d * EPS, TINY)
  while now + d < at do d = d + step; step = step * 2 end
  return d
end
local function expire_at(idle)
  local ms = math.ceil(idle - now)
  if ms < 1 then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ms) end
end
`;

/**
 * The operations over an algorithm's `load`, `step`, `available`, `refund` and `save`.
 * `step` returns allowed, delay, retryAfter, remaining, reset and changes the state only
 * when it allows; `save` writes it (and its expiry).
 */
const DISPATCH = `
local op = ARGV[1]
local found = load()
if op == 'c' then
  local ok, d, r, rem, rs = step(tonumber(ARGV[5]), tonumber(ARGV[6]))
  if ok == 1 then save() end
  return { ok, num(d), num(r), num(rem), num(rs) }
elseif op == 't' then
  local lo, hi = tonumber(ARGV[5]), tonumber(ARGV[6])
  local ok, d, r, rem = step(lo, 0)
  if ok == 0 then return { 0, num(r), num(rem) } end
  local taken = lo
  local extra = math.min(hi - lo, math.floor(available() + 1e-9))
  if extra >= 1 then
    local ok2, d2, r2, rem2 = step(extra, 0)
    if ok2 == 1 then taken = taken + extra; rem = rem2 end
  end
  save()
  return { taken, '0', num(rem) }
elseif op == 'r' then
  if found then refund(tonumber(ARGV[5])); save() end
  return {}
end
return redis.error_reply('sluice: unknown operation ' .. tostring(op))
`;

/** Token bucket: hash { t = tokens at l, l = last } (token-bucket.ts). */
const TOKEN_BUCKET = `
local rate, perMs, b = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local perUnit = perMs / rate
local tokens, last
local function load()
  local s = redis.call('HMGET', KEYS[1], 't', 'l')
  if s[1] then tokens = tonumber(s[1]); last = tonumber(s[2]); return true end
  tokens = b; last = now
  return false
end
local function refilled()
  local x = tokens
  if now > last then x = tokens + ((now - last) * rate) / perMs end
  if x < b then return x end
  return b
end
local function available() return refilled() end
local function step(cost, maxDelay)
  local have = refilled()
  if cost > b then return 0, 0, math.huge, have, (b - have) * perUnit end
  local delay = 0
  if tokens < cost then
    local at = last + (cost - tokens) * perUnit
    if at > now then
      delay = delay_until(at)
      if delay > maxDelay then return 0, 0, delay, have, (b - have) * perUnit end
    end
  end
  local left = have - cost
  tokens = left; last = now
  return 1, delay, 0, left, (b - left) * perUnit
end
local function refund(cost)
  local x = refilled() + cost
  if x < b then tokens = x else tokens = b end
  last = now
end
local function save()
  redis.call('HSET', KEYS[1], 't', num(tokens), 'l', num(last))
  expire_at(last + ((b - tokens) * perMs) / rate)
end
`;

/** GCRA: string TAT (gcra.ts). */
const GCRA = `
local rate, perMs, b = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local T = perMs / rate
local tat
local function load()
  local s = redis.call('GET', KEYS[1])
  if s then tat = tonumber(s); return true end
  tat = now
  return false
end
local function available()
  if tat > now then return b - ((tat - now) * rate) / perMs end
  return b
end
local function step(cost, maxDelay)
  local base = tat
  if base < now then base = now end
  if cost > b then return 0, 0, math.huge, b - (base - now) / T, base - now end
  local at = tat - (b - cost) * T
  local delay = 0
  if at > now then
    delay = delay_until(at)
    if delay > maxDelay then return 0, 0, delay, b - (base - now) / T, base - now end
  end
  local nxt = base + cost * T
  tat = nxt
  return 1, delay, 0, b - (nxt - now) / T, nxt - now
end
local function refund(cost)
  local x = tat - (cost * perMs) / rate
  if x > now then tat = x else tat = now end
end
local function save()
  local ms = math.ceil(tat - now)
  if ms < 1 then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], num(tat), 'PX', ms) end
end
`;

/** Sliding-window counter: hash { w = window index, p = previous count, c = current } (sliding-window.ts). */
const SLIDING_WINDOW = `
local limit, w = tonumber(ARGV[2]), tonumber(ARGV[3])
local win, prev, curr
local function load()
  local s = redis.call('HMGET', KEYS[1], 'w', 'p', 'c')
  if s[1] then win = tonumber(s[1]); prev = tonumber(s[2]); curr = tonumber(s[3]); return true end
  win = math.floor(now / w); prev = 0; curr = 0
  return false
end
local function prev_at(k)
  if k == win then return prev elseif k == win + 1 then return curr end
  return 0
end
local function curr_at(k)
  if k == win then return curr end
  return 0
end
local function window_at(x)
  local k = math.floor(x / w)
  if k > win then return k end
  return win
end
local function estimate(x)
  local k = window_at(x)
  local elapsed = x - k * w
  local frac = 0
  if elapsed > 0 then frac = elapsed / w end
  return prev_at(k) * (1 - frac) + curr_at(k)
end
local function allow_at(k, room)
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
local function reset(p, c, k)
  if c > 0 then return (k + 2) * w - now elseif p > 0 then return (k + 1) * w - now end
  return 0
end
local function available() return limit - estimate(now) end
local function step(cost, maxDelay)
  local k = window_at(now)
  local p, c = prev_at(k), curr_at(k)
  local est = estimate(now)
  if cost > limit then return 0, 0, math.huge, limit - est, reset(p, c, k) end
  local delay = 0
  if est + cost > limit then
    local at = allow_at(k, limit - cost)
    delay = delay_until(at)
    if delay > maxDelay or math.floor(at / w) ~= k then return 0, 0, delay, limit - est, reset(p, c, k) end
  end
  c = c + cost
  win = k; prev = p; curr = c
  return 1, delay, 0, limit - est - cost, reset(p, c, k)
end
local function refund(cost)
  local k = window_at(now)
  local p, c = prev_at(k), curr_at(k)
  local fromCurr = cost
  if c < cost then fromCurr = c end
  c = c - fromCurr
  p = math.max(0, p - (cost - fromCurr))
  win = k; prev = p; curr = c
end
local function save()
  redis.call('HSET', KEYS[1], 'w', num(win), 'p', num(prev), 'c', num(curr))
  expire_at((win + 2) * w)
end
`;

/** The ioredis command each script is defined as. */
export const RATE_COMMAND = {
  'token-bucket': 'sluiceTokenBucket',
  gcra: 'sluiceGcra',
  'sliding-window': 'sluiceSlidingWindow',
} as const;

export const RATE_SCRIPTS = {
  'token-bucket': PRELUDE + TOKEN_BUCKET + DISPATCH,
  gcra: PRELUDE + GCRA + DISPATCH,
  'sliding-window': PRELUDE + SLIDING_WINDOW + DISPATCH,
} as const;
