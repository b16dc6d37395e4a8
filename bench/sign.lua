-- bench/sign.lua — wrk script: POST the same signed sign request body over and over.
-- Sign requests are deadline-bound, not replay-protected, so one body serves the run.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("TKMS_BENCH_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
