/**
 * The rate algorithms of sluice/rate (token-bucket.ts, gcra.ts, sliding-window.ts) in Lua, for
 * the rate scripts (rate-scripts.ts, which defines the locals they use: now, the policy's
 * numbers, the helpers). The formulas are the same expressions in the same order as the
 * JavaScript, so Redis makes the memory store's decision for the same state and time.
 */

/**
 * Each algorithm, as local functions defined only when the batch needs it (every closure is
 * made again at each call of the script; functions stored in tables cost microseconds more):
 * `load` (the state as stored, binary or text, or false; true when it was in this version's
 * binary form, which the reply then carries as stored), `step` → 1 allowed / 0 refused (the
 * state changes only when it allows — or when it was from a later reading than now, the clock
 * set back: then `moved` is set, and the state, brought to now, is written even on a
 * refusal), `available`, `refund`, `idle` (idleAt), `save` (the state packed in binary). The policy's numbers are in the prelude's locals (T = perMs / rate, as the
 * JavaScript computes it).
 */
export const TOKEN_BUCKET = `
local tokens, last
local tb_load, refilled, tb_step, tb_refund, tb_idle, tb_save
if need_t then
function tb_load(s)
  if s and byte(s) == 1 then
    tokens, last = unpacks('<dd', s, 2)
    return true
  elseif s then
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
  if last > now then last = now; moved = true end
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
function tb_save() return pack('<Bdd', 1, tokens, last) end
end
`;

export const GCRA = `
local tat, g_last
local g_load, g_rebase, g_available, g_step, g_refund, g_idle, g_save
if need_g then
function g_load(s)
  if s and byte(s) == 2 then
    tat, g_last = unpacks('<dd', s, 2)
    return true
  end
  if s and byte(s) == 1 then tat = unpacks('<d', s, 2) elseif s then tat = tonumber(s) else tat = now; g_last = now; return end
  -- An earlier version's state, TAT alone: the reading it was written at is not known; taken
  -- as now's (its TAT's if earlier), so it is decided as that version decided it.
  if tat < now then g_last = tat else g_last = now end
end
function g_rebase()
  local owed = tat - g_last
  if owed > 0 then tat = now + owed else tat = now end
  g_last = now
  moved = true
end
if need_cold then
function g_available()
  local t = tat
  if g_last > now then
    t = now
    if tat > g_last then t = now + (tat - g_last) end
  end
  if t > now then return b - ((t - now) * rate) / perMs end
  return b
end
function g_refund(cost)
  if g_last > now then g_rebase() end
  local x = tat - (cost * perMs) / rate
  if x > now then tat = x else tat = now end
  g_last = now
end
end
function g_step(cost, maxDelay)
  if g_last > now then g_rebase() end
  local base = tat
  if base < now then base = now end
  if cost > b then return 0 end
  local at = tat - (b - cost) * T
  if at > now and delay_until(at) > maxDelay then return 0 end
  tat = base + cost * T
  g_last = now
  return 1
end
function g_idle() return tat end
function g_save() return pack('<Bdd', 2, tat, g_last) end
end
`;

export const SLIDING_WINDOW = `
local win, prev, curr, sw
local s_load, s_reshape, s_rebase, prev_at, curr_at, window_at, estimate, allow_at, s_available, s_step, s_refund, s_idle, s_save
if need_s then
function s_load(s)
  if s and byte(s) == 3 then
    win, prev, curr, sw = unpacks('<dddd', s, 2)
    return true
  end
  -- An earlier version's state (byte 1 and three doubles, or text) has no window length: the policy's.
  sw = w
  if s and byte(s) == 1 then
    win, prev, curr = unpacks('<ddd', s, 2)
  elseif s then
    local c1 = find(s, ',', 1, true)
    local c2 = find(s, ',', c1 + 1, true)
    win = tonumber(sub(s, 1, c1 - 1)); prev = tonumber(sub(s, c1 + 1, c2 - 1)); curr = tonumber(sub(s, c2 + 1))
  else
    win = floor(now / w); prev = 0; curr = 0
  end
end
function s_reshape()
  if sw == w then return end
  local k0 = floor(now / sw)
  if k0 < win then k0 = win end
  local c = curr_at(k0)
  local all, cap = prev_at(k0) + c, limit
  if c > limit then cap = c end
  win = floor(now / w)
  if all < cap then curr = all else curr = cap end
  prev = 0
  sw = w
  moved = true
end
function s_rebase()
  local k = floor(now / w)
  if win <= k then return end
  local all, cap = prev + curr, limit
  if curr > limit then cap = curr end
  win = k
  if all < cap then curr = all else curr = cap end
  prev = 0
  moved = true
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
  s_reshape()
  s_rebase()
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
  s_reshape()
  s_rebase()
  local k = window_at(now)
  local p, c = prev_at(k), curr_at(k)
  local fromCurr = cost
  if c < cost then fromCurr = c end
  c = c - fromCurr
  p = math.max(0, p - (cost - fromCurr))
  win = k; prev = p; curr = c
end
end
function s_idle() return (win + 2) * sw end
function s_save() return pack('<Bdddd', 3, win, prev, curr, sw) end
end
`;
