-- The PASS/FAIL bookkeeping the headless Neovim tests share (run.lua, schemas.lua):
--
--   local h = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'harness.lua'))
--   h.check('what is checked', function() ... end)   -- PASS, or FAIL with the error
--   h.finish(h.failed > 0 and 1 or 0)                -- tally, stop the server, exit
--
-- `check` runs `fn`; it passes when `fn` returns (a string it returns is printed as a
-- note) and fails with the error it raises. The last line printed is "N passed, N failed".

local M = { passed = 0, failed = 0, failures = {}, client_name = 'homelab_lsp' }

function M.out(line)
  io.stdout:write(line .. '\n')
  io.stdout:flush()
end

function M.check(name, fn)
  local ok, res = pcall(fn)
  if ok then
    M.passed = M.passed + 1
    M.out('PASS ' .. name .. ((type(res) == 'string' and res ~= '') and (': ' .. res) or ''))
  else
    M.failed = M.failed + 1
    M.failures[#M.failures + 1] = name
    -- The error's "file.lua:123: " prefix says nothing the check's name does not.
    M.out('FAIL ' .. name .. ': ' .. tostring(res):gsub('^[^:]*%.lua:%d+: ', ''))
  end
  return ok
end

-- Prints the tally, stops the server politely, then exits with `code`.
function M.finish(code)
  M.out(string.format('%d passed, %d failed', M.passed, M.failed))
  for _, c in ipairs(vim.lsp.get_clients({ name = M.client_name })) do
    pcall(function()
      c:stop()
    end)
  end
  vim.wait(3000, function()
    return #vim.lsp.get_clients({ name = M.client_name }) == 0
  end, 50)
  os.exit(code)
end

return M
