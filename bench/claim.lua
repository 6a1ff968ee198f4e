-- PUT /v1/terminals/{id}/binding with a new identifier each time: every
-- request is a real insert (201), none a cheap renewal.
local token = os.getenv("PHONEBIND_TOKEN")
local counter = 0
local prefix = string.format("%d", os.time())
request = function()
  counter = counter + 1
  return wrk.format("PUT", "/v1/terminals/usb:18d1:C" .. prefix .. "-" .. counter .. "/binding",
                    {["Authorization"] = "Bearer " .. token, ["Content-Length"] = "0"})
end
