-- wrk script: POST /v1/events with a unique id per request (so each one is
-- processed and stored, not answered from the idempotency table).
-- Usage: wrk -s bench/events.lua ... ; set AG_KEY in the environment.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  key = os.getenv("AG_KEY")
  -- AG_ID_PREFIX keeps ids apart when several wrk run at once (two nodes)
  prefix = string.format("%sb%d-%d-", os.getenv("AG_ID_PREFIX") or "", os.time(), tid)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

local uas = { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
              "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1" }

-- Realistic login traffic: 5,000 accounts, each with its own home address,
-- browser and device, so after an account's first login its logins are
-- familiar (as most real logins are) and the model, the rules and the hooks
-- do their usual work rather than alerting on every request.
function request()
  counter = counter + 1
  local acct = counter % 5000
  local body = string.format(
    '{"id":"%s%d","type":"login.succeeded","occurred_at":"2026-11-21T10:00:00Z",' ..
    '"account":{"id":"u_%d"},"context":{"ip":"81.2.%d.%d","user_agent":"%s","device_id":"d_%d"}}',
    prefix, counter, acct, math.floor(acct / 250) % 250, acct % 250, uas[(acct % 2) + 1], acct)
  return wrk.format(nil, "/v1/events", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors_status=%d errors_connect=%d duration_s=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
