-- GET /v1/terminals/{id} with a different identifier each time.
local token = os.getenv("PHONEBIND_TOKEN")
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/v1/terminals/usb:18d1:LOOKUP" .. counter,
                    {["Authorization"] = "Bearer " .. token})
end
