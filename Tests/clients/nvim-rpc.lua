-- credit-rpc from Neovim's vim.lsp.rpc, as a plugin would use it.
-- Run: CREDIT_RPC_BIN=.build/debug/credit-rpc nvim --headless -u NONE -l ... (0.7: -c "luafile ...")
-- Prints "ok" and quits 0 when every check holds. Empty params go as vim.empty_dict() (a plain {}
-- is encoded as [], which credit-rpc also takes as no params); null members of results are dropped.
local bin = os.getenv("CREDIT_RPC_BIN") or "credit-rpc"

local function fail(msg)
  io.stderr:write("nvim vim.lsp.rpc: " .. msg .. "\n")
  vim.cmd("cquit 1")
end

local exited = nil
local rpc = vim.lsp.rpc.start(bin, { "--db", ":memory:" }, {
  on_exit = function(code, signal) exited = code end,
})

-- One call, waited for: (err, result).
local function call(method, params)
  local done, err, result = false, nil, nil
  rpc.request(method, params, function(e, r) done, err, result = true, e, r end)
  if not vim.wait(10000, function() return done end, 1) then fail("no answer to " .. method) end
  return err, result
end

local err, result = call("listCourses", {})
if err or #result.courses ~= 0 then fail("listCourses: " .. vim.inspect(err or result)) end
err, result = call("createLearner", { learnerId = "ada", fullName = "Ada Lovelace", email = "ada@example.org", country = "GB" })
if err or result.learnerId ~= "ada" then fail("createLearner: " .. vim.inspect(err or result)) end
err, result = call("getDashboard", { learnerId = "ada" })
if err or result.learnerId ~= "ada" then fail("getDashboard: " .. vim.inspect(err or result)) end
err, result = call("getDashboard", { learnerId = "ghost" })
if not err or err.code ~= -32001 or err.data.reason ~= "learner_not_found" then
  fail("unknown learner: " .. vim.inspect(err or result))
end
for i = 1, 100 do
  err, result = call("getDashboard", { learnerId = "ada" })
  if err or result.learnerId ~= "ada" then fail("request " .. i .. ": " .. vim.inspect(err or result)) end
end

-- The service ends at end of input: close its stdin by stopping the client gracefully.
rpc.notify("exit")
if not vim.wait(10000, function() return exited ~= nil end, 10) then fail("did not exit") end
if exited ~= 0 then fail("exit status " .. tostring(exited)) end
io.stdout:write("nvim vim.lsp.rpc: ok\n")
vim.cmd("qall!")
