-- wrk script: sign-ups (POST /signup) with a new address each time, a valid CSRF
-- token and cookie. BENCH_CSRF and BENCH_CSRF_COOKIE come from the benchmark.
local counter = 0
-- Each wrk thread has its own Lua state: seed each differently, or they would make the
-- same addresses.
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
local prefix = tostring(math.random(1, 1e9))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("BENCH_CSRF_COOKIE")
request = function()
  counter = counter + 1
  local body = "email=s" .. prefix .. "-" .. counter .. "-" .. tostring(math.random(1, 1e9)) .. "%40example.com"
    .. "&password=correct+horse+battery+staple+" .. counter
    .. "&csrfToken=" .. os.getenv("BENCH_CSRF")
  return wrk.format(nil, nil, nil, body)
end
