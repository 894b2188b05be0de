-- wrk script for POST /v1/chat/completions: a small, realistic chat body per request.
--
-- * Every request carries a new user message (a counter in its text), so every request begins a new task:
--   the gateway's loop limit (5 model calls per task) never trips, and each request is a real model call.
-- * Requests are spread over a pool of sessions (X-Session-Id: bench-0000 .. bench-0999 by default;
--   SESSIONS=N in the environment changes the pool size), so the gateway keeps ~1000 session actors warm.
-- * done() prints one machine-readable RESULT line that run.sh parses.

local sessions = tonumber(os.getenv("SESSIONS") or "1000")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  tid = tid or 0
  counter = 0
end

local template = '{"model":"haiku","messages":['
  .. '{"role":"system","content":"You are the order assistant of a manga store. Answer briefly."},'
  .. '{"role":"user","content":"Question %d-%d: is volume %d of Blue Period in stock, and can it ship this week?"}'
  .. '],"max_tokens":128,"temperature":0.2}'

function request()
  counter = counter + 1
  local session = string.format("bench-%04d", (tid * 7919 + counter) % sessions)
  local body = string.format(template, tid, counter, counter % 15 + 1)
  return wrk.format("POST", "/v1/chat/completions",
    { ["Content-Type"] = "application/json", ["X-Session-Id"] = session }, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f "
      .. "non2xx=%d connect_err=%d read_err=%d write_err=%d timeouts=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end
