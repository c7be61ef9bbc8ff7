-- wrk script: POST /forgot-password for the address given after wrk's `--` (else
-- BENCH_FORGOT_EMAIL), or for a new address each time when it is "random" (an address
-- with no account).
local fixed = os.getenv("BENCH_FORGOT_EMAIL")
local counter = 0
-- Each wrk thread has its own Lua state: seed each differently, or they would make the
-- same addresses.
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
init = function(args)
  if args[1] then
    fixed = args[1]
  end
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("BENCH_CSRF_COOKIE")
request = function()
  counter = counter + 1
  local email = fixed
  if fixed == "random" then
    email = "nobody-" .. counter .. "-" .. tostring(math.random(1, 1e9)) .. "@example.com"
  end
  local body = "email=" .. email:gsub("@", "%%40") .. "&csrfToken=" .. os.getenv("BENCH_CSRF")
  return wrk.format(nil, nil, nil, body)
end
