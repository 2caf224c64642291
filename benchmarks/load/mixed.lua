-- Mixed load for benchmarks/national.py: wrk picks a category by weight, then one of its
-- prepared requests (each with its user's session cookie or bearer token), and counts every
-- response by status and every successful write (201) by the marker its body carries.
-- The data file (KOTO_WRK_DATA) is written by benchmarks/national.py; done() writes the
-- summary as JSON to KOTO_WRK_OUT. Traffic goes only where wrk is pointed: 127.0.0.1.

local threads = {}

function setup(thread)
  -- Each thread's counters are read back in done(): keep the thread objects.
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local data = dofile(os.getenv("KOTO_WRK_DATA"))
  math.randomseed(data.seed * 100 + tid)
  markers = data.markers
  cats, total = {}, 0
  for i, c in ipairs(data.categories) do
    local reqs = {}
    for j, r in ipairs(c.requests) do
      reqs[j] = wrk.format(r[1], r[2], r[3], r[4])
    end
    total = total + c.weight
    cats[i] = { cum = total, reqs = reqs }
  end
  statuses = {}
  created = {}
  for _, m in ipairs(markers) do created[m[1]] = 0 end
  created.other = 0
end

function request()
  local x = math.random() * total
  for i = 1, #cats do
    if x < cats[i].cum then
      local reqs = cats[i].reqs
      return reqs[math.random(#reqs)]
    end
  end
  local reqs = cats[#cats].reqs
  return reqs[math.random(#reqs)]
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status == 201 then
    local seen = false
    for _, m in ipairs(markers) do
      if body and string.find(body, m[2], 1, true) then
        created[m[1]] = created[m[1]] + 1
        seen = true
        break
      end
    end
    if not seen then created.other = created.other + 1 end
  end
end

local function json(value)
  if type(value) == "table" then
    local parts = {}
    for k, v in pairs(value) do
      table.insert(parts, string.format("%q:%s", tostring(k), json(v)))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return tostring(value)
end

function done(summary, latency, requests)
  local all_statuses, all_created = {}, {}
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("statuses")) do all_statuses[k] = (all_statuses[k] or 0) + v end
    for k, v in pairs(thread:get("created")) do all_created[k] = (all_created[k] or 0) + v end
  end
  local out = {
    duration_us = summary.duration,
    requests = summary.requests,
    bytes = summary.bytes,
    errors = summary.errors,
    latency_us = {
      p50 = latency:percentile(50), p90 = latency:percentile(90),
      p95 = latency:percentile(95), p99 = latency:percentile(99),
      p999 = latency:percentile(99.9), max = latency.max,
      mean = latency.mean, stdev = latency.stdev,
    },
    statuses = all_statuses,
    created = all_created,
  }
  local f = assert(io.open(os.getenv("KOTO_WRK_OUT"), "w"))
  f:write(json(out))
  f:close()
end
