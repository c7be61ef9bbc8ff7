-- wrk script: password sign-in (POST /api/auth/callback/credentials) with a valid
-- CSRF token and cookie, as a browser form sends it. BENCH_EMAIL, BENCH_PASSWORD,
-- BENCH_CSRF and BENCH_CSRF_COOKIE come from bench/run.sh.
local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("BENCH_CSRF_COOKIE")
wrk.body = "email=" .. urlencode(os.getenv("BENCH_EMAIL"))
  .. "&password=" .. urlencode(os.getenv("BENCH_PASSWORD"))
  .. "&csrfToken=" .. urlencode(os.getenv("BENCH_CSRF"))
