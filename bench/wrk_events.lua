-- wrk script for bench/relay_wrk.py: single-event POSTs with unique ids to many slots.
-- Slots come from the file named by WIRE_WRK_SLOTS (lines "slot_id token"); every acknowledged id
-- (201 stored) is written to WIRE_WRK_OUT.<thread> so the bench can check each one was stored.
local slots_path = os.getenv("WIRE_WRK_SLOTS")
local out_prefix = os.getenv("WIRE_WRK_OUT")
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local pad = string.rep("lorem ipsum dolor sit amet ", 5)
local slots = {}
local n = 0
local acked, errors, out

function init(args)
  for line in io.lines(slots_path) do
    local id, tok = line:match("^(%S+) (%S+)$")
    table.insert(slots, {id = id, tok = tok})
  end
  acked, errors = 0, 0
  out = io.open(out_prefix .. "." .. tid, "w")
  out:setvbuf("line")
end

function request()
  n = n + 1
  local slot = slots[(n + tid) % #slots + 1]
  local event_id = string.format("w%02d%012x", tid, n)
  local body = '{"event":{"body":{"text":"' .. pad .. '"},"event_id":"' .. event_id ..
    '","from":"did:wire:bench-0123abcd","kind":1,"public_key_id":"bench:0123abcd","schema_version":"v3.1",' ..
    '"signature":"' .. string.rep("A", 86) .. '==","timestamp":"2027-01-15T08:00:00Z","to":"did:wire:peer","type":"claim"}}'
  return wrk.format("POST", "/v1/events/" .. slot.id,
    {["Authorization"] = "Bearer " .. slot.tok, ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 201 then
    acked = acked + 1
    local id = body:match('"event_id":"([^"]+)"')
    out:write(id, "\n")
  else
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local p = {}
  for _, q in ipairs({50, 90, 99, 99.9}) do table.insert(p, string.format('"%s":%.3f', q, latency:percentile(q) / 1000)) end
  io.write(string.format('WRK_JSON {"requests":%d,"seconds":%.3f,"socket_errors":%d,"non2xx":%d,"latency_ms":{%s}}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, table.concat(p, ",")))
end
