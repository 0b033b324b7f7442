-- wrk script for the soak run (tests/soak/run.sh): POST /v1/events with a
-- unique id per request (each one is processed and stored, never answered
-- from the idempotency table), paced to a fixed total request rate.
--
-- Debian's wrk has no constant-rate mode (that is wrk2), so the pacing is
-- done here with wrk's delay() hook, which wrk calls before each request on
-- a connection: every thread keeps a schedule of send slots SOAK_RATE /
-- threads apart, each request claims the next slot and waits until it
-- comes. As long as there are enough connections to cover the latency, the
-- rate is the schedule's, whatever the server's speed; when the server
-- falls behind, late slots are sent at once (the backlog is worked off, not
-- dropped). The clock is CLOCK_MONOTONIC through LuaJIT's FFI.
--
-- Environment: AG_KEY (API key with events:write), SOAK_RATE (requests per
-- second, all threads together), SOAK_THREADS (must match wrk -t),
-- SOAK_PREFIX (id prefix; unique per run), SOAK_ACCOUNTS (distinct accounts).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } ag_timespec;
  int clock_gettime(int clk, ag_timespec *ts);
]]
local ts = ffi.new("ag_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local counter = 0
local interval_ms, next_slot, nthreads
local prefix, accounts

function init(args)
  local key = os.getenv("AG_KEY")
  local rate = tonumber(os.getenv("SOAK_RATE") or "200")
  nthreads = tonumber(os.getenv("SOAK_THREADS") or "2")
  accounts = tonumber(os.getenv("SOAK_ACCOUNTS") or "5000")
  prefix = string.format("%s-%d-", os.getenv("SOAK_PREFIX") or "soak", tid)
  interval_ms = 1000 * nthreads / rate
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function delay()
  local t = now_ms()
  if not next_slot then
    -- stagger the threads' schedules across one interval
    next_slot = t + interval_ms * tid / nthreads
  end
  local slot = next_slot
  next_slot = next_slot + interval_ms
  local wait = slot - t
  if wait < 0 then return 0 end
  return math.floor(wait)
end

local types = { "login.succeeded", "login.succeeded", "login.failed", "order.placed",
                "password.changed", "login.succeeded", "payout.requested", "login.succeeded" }
local uas = { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
              "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
              "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0" }

function request()
  counter = counter + 1
  local acct = (counter * 7919 + tid * 104729) % accounts
  local t = types[(counter % #types) + 1]
  local props = ""
  if t == "order.placed" or t == "payout.requested" then
    props = string.format(',"properties":{"amount":%d,"currency":"EUR"}', 100 + counter % 50000)
  end
  local body = string.format(
    '{"id":"%s%d","type":"%s","occurred_at":"2026-11-21T10:00:00Z",' ..
    '"account":{"id":"u_%d"},"context":{"ip":"81.2.%d.%d","user_agent":"%s","device_id":"d_%d"}%s}',
    prefix, counter, t, acct, acct % 250, counter % 250, uas[(counter % #uas) + 1], acct % 997, props)
  return wrk.format(nil, "/v1/events", nil, body)
end

-- Non-2xx answers: wrk counts status >= 400 in summary.errors.status; count
-- every non-2xx here too (a 3xx or 1xx would be as wrong), per thread.
bad = 0 -- global: done() reads it from each thread with t:get
function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    if bad <= 3 then
      io.stderr:write(string.format("soak: HTTP %d: %s\n", status, string.sub(body or "", 1, 200)))
    end
  end
end

function done(summary, latency, requests)
  local sock = summary.errors.connect + summary.errors.read + summary.errors.write +
               summary.errors.timeout
  local non2xx = 0
  for _, t in ipairs(threads) do non2xx = non2xx + (t:get("bad") or 0) end
  io.write(string.format(
    "RESULT requests=%d non2xx=%d errors_status=%d errors_socket=%d duration_s=%.1f rps=%.1f " ..
    "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f\n",
    summary.requests, non2xx, summary.errors.status, sock, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000))
end
