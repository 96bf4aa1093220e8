-- Real-client test: drives homelab-lsp through Neovim's own LSP client.
--
--   nvim --headless -u NONE -i NONE -l editors/nvim/test/run.lua REPO HOMELAB_LSP [TEMPLATE]
--
-- REPO is a writable copy of a corpus (run.sh makes one): a repository with
-- makejinja.toml, its templates and the generated files. HOMELAB_LSP is the
-- server binary. TEMPLATE (optional) is the template to test, relative to
-- REPO. By default the test picks a template with a generated file on disk
-- that allows the strongest checks: one that uses a top-level data value as
-- `#{ key }#` (the hover must show that value), whose rendered line is found
-- in the output, and with lines whose numbers differ between template and
-- output (go-to-definition must land on the exact template line).
--
-- Every check prints PASS or FAIL with the reason; the last line is
-- "N passed, N failed". Exit status: 0 when all passed, 1 when a check
-- failed, 2 when the test could not run at all (bad arguments, no template).
--
-- Timeouts (milliseconds) can be raised through the environment:
--   HOMELAB_TEST_ATTACH_MS (20000), HOMELAB_TEST_INDEX_MS (120000),
--   HOMELAB_TEST_REQUEST_MS (10000), HOMELAB_TEST_DIAGNOSTIC_MS (20000).

local uv = vim.uv or vim.loop

local h = dofile(vim.fs.joinpath(vim.fs.dirname(vim.fn.fnamemodify(arg[0], ':p')), 'harness.lua'))
local out, check, finish = h.out, h.check, h.finish

local function env_ms(name, default)
  return tonumber(vim.env[name] or '') or default
end

local ATTACH_MS = env_ms('HOMELAB_TEST_ATTACH_MS', 20000)
local INDEX_MS = env_ms('HOMELAB_TEST_INDEX_MS', 120000)
local REQUEST_MS = env_ms('HOMELAB_TEST_REQUEST_MS', 10000)
local DIAGNOSTIC_MS = env_ms('HOMELAB_TEST_DIAGNOSTIC_MS', 20000)
local CLIENT_NAME = 'homelab_lsp'

h.client_name = CLIENT_NAME

local function usage_error(msg)
  out('ERROR: ' .. msg)
  out('usage: nvim --headless -u NONE -i NONE -l run.lua REPO HOMELAB_LSP [TEMPLATE]')
  h.failed = h.failed + 1
  finish(2)
end

local function fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

local function realpath(p)
  return uv.fs_realpath(p) or vim.fs.normalize(p)
end

local function read_file(path)
  local f = io.open(path, 'rb')
  if not f then
    return nil
  end
  local text = f:read('*a')
  f:close()
  return text
end

local function lsp_log_tail(n)
  local path = vim.lsp.get_log_path and vim.lsp.get_log_path() or vim.lsp.log.get_filename()
  local text = read_file(path)
  if not text or text == '' then
    return '(the LSP log at ' .. path .. ' is empty)'
  end
  local lines = vim.split(text, '\n', { trimempty = true })
  local first = math.max(1, #lines - n + 1)
  return 'last lines of ' .. path .. ':\n    ' .. table.concat(vim.list_slice(lines, first), '\n    ')
end

-- ---------------------------------------------------------------------------
-- Arguments and setup

local script_dir = vim.fn.fnamemodify(arg[0], ':p:h')
local nvim_dir = vim.fn.fnamemodify(script_dir, ':h') -- editors/nvim

local repo = arg[1]
local server = arg[2]
local template_arg = arg[3]
if not repo or not server then
  usage_error('missing arguments')
end
repo = vim.fn.fnamemodify(repo, ':p'):gsub('/$', '')
if vim.fn.isdirectory(repo) == 0 then
  usage_error('REPO is not a directory: ' .. repo)
end
if vim.fn.filereadable(repo .. '/makejinja.toml') == 0 then
  usage_error('REPO has no makejinja.toml: ' .. repo)
end
if vim.fn.executable(server) == 0 then
  usage_error('HOMELAB_LSP is not an executable: ' .. server)
end
server = vim.fn.exepath(server)

vim.opt.runtimepath:prepend(nvim_dir)
vim.cmd('filetype plugin on')
vim.cmd('runtime plugin/homelab_lsp.lua')

local homelab = require('homelab_lsp')

-- Follow $/progress from the very start: indexing may finish before the
-- first buffer is attached.
local progress = { begun = {}, ended = {}, titles = {} }
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(ev)
    local params = ev.data and ev.data.params or {}
    local value = params.value or {}
    local token = tostring(params.token)
    local title = value.title or ''
    if value.kind == 'begin' then
      progress.begun[token] = title
      progress.titles[#progress.titles + 1] = title
    elseif value.kind == 'end' then
      progress.ended[token] = title
    end
  end,
})

