-- credit-rpc as a language server of Neovim's built-in LSP client (vim.lsp.start_client), which
-- sends initialize / initialized first and shutdown / exit when stopped.
-- Run: CREDIT_RPC_BIN=.build/debug/credit-rpc nvim --headless -u NONE -c "luafile Tests/clients/nvim-lsp-client.lua"
local bin = os.getenv("CREDIT_RPC_BIN") or "credit-rpc"

local function fail(msg)
  io.stderr:write("nvim vim.lsp.start_client: " .. msg .. "\n")
  vim.cmd("cquit 1")
end

local exited = nil
local id = vim.lsp.start_client({
  name = "credit-rpc",
  cmd = { bin, "--db", ":memory:" },
  on_exit = function(code, signal) exited = code end,
})
local client = vim.lsp.get_client_by_id(id)
if not vim.wait(10000, function() return client.initialized end, 1) then fail("initialize failed") end

local function call(method, params)
  local r = client.request_sync(method, params, 10000)
  if not r then fail("no answer to " .. method) end
  return r.err, r.result
end

local err, result = call("listCourses", vim.empty_dict())
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

client.stop() -- shutdown, then exit
if not vim.wait(10000, function() return exited ~= nil end, 10) then fail("did not exit") end
if exited ~= 0 then fail("exit status " .. tostring(exited)) end
io.stdout:write("nvim vim.lsp.start_client: ok\n")
vim.cmd("qall!")
