-- wrk script: POST /api/chat, cycling through one JSON body per line of $BODIES.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/api/chat", nil, bodies[i])
end
response = function(status)
  if status ~= 200 then io.stderr:write("status " .. status .. "\n") end
end
