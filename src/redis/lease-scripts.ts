/**
 * Concurrency slots as leases, and a breaker's shared state, as Lua.
 *
 * Leases: KEYS[1] a sorted set of lease ids scored by their expiry (Redis ms), KEYS[2] a hash
 * of holders' demands (`want|expiry`), KEYS[3] the lease data's epoch, all under the limit's
 * hash tag (one slot). Every call first drops expired leases and demands, records the
 * caller's demand, then:
 *
 *   'a' acquire  cover ids…  add as many of `ids` as fit: count of unexpired leases < limit
 *   'n' renew    keep ids…   push each id's expiry to now + ttl; an id no longer there (it
 *                      expired: its holder was late; or it vanished: FLUSHALL, an eviction,
 *                      a failover to an empty replica) comes back if it fits — and the first
 *                      `keep` ids (slots with work running on them) come back even if not,
 *                      so the others see that work and lease nothing until it ends; any
 *                      other is reported lost
 *   'r' release  0 ids…      remove them
 *
 * The epoch (KEYS[3]: e the epoch, b when it began, f the fence's end, l the last call that
 * left leases; Redis ms) is how a holder learns that the lease data it holds leases in is gone
 * — all of it, or the lease set alone (evicted within a TTL of a call that left leases in it:
 * a new epoch begins then too, fenced at once, whoever calls first). Each holder passes the epoch
 * its leases are in ('' before its first answer). A call from a holder of another epoch —
 * or of one when there is none — proves the leases were lost (FLUSHALL, a failover to an
 * empty replica, an eviction) with work still running on them that Redis no longer counts:
 * for a TTL from the start of the current epoch no acquire is granted (the fence), except
 * `cover` leases for work a holder already runs on none; holders renew within a TTL, putting
 * their leases back as they were, so when the fence ends Redis counts every holder's work again
 * and new grants cannot put more than the limit in flight. A holder that was late by more than
 * a TTL had lost its leases anyway: after the fence's TTL, a stale epoch fences nothing. The
 * epoch key outlives the leases (a day after the last call, refreshed by every call).
 *
 * Redis's clock set back (NTP on its host, a failover to a replica whose clock is behind):
 * every call first brings stored times from a later TIME to now — a lease's or demand's
 * expiry to at most now + ttl, an epoch's birth to now, its fence to at most now + ttl — so
 * a crashed holder's slots come back within a TTL, not the length of the step; a renewal
 * finds its leases where they were.
 *
 * ARGV: op, limit, ttlMs, holder, want, epoch, cover (acquire) / keep (renew) / 0, ids… →
 * { n (granted, renewed or released), holders other than the caller that want slots, leases
 * held after the call, the epoch, 1 while fenced (else 0), lost ids… }. The lease and demand
 * keys expire ttl after the last call: by then every lease in them has expired too.
 */
export const LEASE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local L, W, E = KEYS[1], KEYS[2], KEYS[3]
local op, limit, ttl, holder, want, mine = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), ARGV[6]
local count = tonumber(ARGV[7])
local exp = string.format('%.17g', now + ttl)
local ep = redis.call('HMGET', E, 'e', 'b', 'f', 'l')
local epoch, born, fence = ep[1], tonumber(ep[2]), tonumber(ep[3])
-- Redis's clock set back (or a failover to a replica behind): times stored at a later TIME are
-- brought to now — an epoch born later began now, a fence ends within a TTL, a lease or demand
-- expires within a TTL — so nothing is held for the length of the step.
local horizon = now + ttl
if epoch and born and born > now then
  born = now
  redis.call('HSET', E, 'b', string.format('%.17g', born))
end
if epoch and fence and fence > horizon then
  fence = horizon
  redis.call('HSET', E, 'f', string.format('%.17g', fence))
end
if tonumber(ep[4] or '0') > now then ep[4] = string.format('%.17g', now) end
local ahead = redis.call('ZRANGEBYSCORE', L, '(' .. exp, '+inf')
for i = 1, #ahead do redis.call('ZADD', L, 'XX', exp, ahead[i]) end
-- The lease set gone while leases in it were live (an eviction of it alone): the epoch ends too,
-- and the new one is fenced whoever calls first — a holder that never called (no epoch of its
-- own to prove the loss) was granted the lost leases' slots before their holders renewed.
local vanished = false
if epoch and redis.call('EXISTS', L) == 0 and now < (tonumber(ep[4]) or 0) + ttl then
  epoch = false
  vanished = true
