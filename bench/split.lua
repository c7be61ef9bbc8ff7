-- wrk script: spreads wrk's threads over several instances of the app, one instance
-- per thread in turn (BENCH_SPLIT_PORTS="8090 8091"), so they share one load.
local ports = {}
for port in string.gmatch(os.getenv("BENCH_SPLIT_PORTS"), "%d+") do
  ports[#ports + 1] = port
end
local threads = 0
function setup(thread)
  threads = threads + 1
  thread.addr = wrk.lookup("127.0.0.1", ports[(threads - 1) % #ports + 1])[1]
end