local function indexing_state()
  local began, ended = false, false
  for token, title in pairs(progress.begun) do
    if title:lower():find('index', 1, true) then
      began = true
      if progress.ended[token] then
        ended = true
      end
    end
  end
  return began, ended
end

vim.lsp.config(CLIENT_NAME, { cmd = { server } })
vim.lsp.enable(CLIENT_NAME)

out('homelab-lsp Neovim client test')
out('  nvim:     ' .. tostring(vim.version()))
out('  server:   ' .. server)
out('  repo:     ' .. repo)

-- ---------------------------------------------------------------------------
-- Pick the template

local toml = read_file(repo .. '/makejinja.toml') or ''
local delims = homelab.parse_delimiters(toml)

local function toml_string_list(key)
  local list = toml:match('\n%s*' .. key .. '%s*=%s*(%b[])') or toml:match('^%s*' .. key .. '%s*=%s*(%b[])')
  local items = {}
  if list then
    for s in list:gmatch('"(.-)"') do
      items[#items + 1] = s
    end
    for s in list:gmatch("'(.-)'") do
      items[#items + 1] = s
    end
  end
  return items
end

local inputs = toml_string_list('inputs')
if #inputs == 0 then
  inputs = { './bootstrap/templates', './templates' }
end
local output_dir = toml:match('\n%s*output%s*=%s*"(.-)"') or './'
local suffix = toml:match('\n%s*jinja_suffix%s*=%s*"(.-)"') or '.j2'

local function join(a, b)
  b = b:gsub('^%./', '')
  if b == '' or b == '.' then
    return a
  end
  return (a:gsub('/$', '')) .. '/' .. b
end

--- The generated file of a template (repo-relative in, absolute out).
local function output_of(template_rel)
  for _, input in ipairs(inputs) do
    local prefix = input:gsub('^%./', ''):gsub('/$', '') .. '/'
    if template_rel:sub(1, #prefix) == prefix then
      local rel = template_rel:sub(#prefix + 1)
      if rel:sub(-#suffix) == suffix then
        rel = rel:sub(1, -#suffix - 1)
      end
      return join(join(repo, output_dir), rel)
    end
  end
  return nil
end

-- Top-level scalar values of the data files (`key: value` at column 0), as
-- makejinja would see them before any plugin: enough to know what a hover on
-- `#{ key }#` must show. Names that look like secrets are left out (hovers
-- may mask them).
local data_values = {}
for _, f in ipairs(toml_string_list('data')) do
  local text = read_file(join(repo, f)) or ''
  for line in (text .. '\n'):gmatch('(.-)\r?\n') do
    local key, value = line:match('^([%a_][%w_]*):%s+(.-)%s*$')
    if key and value ~= '' and not value:find('^[|>&*%[{!#]') then
      local quoted = value:match('^"(.*)"$') or value:match("^'(.*)'$")
      value = quoted or value:gsub('%s+#.*$', '')
      local lower = key:lower()
      local secretish = lower:find('token') or lower:find('secret') or lower:find('key') or lower:find('pass')
        or lower:find('cert') or lower:find('private')
      if value ~= '' and not secretish and data_values[key] == nil then
        data_values[key] = value
      end
    end
  end
end

local VS, VE = vim.pesc(delims.variable_start), vim.pesc(delims.variable_end)

--- Every `#{ name ...` in the lines: { line, col (of name), ident, simple,
--- first, last } (0-based line and col; first/last: 1-based byte span of the
--- whole expression when it is exactly `#{ name }#`, which is then `simple`).
local function find_expressions(lines)
  local list = {}
  for i, line in ipairs(lines) do
    local init = 1
    while true do
      local s, e, ident = line:find(VS .. '[-+]?%s*([%a_][%w_]*)', init)
      if not s then
        break
      end
      local _, last = line:find('^%s*[-+]?' .. VE, e + 1)
      list[#list + 1] = { line = i - 1, col = e - #ident, ident = ident, simple = last ~= nil, first = s, last = last }
      init = e + 1
    end
  end
  return list
end

--- The first expression (any), and the first whose name has a data value.
local function find_expression(lines)
  local all = find_expressions(lines)
  local any, valued = all[1], nil
  for _, x in ipairs(all) do
    if data_values[x.ident] then
      valued = x
      break
    end
  end
  return valued or any, valued
end

--- A line that is the same in the template and the output and unique in
--- both; preferably one that moved (different line numbers), so that an
--- answer of "the same line number" cannot pass by luck. { out, tpl, text }.
local function pick_static_line(tlines, olines)
  local count_t, count_o = {}, {}
  for _, l in ipairs(tlines) do
    count_t[l] = (count_t[l] or 0) + 1
  end
  for _, l in ipairs(olines) do
    count_o[l] = (count_o[l] or 0) + 1
  end
  local first
  for oi, l in ipairs(olines) do
    if count_o[l] == 1 and count_t[l] == 1 and l:match('%w') and not l:find(delims.variable_start, 1, true) then
      for ti, tl in ipairs(tlines) do
        if tl == l then
          local pick = { out = oi - 1, tpl = ti - 1, text = l }
          if oi ~= ti then
            return pick
          end
          first = first or pick
        end
      end
    end
  end
  return first
end

--- An output line made by a `#{ key }#` expression: the template line with
--- the expression replaced by the data value, unique in the output and its
--- template line unique in the template. { out, tpl, text } or nil.
local function pick_expression_line(tlines, olines)
  local count_t, count_o, index_o, first = {}, {}, {}, nil
  for _, l in ipairs(tlines) do
    count_t[l] = (count_t[l] or 0) + 1
  end
  for oi, l in ipairs(olines) do
    count_o[l] = (count_o[l] or 0) + 1
    index_o[l] = oi
  end
  for _, x in ipairs(find_expressions(tlines)) do
    local value = data_values[x.ident]
    local tl = tlines[x.line + 1]
    if x.simple and value and count_t[tl] == 1 then
      local expected = tl:sub(1, x.first - 1) .. value .. tl:sub(x.last + 1)
      if count_o[expected] == 1 and vim.trim(expected) ~= '' then
        local pick = { out = index_o[expected] - 1, tpl = x.line, text = expected }
        if pick.out ~= pick.tpl then
          return pick
        end
        first = first or pick
      end
    end
  end
  return first
end

local function pick_template()
  if template_arg then
    return (template_arg:gsub('^%./', ''))
  end
  local candidates = {}
  for _, input in ipairs(inputs) do
    local dir = join(repo, input)
    if vim.fn.isdirectory(dir) == 1 then
      for name, kind in vim.fs.dir(dir, { depth = 20 }) do
        if kind == 'file' and name:match('%.ya?ml' .. vim.pesc(suffix) .. '$') and not name:find('.partial.', 1, true) then
          local rel = (join(input, name)):gsub('^%./', '')
          candidates[#candidates + 1] = rel
        end
      end
    end
  end
  -- Prefer templates that render whatever the data says: not under a
  -- directory with a .mjfilter.py path filter, not wrapped whole in an `if`,
  -- not a secret (whose values hovers may mask and whose output may be encrypted).
  -- Then prefer kubernetes/apps/**/helmrelease.yaml.j2, the usual case.
  local function filtered(rel)
    local dir = vim.fs.dirname(join(repo, rel))
    while dir and #dir > #repo do
      if vim.fn.filereadable(dir .. '/.mjfilter.py') == 1 then
        return true
      end
      dir = vim.fs.dirname(dir)
    end
    return false
  end
  local function wrapped(rel)
    local text = read_file(join(repo, rel)) or ''
    local first = text:match('^%s*(.-)\n') or text
    return first:find('^' .. vim.pesc(delims.block_start) .. '[-+]?%s*if%s') ~= nil
  end
  local rank = {}
  for _, rel in ipairs(candidates) do
    rank[rel] = (filtered(rel) and 8 or 0)
      + (wrapped(rel) and 4 or 0)
      + ((rel:find('sops', 1, true) or rel:find('secret', 1, true)) and 4 or 0)
      + (rel:find('kubernetes/apps/', 1, true) and 0 or 2)
      + (rel:find('helmrelease', 1, true) and 0 or 1)
  end
  table.sort(candidates, function(a, b)
    if rank[a] ~= rank[b] then
      return rank[a] < rank[b]
    end
    return a < b
  end)
  -- Score what each template allows checking: a data value used directly
  -- (`#{ key }#`, for the hover), a generated line rendered from it, and
  -- lines that moved between template and output (for go-to-definition).
  -- The best score wins; ties go by the ranking above.
  local best, best_score = nil, -1
  for _, rel in ipairs(candidates) do
    local text = read_file(join(repo, rel))
    local output = output_of(rel)
    if text and output and vim.fn.filereadable(output) == 1 then
      local tl = vim.split(text, '\n', { plain = true })
      local any, valued = find_expression(tl)
      if any then
        local ol = vim.split(read_file(output) or '', '\n', { plain = true })
        local rendered = valued and pick_expression_line(tl, ol)
        local static = pick_static_line(tl, ol)
        local score = (valued and 8 or 0)
          + (rendered and 4 or 0)
          + (static and 2 or 0)
          + ((rendered and rendered.out ~= rendered.tpl) and 1 or 0)
          + ((static and static.out ~= static.tpl) and 1 or 0)
        if score > best_score then
          best, best_score = rel, score
        end
      end
    end
  end
  return best
end

local template_rel = pick_template()
if not template_rel then
  usage_error(
    'no template with a '
      .. delims.variable_start
      .. ' name '
      .. delims.variable_end
      .. ' expression and a generated file on disk under '
      .. repo
      .. ' (inputs: '
      .. table.concat(inputs, ', ')
      .. '); pass one as the third argument'
  )
end
local template_path = join(repo, template_rel)
if vim.fn.filereadable(template_path) == 0 then
  usage_error('template not found: ' .. template_path)
end
local output_path = output_of(template_rel)
out('  template: ' .. template_rel)
out('  output:   ' .. (output_path and output_path:sub(#repo + 2) or '(none: the template is not under an input)'))
out('')

-- ---------------------------------------------------------------------------
-- Helpers over the client

local client ---@type vim.lsp.Client?

local function need_client()
  if not client then
    fail('no homelab_lsp client (it did not attach, see above)')
  end
end

--- buf_request_sync for our client only; returns the result or raises.
local function request(bufnr, method, params)
  need_client()
  local responses, err = vim.lsp.buf_request_sync(bufnr, method, params, REQUEST_MS)
  if not responses then
    fail('%s: no answer within %d ms (%s)', method, REQUEST_MS, tostring(err))
  end
  local r = responses[client.id]
  if not r then
    local names = {}
    for id in pairs(responses) do
      names[#names + 1] = tostring(id)
    end
    fail('%s: no answer from homelab_lsp (answers from clients: %s)', method, table.concat(names, ', '))
  end
  if r.err or r.error then
    local e = r.err or r.error
    fail('%s: server error %s: %s', method, tostring(e.code), tostring(e.message))
  end
  return r.result
end

local function position_params(bufnr, line, col)
  local win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(win, bufnr)
  vim.api.nvim_win_set_cursor(win, { line + 1, col })
  return vim.lsp.util.make_position_params(win, client.offset_encoding)
end

local function is_nil(v)
  return v == nil or v == vim.NIL
end

local function wait_attached(bufnr)
  return vim.wait(ATTACH_MS, function()
    local cs = vim.lsp.get_clients({ bufnr = bufnr, name = CLIENT_NAME })
    return cs[1] ~= nil and cs[1].initialized == true
  end, 50)
end

local function same_file(uri, path)
  if type(uri) ~= 'string' then
    return false
  end
  return realpath(vim.uri_to_fname(uri)) == realpath(path)
end

--- Location | Location[] | LocationLink[] -> { {uri, line} }
local function locations(result)
  local list = {}
  if is_nil(result) then
    return list
  end
  if result.uri or result.targetUri then
    result = { result }
  end
  for _, loc in ipairs(result) do
    local uri = loc.targetUri or loc.uri
    local range = loc.targetSelectionRange or loc.targetRange or loc.range
    list[#list + 1] = { uri = uri, line = range and range.start and range.start.line }
  end
  return list
end

local function describe_locations(list)
  local parts = {}
  for _, l in ipairs(list) do
    parts[#parts + 1] = (l.uri and vim.uri_to_fname(l.uri):gsub('^' .. vim.pesc(repo) .. '/', '') or '?')
      .. ':'
      .. tostring(l.line and (l.line + 1) or '?')
  end
  return #parts > 0 and table.concat(parts, ', ') or '(none)'
end

-- ---------------------------------------------------------------------------
-- The checks

vim.cmd('edit ' .. vim.fn.fnameescape(template_path))
local tbuf = vim.api.nvim_get_current_buf()
local tlines = vim.api.nvim_buf_get_lines(tbuf, 0, -1, false)
local expr = find_expression(tlines)
if not expr then
  usage_error('no ' .. delims.variable_start .. ' name ' .. delims.variable_end .. ' expression in ' .. template_rel)
end
local expr_line, expr_col, ident = expr.line, expr.col, expr.ident
local ident_value = data_values[ident]

check('filetype of a template is makejinja', function()
  if vim.bo[tbuf].filetype ~= 'makejinja' then
    fail('%s has filetype %q (is editors/nvim on runtimepath and plugin/homelab_lsp.lua loaded?)', template_rel, vim.bo[tbuf].filetype)
  end
end)

local attached = check('client attaches to the template', function()
  if not wait_attached(tbuf) then
    local any = vim.lsp.get_clients({ name = CLIENT_NAME })
    local state = #any == 0 and 'no homelab_lsp client is running (the server may have exited at start)'
      or 'a client exists but never finished initialize'
    fail('no initialized homelab_lsp client on the template after %d ms: %s\n  %s', ATTACH_MS, state, lsp_log_tail(25))
  end
  client = vim.lsp.get_clients({ bufnr = tbuf, name = CLIENT_NAME })[1]
  if realpath(client.root_dir or '') ~= realpath(repo) then
    fail('root_dir is %s, expected %s (the makejinja.toml directory)', tostring(client.root_dir), repo)
  end
  return 'root ' .. client.root_dir .. ', position encoding ' .. client.offset_encoding
end)

check('indexing reports $/progress "Indexing" begin and end', function()
  need_client()
  local ok = vim.wait(INDEX_MS, function()
    local _, ended = indexing_state()
    return ended
  end, 100)
  if not ok then
    local began = indexing_state()
    fail(
      '%s within %d ms (progress titles seen: %s)',
      began and 'indexing began but did not end' or 'no progress with a title containing "Index"',
      INDEX_MS,
      #progress.titles > 0 and table.concat(progress.titles, ', ') or 'none'
    )
  end
end)

check('completion inside ' .. delims.variable_start .. ' ' .. delims.variable_end .. ' returns items', function()
  need_client()
  if not client:supports_method('textDocument/completion') then
    fail('the server does not advertise completionProvider')
  end
  -- At the start of the variable name, right after the delimiter and space.
  local params = position_params(tbuf, expr_line, expr_col)
  params.context = { triggerKind = 1 }
  local result = request(tbuf, 'textDocument/completion', params)
  local items = is_nil(result) and {} or (result.items or result)
  if #items == 0 then
    fail('no completion items at %s:%d:%d (line: %s)', template_rel, expr_line + 1, expr_col + 1, vim.trim(tlines[expr_line + 1]))
  end
  local found = false
  for _, item in ipairs(items) do
    local edit = item.textEdit and item.textEdit.newText
    if item.label == ident or item.filterText == ident or item.insertText == ident or edit == ident then
      found = true
      break
    end
  end
  if not found and ident_value then
    local labels = {}
    for i = 1, math.min(#items, 15) do
      labels[#labels + 1] = items[i].label
    end
    fail('%d items, but not %s, a key of the data files (first items: %s)', #items, ident, table.concat(labels, ', '))
  end
  return string.format('%d items%s', #items, found and (', including ' .. ident) or (' (note: ' .. ident .. ' is not among them)'))
end)

check('hover on a variable returns its value', function()
  need_client()
  if not client:supports_method('textDocument/hover') then
    fail('the server does not advertise hoverProvider')
  end
  local params = position_params(tbuf, expr_line, expr_col + math.min(1, #ident - 1))
  local result = request(tbuf, 'textDocument/hover', params)
  if is_nil(result) or is_nil(result.contents) then
    fail('no hover for %s at %s:%d:%d', ident, template_rel, expr_line + 1, expr_col + 2)
  end
  local c = result.contents
  local text
  if type(c) == 'string' then
    text = c
  elseif c.value then
    text = c.value
  else
    local parts = {}
    for _, p in ipairs(c) do
      parts[#parts + 1] = type(p) == 'string' and p or (p.value or '')
    end
    text = table.concat(parts, '\n')
  end
  if vim.trim(text) == '' then
    fail('hover for %s is empty', ident)
  end
  local flat = vim.trim(text):gsub('%s*\n%s*', ' | ')
  if not ident_value then
    fail('%s has no top-level value in the data files to compare with (the template has no %s key %s expression); hover said: %s',
      ident, delims.variable_start, delims.variable_end, flat:sub(1, 200))
  end
  if not text:find(ident_value, 1, true) then
    fail('hover for %s at %s:%d:%d does not show its value %q: %s', ident, template_rel, expr_line + 1, expr_col + 2, ident_value, flat:sub(1, 300))
  end
  return string.format('%s = %s', ident, ident_value)
end)

-- Flux post-build variables: a template of a HelmRelease that uses `${SECRET_DOMAIN}`
-- (the cluster-template family's apps do), with the secret's key in scope through the
-- app's ks.yaml. Completion right after `${` offers it; hover on it names the
-- Kustomization that substitutes it and never shows the secret's value.
local function find_flux_use()
  for _, input in ipairs(inputs) do
    local dir = join(repo, input)
    if vim.fn.isdirectory(dir) == 1 then
      for name, kind in vim.fs.dir(dir, { depth = 20 }) do
        if kind == 'file' and name:match('helmrelease%.yaml' .. vim.pesc(suffix) .. '$') then
          local path = join(dir, name)
          local text = read_file(path) or ''
          if text:find('kind: HelmRelease', 1, true) then
            local lines = vim.split(text, '\n', { plain = true })
            for i, l in ipairs(lines) do
              local col = l:find('${SECRET_DOMAIN}', 1, true)
              if col then
                return path, i - 1, col - 1
              end
            end
          end
        end
      end
    end
  end
end

check('Flux: completion after ${ and hover on ${SECRET_DOMAIN} in a HelmRelease', function()
  need_client()
  local path, line, col = find_flux_use()
  if not path then
    return 'no HelmRelease template using ${SECRET_DOMAIN} in this corpus (nothing to check)'
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  if not wait_attached(buf) then
    fail('no client on %s', path)
  end
  local items
  local ok = vim.wait(INDEX_MS, function()
    local params = position_params(buf, line, col + 2)
    params.context = { triggerKind = 1 }
    local result = request(buf, 'textDocument/completion', params)
    items = is_nil(result) and {} or (result.items or result)
    for _, item in ipairs(items) do
      if item.label == 'SECRET_DOMAIN' then
        return true
      end
    end
    return false
  end, 200)
  if not ok then
    local labels = {}
    for i = 1, math.min(#items, 15) do
      labels[#labels + 1] = items[i].label
    end
    fail('completion after ${ at %s:%d:%d does not offer SECRET_DOMAIN (items: %s)', path, line + 1, col + 3, table.concat(labels, ', '))
  end
  local result = request(buf, 'textDocument/hover', position_params(buf, line, col + 4))
  local text = ''
  if not is_nil(result) and result.contents then
    text = type(result.contents) == 'table' and (result.contents.value or vim.inspect(result.contents)) or tostring(result.contents)
  end
  if not text:find('Flux post-build variable', 1, true) or not text:find('Flux Kustomization', 1, true) then
    fail('hover on ${SECRET_DOMAIN} at %s:%d does not say which Kustomization substitutes it: %s', path, line + 1, text:sub(1, 300))
  end
  if text:find('example.com', 1, true) then
    fail('hover on ${SECRET_DOMAIN} shows the secret value: %s', text:sub(1, 300))
  end
  vim.cmd('buffer ' .. tbuf)
  return string.format('%d items at %s:%d; hover: %s', #items, vim.fn.fnamemodify(path, ':t'), line + 1, (text:gsub('\n', ' ')):sub(1, 120))
end)

check('inlay hints (vim.lsp.inlay_hint) show what an expression prints', function()
  need_client()
  if not client:supports_method('textDocument/inlayHint') then
    fail('the server does not advertise inlayHintProvider')
  end
  vim.lsp.inlay_hint.enable(true, { bufnr = tbuf })
  local hints = {}
  vim.wait(REQUEST_MS, function()
    hints = vim.lsp.inlay_hint.get({ bufnr = tbuf })
    return #hints > 0
  end, 20)
  vim.lsp.inlay_hint.enable(false, { bufnr = tbuf })
  if #hints == 0 then
    fail('no inlay hints in %s', template_rel)
  end
  local function label_of(h)
    local l = h.inlay_hint.label
    if type(l) == 'table' then
      local parts = {}
      for _, p in ipairs(l) do
        parts[#parts + 1] = p.value
      end
      l = table.concat(parts)
    end
    return l
  end
  if expr.simple and ident_value then
    for _, h in ipairs(hints) do
      local pos = h.inlay_hint.position
      if pos.line == expr_line and label_of(h):find(ident_value, 1, true) then
        return string.format('%d hints; line %d: %s', #hints, expr_line + 1, label_of(h))
      end
    end
    fail('no hint on line %d shows %s = %q (first hint: %s)', expr_line + 1, ident, ident_value, label_of(hints[1]))
  end
  return string.format('%d hints; first: %s', #hints, label_of(hints[1]))
end)

check('workspace/symbol finds the data key', function()
  need_client()
  if not ident_value then
    fail('%s has no top-level value in the data files to look up', ident)
  end
  local result = request(tbuf, 'workspace/symbol', { query = ident })
  if is_nil(result) or #result == 0 then
    fail('no symbols for %q', ident)
  end
  for _, sym in ipairs(result) do
    if sym.name == ident then
      local file = vim.uri_to_fname(sym.location.uri)
      return string.format('%s in %s line %d (%d symbols)', ident, vim.fn.fnamemodify(file, ':t'), sym.location.range.start.line + 1, #result)
    end
  end
  fail('%d symbols for %q, none named so (first: %s)', #result, ident, result[1].name)
end)

check('documentHighlight marks the uses of the key', function()
  need_client()
  local params = position_params(tbuf, expr_line, expr_col + math.min(1, #ident - 1))
  local result = request(tbuf, 'textDocument/documentHighlight', params)
  if is_nil(result) or #result == 0 then
    fail('no highlights for %s at %s:%d:%d', ident, template_rel, expr_line + 1, expr_col + 2)
  end
  for _, h in ipairs(result) do
    if h.range.start.line == expr_line then
      return string.format('%d highlight(s) of %s', #result, ident)
    end
  end
  fail('%d highlights, none on line %d', #result, expr_line + 1)
end)

check('homelab/renderedPreview returns text and a line map', function()
  local result = request(tbuf, homelab.methods.rendered_preview, { uri = vim.uri_from_bufnr(tbuf) })
  if is_nil(result) or type(result.text) ~= 'string' then
    fail('expected { text, lineMap }, got %s', vim.inspect(result))
  end
  if type(result.lineMap) ~= 'table' then
    fail('lineMap missing: %s', vim.inspect(result.lineMap))
  end
  local n = #vim.split(result.text, '\n', { plain = true })
  local with_final = result.text:sub(-1) == '\n' and n - 1 or n
  if #result.lineMap ~= with_final and #result.lineMap ~= n then
    fail('lineMap has %d entries for %d output lines', #result.lineMap, with_final)
  end
  return string.format('%d lines', with_final)
end)

check('homelab/generatedFile names the output file', function()
  if not output_path then
    fail('%s is not under any makejinja input, so it has no output', template_rel)
  end
  local result = request(tbuf, homelab.methods.generated_file, { uri = vim.uri_from_bufnr(tbuf) })
  if is_nil(result) or type(result.uri) ~= 'string' then
    fail('expected { uri }, got %s', vim.inspect(result))
  end
  if not same_file(result.uri, output_path) then
    fail('got %s, expected %s', vim.uri_to_fname(result.uri), output_path)
  end
end)

check(':HomelabPreview opens a yaml split with the rendered text', function()
  need_client()
  local wins_before = #vim.api.nvim_tabpage_list_wins(0)
  vim.api.nvim_set_current_buf(tbuf)
  local pbuf = homelab.preview(tbuf)
  if not pbuf then
    fail(':HomelabPreview did not create a preview buffer')
  end
  local ok = vim.wait(REQUEST_MS, function()
    return vim.b[pbuf].homelab_line_map ~= nil
  end, 50)
  if not ok then
    fail('the preview buffer was not filled within %d ms', REQUEST_MS)
  end
  if vim.bo[pbuf].filetype ~= 'yaml' then
    fail('preview filetype is %q, expected yaml', vim.bo[pbuf].filetype)
  end
  if #vim.api.nvim_tabpage_list_wins(0) ~= wins_before + 1 then
    fail('expected one new window for the preview')
  end
  if #vim.lsp.get_clients({ bufnr = pbuf }) > 0 then
    fail('an LSP client attached to the preview scratch buffer')
  end
  vim.cmd('only')
end)

local obuf, static, rendered
if output_path and vim.fn.filereadable(output_path) == 1 then
  vim.cmd('edit ' .. vim.fn.fnameescape(output_path))
  obuf = vim.api.nvim_get_current_buf()
  local olines = vim.api.nvim_buf_get_lines(obuf, 0, -1, false)
  static = pick_static_line(tlines, olines)
  rendered = pick_expression_line(tlines, olines)
end

local function output_rel()
  return output_path and output_path:sub(#repo + 2) or '?'
end

local obuf_ready = false
local function need_output()
  need_client()
  if not obuf then
    fail('generated file %s does not exist (copy the corpus with its .rendered output, or run makejinja)', tostring(output_path))
  end
  if vim.bo[obuf].filetype ~= 'yaml' then
    fail('generated file has filetype %q, expected yaml', vim.bo[obuf].filetype)
  end
  if not obuf_ready and not wait_attached(obuf) then
    fail('homelab_lsp did not attach to the generated file %s', output_path)
  end
  obuf_ready = true
end

--- textDocument/definition at the first non-blank of a generated line must
--- give the template, at the template line `pick.tpl`.
local function definition_lands(pick, what)
  need_output()
  if not pick then
    fail('found no %s in %s to ask about', what, output_rel())
  end
  local col = #pick.text:match('^%s*')
  local params = position_params(obuf, pick.out, col)
  local locs = locations(request(obuf, 'textDocument/definition', params))
  for _, l in ipairs(locs) do
    if same_file(l.uri, template_path) and l.line == pick.tpl then
      return string.format('%s:%d -> %s:%d', output_rel(), pick.out + 1, template_rel, pick.tpl + 1)
    end
  end
  fail(
    'definition at %s:%d:%d (%q) gave %s, expected %s:%d (%q)',
    output_rel(),
    pick.out + 1,
    col + 1,
    vim.trim(pick.text),
    describe_locations(locs),
    template_rel,
    pick.tpl + 1,
    vim.trim(tlines[pick.tpl + 1])
  )
end

--- homelab/templateSource for a generated line must give the same.
local function template_source_maps(pick, what)
  need_output()
  if not pick then
    fail('found no %s in %s to ask about', what, output_rel())
  end
  local result = request(obuf, homelab.methods.template_source, { uri = vim.uri_from_bufnr(obuf), line = pick.out })
  if is_nil(result) or type(result.uri) ~= 'string' then
    fail('line %d: expected { uri, line }, got %s', pick.out, vim.inspect(result))
  end
  if not same_file(result.uri, template_path) or result.line ~= pick.tpl then
    fail(
      '{ line = %d } (%s:%d, %q) gave %s:%s, expected %s:%d',
      pick.out,
      output_rel(),
      pick.out + 1,
      vim.trim(pick.text),
      vim.uri_to_fname(result.uri):gsub('^' .. vim.pesc(repo) .. '/', ''),
      tostring(type(result.line) == 'number' and result.line + 1 or result.line),
      template_rel,
      pick.tpl + 1
    )
  end
  return string.format('line %d -> %d', pick.out + 1, pick.tpl + 1)
end

local STATIC = 'line that is identical in the template and the output and unique in both'
local RENDERED = 'line rendered from a ' .. delims.variable_start .. ' key ' .. delims.variable_end .. ' expression with a data value'

check('go-to-definition from a generated line lands on its template line', function()
  return definition_lands(static, STATIC)
end)

check('go-to-definition from a rendered expression line lands on the expression', function()
  return definition_lands(rendered, RENDERED)
end)

check('homelab/templateSource maps generated lines to their template lines', function()
  return template_source_maps(static, STATIC) .. ', ' .. template_source_maps(rendered, RENDERED)
end)

check('a broken template line gets a diagnostic', function()
  need_client()
  vim.api.nvim_set_current_buf(tbuf)
  local broken = 'homelab_lsp_test_broken: ' .. delims.variable_start .. ' broken_expression( ' .. delims.variable_end
  local before = #vim.diagnostic.get(tbuf)
  vim.api.nvim_buf_set_lines(tbuf, -1, -1, false, { broken })
  local lnum = vim.api.nvim_buf_line_count(tbuf) - 1
  local hits
  local ok = vim.wait(DIAGNOSTIC_MS, function()
    hits = {}
    for _, d in ipairs(vim.diagnostic.get(tbuf)) do
      if d.lnum >= lnum then
        hits[#hits + 1] = d
      end
    end
    return #hits > 0
  end, 100)
  if not ok then
    local all = {}
    for _, d in ipairs(vim.diagnostic.get(tbuf)) do
      all[#all + 1] = string.format('%d: %s', d.lnum + 1, d.message)
    end
    fail(
      'no diagnostic on line %d (%q) within %d ms; diagnostics before the edit: %d, now: %s',
      lnum + 1,
      broken,
      DIAGNOSTIC_MS,
      before,
      #all > 0 and table.concat(all, '; ') or 'none'
    )
  end
  local notes = {}
  for _, d in ipairs(hits) do
    notes[#notes + 1] = string.format('[%s] %s', tostring(d.code or d.source or '?'), (d.message:gsub('\n.*', '')))
  end
  return string.format('line %d: %s', lnum + 1, table.concat(notes, '; '))
end)

if not attached then
  out('')
  out('The client never attached; every later check failed for that reason.')
end
if h.failed > 0 then
  out('')
  out('Failed: ' .. table.concat(h.failures, '; '))
end
finish(h.failed > 0 and 1 or 0)