end
if not epoch then
  epoch = t[1] .. '.' .. t[2]
  born, fence = now, vanished and now + ttl or 0
  redis.call('HSET', E, 'e', epoch, 'b', string.format('%.17g', born), 'f', string.format('%.17g', fence))
end
if mine ~= '' and mine ~= epoch and now < born + ttl and fence < born + ttl then
  fence = born + ttl
  redis.call('HSET', E, 'f', string.format('%.17g', fence))
end
redis.call('PEXPIRE', E, math.max(86400000, math.ceil(ttl) * 3))
local fenced = now < fence
redis.call('ZREMRANGEBYSCORE', L, '-inf', string.format('%.17g', now))
local others = 0
local d = redis.call('HGETALL', W)
for i = 1, #d, 2 do
  local v = d[i + 1]
  local sep = string.find(v, '|', 1, true)
  local til = tonumber(string.sub(v, sep + 1))
  if til <= now then
    redis.call('HDEL', W, d[i])
  else
    if til > horizon then redis.call('HSET', W, d[i], string.sub(v, 1, sep) .. exp) end
    if d[i] ~= holder and tonumber(string.sub(v, 1, sep - 1)) > 0 then others = others + 1 end
  end
end
if want > 0 then redis.call('HSET', W, holder, want .. '|' .. exp) else redis.call('HDEL', W, holder) end
local n = 0
local lost = {}
if op == 'a' then
  local room = limit - redis.call('ZCARD', L)
  if fenced then room = math.min(room, count) end
  for i = 8, #ARGV do
    if n >= room then break end
    redis.call('ZADD', L, exp, ARGV[i])
    n = n + 1
  end
elseif op == 'n' then
  for i = 8, #ARGV do
    if redis.call('ZSCORE', L, ARGV[i]) then
      redis.call('ZADD', L, 'XX', exp, ARGV[i])
      n = n + 1
    elseif i - 7 <= count or redis.call('ZCARD', L) < limit then
      redis.call('ZADD', L, exp, ARGV[i])
      n = n + 1
    else
      lost[#lost + 1] = ARGV[i]
    end
  end
elseif op == 'r' then
  for i = 8, #ARGV do n = n + redis.call('ZREM', L, ARGV[i]) end
else
  return redis.error_reply('sluice: unknown operation ' .. tostring(op))
end
local pttl = math.ceil(ttl)
redis.call('PEXPIRE', L, pttl)
redis.call('PEXPIRE', W, pttl)
local used = redis.call('ZCARD', L)
redis.call('HSET', E, 'l', used > 0 and string.format('%.17g', now) or '0')
local out = { n, others, used, epoch, fenced and 1 or 0 }
for i = 1, #lost do out[#out + 1] = lost[i] end
return out
`;

/**
 * A breaker's state shared by every process: KEYS[1] a hash { e = epoch, s = state,
 * u = open until (Redis ms), o = the open time set }. An open time left longer than `o`
 * (Redis's clock set back since) is cut to `o` from now. ARGV[1] 'get', or 'set' with ARGV[2] the state and ARGV[3]
 * its open time (ms). A set bumps the epoch, so a process applies each change once.
 * → { epoch, state, remaining open ms }.
 */
export const BREAKER_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local K = KEYS[1]
if ARGV[1] == 'set' then
  local e = redis.call('HINCRBY', K, 'e', 1)
  local openMs = tonumber(ARGV[3])
  redis.call('HSET', K, 's', ARGV[2], 'u', string.format('%.17g', now + openMs), 'o', string.format('%.17g', openMs))
  redis.call('PEXPIRE', K, math.max(86400000, math.ceil(openMs) * 2))
  return { e, ARGV[2], string.format('%.17g', openMs) }
end
local s = redis.call('HMGET', K, 'e', 's', 'u', 'o')
if not s[1] then return { 0, 'closed', '0' } end
local left = math.max(0, tonumber(s[3]) - now)
-- Redis's clock set back: an open time never ends later than its own length from now.
local o = tonumber(s[4])
if o and left > o then
  left = o
  redis.call('HSET', K, 'u', string.format('%.17g', now + o))
end
return { tonumber(s[1]), s[2], string.format('%.17g', left) }
`;

export const LEASE_COMMAND = 'sluiceLease';
export const BREAKER_COMMAND = 'sluiceBreaker';
