-- Real-client test of JSON schemas in a template: Neovim's own LSP client against
-- homelab-lsp on a small repository whose Flux Kustomization template breaks its
-- schema (`prune: sometimes`, a boolean wanted).
--
--   nvim --headless -u NONE -i NONE -l editors/nvim/test/schemas.lua REPO HOMELAB_LSP
--
-- schemas.sh writes REPO and serves the schemas from a file:// mirror of the shared
-- store (HOMELAB_LSP_SCHEMA_MIRROR), with a scratch cache. Checks:
--   - the schema violation arrives as a diagnostic of the template, on the template's
--     `prune` line, naming the expected type and the schema's description;
--   - hover on `interval` under `spec` shows the schema's description of it.
-- Every check prints PASS or FAIL; the last line is "N passed, N failed".

local TEMPLATE = 'bootstrap/templates/kubernetes/flux/ks.yaml.j2'
local CLIENT_NAME = 'homelab_lsp'
local WAIT_MS = tonumber(vim.env.HOMELAB_TEST_DIAGNOSTIC_MS or '') or 30000

local h = dofile(vim.fs.joinpath(vim.fs.dirname(vim.fn.fnamemodify(arg[0], ':p')), 'harness.lua'))
h.client_name = CLIENT_NAME

local repo, server = arg[1], arg[2]
if not repo or not server or vim.fn.executable(server) == 0 then
  h.out('usage: nvim --headless -u NONE -i NONE -l schemas.lua REPO HOMELAB_LSP')
  h.failed = 1
  h.finish(2)
end
repo = vim.fn.fnamemodify(repo, ':p'):gsub('/$', '')
server = vim.fn.exepath(server)

local nvim_dir = vim.fn.fnamemodify(vim.fn.fnamemodify(arg[0], ':p:h'), ':h')
vim.opt.runtimepath:prepend(nvim_dir)
vim.cmd('filetype plugin on')
vim.cmd('runtime plugin/homelab_lsp.lua')
vim.lsp.config(CLIENT_NAME, { cmd = { server } })
vim.lsp.enable(CLIENT_NAME)

vim.cmd('edit ' .. vim.fn.fnameescape(repo .. '/' .. TEMPLATE))
local buf = vim.api.nvim_get_current_buf()
local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)

local function line_of(pattern)
  for i, l in ipairs(lines) do
    if l:find(pattern) then
      return i - 1, l
    end
  end
  error('no line matching ' .. pattern .. ' in ' .. TEMPLATE, 0)
end

local client
h.check('the server attaches to the template', function()
  local ok = vim.wait(20000, function()
    client = vim.lsp.get_clients({ bufnr = buf, name = CLIENT_NAME })[1]
    return client ~= nil and client.initialized
  end, 50)
  if not ok then
    error('no ' .. CLIENT_NAME .. ' client attached within 20 s (filetype: ' .. vim.bo[buf].filetype .. ')', 0)
  end
  return 'filetype ' .. vim.bo[buf].filetype
end)
if not client then
  h.finish(1)
end

h.check('a schema violation in the template, on its template line', function()
  local prune_line = line_of('^%s*prune:')
  local found
  local ok = vim.wait(WAIT_MS, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.code == 'schema-violation' then
        found = d
        return true
      end
    end
    return false
  end, 100)
  if not ok then
    local seen = {}
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      seen[#seen + 1] = tostring(d.code) .. '@' .. d.lnum .. ': ' .. d.message
    end
    error('no schema-violation within ' .. WAIT_MS .. ' ms; diagnostics: ' .. vim.inspect(seen), 0)
  end
  if found.lnum ~= prune_line then
    error(string.format('on line %d, expected the `prune` line %d: %s', found.lnum, prune_line, found.message), 0)
  end
  if found.severity ~= vim.diagnostic.severity.ERROR then
    error('severity ' .. tostring(found.severity) .. ', expected an error', 0)
  end
  if not (found.message:find('is not of type "boolean"', 1, true) and found.message:find('Prune enables garbage collection', 1, true)) then
    error('the message names neither the expected type nor the description: ' .. found.message, 0)
  end
  return found.message
end)

h.check('hover shows the schema description of the key', function()
  local line, text = line_of('^%s*interval:')
  local col = text:find('interval', 1, true) + 1
  local results = vim.lsp.buf_request_sync(buf, 'textDocument/hover', {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = line, character = col },
  }, 10000)
  local value = ''
  for _, r in pairs(results or {}) do
    local contents = r.result and r.result.contents
    if type(contents) == 'table' then
      value = value .. (contents.value or '')
    elseif type(contents) == 'string' then
      value = value .. contents
    end
  end
  if not value:find('The interval at which to reconcile the Kustomization', 1, true) then
    error('hover without the schema description: ' .. vim.inspect(value), 0)
  end
  return (value:gsub('\n.*', ''))
end)

h.finish(h.failed == 0 and 0 or 1)
