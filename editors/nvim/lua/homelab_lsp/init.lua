-- Commands and helpers for the homelab-lsp client in Neovim.
--
-- Works with the client started by vim.lsp.enable('homelab_lsp') (0.11+) and
-- with the one set up through nvim-lspconfig (lua/homelab_lsp/lspconfig.lua):
-- both are named `homelab_lsp`.

local M = {}

M.client_name = 'homelab_lsp'

M.methods = {
  rendered_preview = 'homelab/renderedPreview',
  generated_file = 'homelab/generatedFile',
  template_source = 'homelab/templateSource',
}

--- Milliseconds of quiet before an open preview is rendered again.
M.preview_debounce_ms = 300

local PREVIEW_PREFIX = 'homelab-preview://'

local uv = vim.uv or vim.loop

local function notify(msg, level)
  vim.notify('homelab-lsp: ' .. msg, level or vim.log.levels.INFO)
end

local function get_clients(filter)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients(filter)
  end
  return vim.lsp.get_active_clients(filter) -- Neovim < 0.10
end

--- The homelab_lsp client attached to `bufnr`, or nil and a reason.
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local clients = get_clients({ bufnr = bufnr, name = M.client_name })
  if #clients == 0 then
    local any = get_clients({ name = M.client_name })
    if #any == 0 then
      return nil,
        'no homelab_lsp client is running (enable it with vim.lsp.enable("homelab_lsp"), and check :checkhealth vim.lsp)'
    end
    return nil, 'the homelab_lsp client is not attached to this buffer (is its filetype makejinja or yaml?)'
  end
  return clients[1]
end

--- Sends `method` to the homelab_lsp client of `bufnr`; `on_result(result)` runs
--- on success, errors are reported with vim.notify.
function M.request(bufnr, method, params, on_result)
  local client, why = M.client(bufnr)
  if not client then
    notify(why, vim.log.levels.WARN)
    return
  end
  local handler = function(err, result)
    if err then
      notify(method .. ' failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    on_result(result)
  end
  if vim.fn.has('nvim-0.11') == 1 then
    client:request(method, params, handler, bufnr)
  else
    client.request(method, params, handler, bufnr)
  end
end

-- ---------------------------------------------------------------------------
-- makejinja.toml: the template delimiters, for syntax highlighting

local DEFAULT_DELIMITERS = {
  block_start = '{%',
  block_end = '%}',
  variable_start = '{{',
  variable_end = '}}',
  comment_start = '{#',
  comment_end = '#}',
}

local delimiter_cache = {}

--- Directory holding makejinja.toml above `path`, or nil.
function M.find_root(path)
  if vim.fs and vim.fs.find then
    local found = vim.fs.find('makejinja.toml', { path = path, upward = true, type = 'file' })[1]
    return found and vim.fs.dirname(found) or nil
  end
  local f = vim.fn.findfile('makejinja.toml', path .. ';')
  return f ~= '' and vim.fn.fnamemodify(f, ':p:h') or nil
end

--- Root of the homelab repository holding `path`, or nil outside one: the
--- directory of the nearest makejinja.toml, else the nearest directory with
--- .git, .sops.yaml or Taskfile.yaml that also has kubernetes/ or
--- bootstrap/templates/ (a repo whose templates were tidied away, or the older
--- layout). A plain YAML file elsewhere gets no server.
function M.repo_root(path)
  if path == nil or path == '' then
    return nil
  end
  local root = M.find_root(path)
  if root then
    return root
  end
  local dir = vim.fs.dirname(path)
  for candidate in vim.fs.parents(path) do
    dir = candidate
    local marked = false
    for _, marker in ipairs({ '.git', '.sops.yaml', 'Taskfile.yaml' }) do
      if vim.uv.fs_stat(dir .. '/' .. marker) then
        marked = true
      end
    end
    if marked then
      local kube = vim.uv.fs_stat(dir .. '/kubernetes')
      local boot = vim.uv.fs_stat(dir .. '/bootstrap/templates')
      if (kube and kube.type == 'directory') or (boot and boot.type == 'directory') then
        return dir
      end
      return nil
    end
  end
  return nil
end

--- Reads the `[makejinja.delimiter]` table of a makejinja.toml text. Only
--- plain `key = "value"` / `key = 'value'` lines are understood, which is
--- what the format uses for these six keys.
function M.parse_delimiters(text)
  local result = vim.deepcopy(DEFAULT_DELIMITERS)
  local in_table = false
  for line in (text .. '\n'):gmatch('(.-)\r?\n') do
    local stripped = line:gsub('^%s+', ''):gsub('%s+$', '')
    local header = stripped:match('^%[%s*([^%]]-)%s*%]')
    if header then
      in_table = header:gsub('%s', '') == 'makejinja.delimiter'
    elseif in_table then
      local key, value = stripped:match('^([%w_]+)%s*=%s*"(.-)"')
      if not key then
        key, value = stripped:match("^([%w_]+)%s*=%s*'(.-)'")
      end
      if key and result[key] ~= nil and value ~= '' then
        result[key] = value
      end
    else
      -- inline form: delimiter = { variable_start = "#{", ... } under [makejinja]
      local inline = stripped:match('^delimiter%s*=%s*(%b{})')
      if inline then
        for k, v in inline:gmatch('([%w_]+)%s*=%s*"(.-)"') do
          if result[k] ~= nil and v ~= '' then
            result[k] = v
          end
        end
      end
    end
  end
  return result
end

--- Delimiters for the template in `bufnr` (makejinja's defaults when no
--- makejinja.toml is found).
function M.delimiters(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= '' and vim.fn.fnamemodify(name, ':p:h') or vim.fn.getcwd()
  local root = M.find_root(dir)
  if not root then
    return vim.deepcopy(DEFAULT_DELIMITERS)
  end
  local file = root .. '/makejinja.toml'
  local stat = uv.fs_stat(file)
  local mtime = stat and stat.mtime and stat.mtime.sec or 0
  local cached = delimiter_cache[file]
  if cached and cached.mtime == mtime then
    return vim.deepcopy(cached.value)
  end
  local ok, lines = pcall(vim.fn.readfile, file)
  local value = ok and M.parse_delimiters(table.concat(lines, '\n')) or vim.deepcopy(DEFAULT_DELIMITERS)
  delimiter_cache[file] = { mtime = mtime, value = value }
  return vim.deepcopy(value)
end

-- ---------------------------------------------------------------------------
-- Rendered preview

--- Preview buffer shown for a template buffer (if any).
local preview_of = {} ---@type table<integer, integer>
local timers = {} ---@type table<integer, userdata>

local function is_preview(bufnr)
  return vim.b[bufnr].homelab_preview_source ~= nil
end

local function source_buffer(bufnr)
  local src = vim.b[bufnr].homelab_preview_source_bufnr
  if src and vim.api.nvim_buf_is_valid(src) then
    return src
  end
  return nil
end

local function fill_preview(preview, result, source_uri)
  local text = result.text or ''
  local lines = vim.split(text, '\n', { plain = true })
  if #lines > 1 and lines[#lines] == '' then
    table.remove(lines) -- the final newline ends the last line, it is not another line
  end
  vim.bo[preview].modifiable = true
  vim.api.nvim_buf_set_lines(preview, 0, -1, false, lines)
  vim.bo[preview].modifiable = false
  vim.bo[preview].modified = false
  vim.b[preview].homelab_preview_source = source_uri
  vim.b[preview].homelab_line_map = result.lineMap or {}
end

local function render_into(source, preview)
  local uri = vim.uri_from_bufnr(source)
  M.request(source, M.methods.rendered_preview, { uri = uri }, function(result)
    if not vim.api.nvim_buf_is_valid(preview) then
      return
    end
    if type(result) ~= 'table' or type(result.text) ~= 'string' then
      notify('homelab/renderedPreview returned no text', vim.log.levels.ERROR)
      return
    end
    fill_preview(preview, result, uri)
  end)
end

local function schedule_refresh(source)
  local preview = preview_of[source]
  if not preview or not vim.api.nvim_buf_is_valid(preview) or vim.fn.bufwinid(preview) == -1 then
    return
  end
  local timer = timers[source]
  if not timer then
    timer = uv.new_timer()
    timers[source] = timer
  end
  timer:stop()
  timer:start(M.preview_debounce_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_buf_is_valid(source) and preview_of[source] then
      render_into(source, preview_of[source])
    end
  end))
end

local function stop_refresh(source)
  local timer = timers[source]
  if timer then
    timer:stop()
    if not timer:is_closing() then
      timer:close()
    end
    timers[source] = nil
  end
end

--- :HomelabPreview — renders the current template into a scratch buffer in a
--- vertical split (filetype yaml) and keeps it fresh while you type.
function M.preview(bufnr)
  local source = bufnr or vim.api.nvim_get_current_buf()
  if is_preview(source) then
    source = source_buffer(source) or source
  end
  local client, why = M.client(source)
  if not client then
    notify(why, vim.log.levels.WARN)
    return
  end
  local preview = preview_of[source]
  if not preview or not vim.api.nvim_buf_is_valid(preview) then
    preview = vim.api.nvim_create_buf(false, true)
    -- buftype before filetype: LSP clients never attach to nofile buffers.
    vim.bo[preview].buftype = 'nofile'
    vim.bo[preview].bufhidden = 'hide'
    vim.bo[preview].swapfile = false
    local name = vim.api.nvim_buf_get_name(source):gsub('%.j2$', '')
    pcall(vim.api.nvim_buf_set_name, preview, PREVIEW_PREFIX .. name)
    vim.b[preview].homelab_preview_source_bufnr = source
    vim.b[preview].homelab_preview_source = vim.uri_from_bufnr(source)
    vim.bo[preview].filetype = 'yaml'
    vim.bo[preview].modifiable = false
    preview_of[source] = preview

    local group = vim.api.nvim_create_augroup('homelab_lsp_preview_' .. source, { clear = true })
    vim.api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI', 'BufWritePost' }, {
      group = group,
      buffer = source,
      callback = function()
        schedule_refresh(source)
      end,
    })
    vim.api.nvim_create_autocmd({ 'BufWipeout' }, {
      group = group,
      buffer = source,
      callback = function()
        stop_refresh(source)
        local p = preview_of[source]
        preview_of[source] = nil
        if p and vim.api.nvim_buf_is_valid(p) then
          pcall(vim.api.nvim_buf_delete, p, { force = true })
        end
        pcall(vim.api.nvim_del_augroup_by_id, group)
      end,
    })
    vim.api.nvim_create_autocmd({ 'BufWipeout' }, {
      group = group,
      buffer = preview,
      callback = function()
        stop_refresh(source)
        preview_of[source] = nil
      end,
    })
  end

  local win = vim.fn.bufwinid(preview)
  if win == -1 then
    local current = vim.api.nvim_get_current_win()
    vim.cmd('vertical rightbelow sbuffer ' .. preview)
    vim.wo.wrap = false
    vim.api.nvim_set_current_win(current)
  end
  render_into(source, preview)
  return preview
end

-- ---------------------------------------------------------------------------
-- Navigation

local function open_location(uri, line)
  local fname = vim.uri_to_fname(uri)
  if vim.fn.filereadable(fname) == 0 and vim.fn.bufexists(fname) == 0 then
    notify(fname .. ' does not exist yet (run makejinja to generate it, or use :HomelabPreview)', vim.log.levels.WARN)
    return false
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(fname))
  if line then
    local last = vim.api.nvim_buf_line_count(0)
    vim.api.nvim_win_set_cursor(0, { math.min(line + 1, last), 0 })
    vim.cmd('normal! zz')
  end
  return true
end

--- :HomelabGeneratedFile — from a template to the file it renders to.
function M.generated_file(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if is_preview(bufnr) then
    bufnr = source_buffer(bufnr) or bufnr
  end
  M.request(bufnr, M.methods.generated_file, { uri = vim.uri_from_bufnr(bufnr) }, function(result)
    if result == nil or result == vim.NIL then
      notify('this template produces no file (excluded, a partial, or renders to nothing)')
      return
    end
    if type(result) ~= 'table' or type(result.uri) ~= 'string' then
      notify('homelab/generatedFile returned ' .. vim.inspect(result), vim.log.levels.ERROR)
      return
    end
    open_location(result.uri)
  end)
end

--- :HomelabTemplateSource — from a line of a generated file (or of a preview)
--- to the template line that produced it.
function M.template_source(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local line = vim.api.nvim_win_get_cursor(0)[1] - 1
  if is_preview(bufnr) then
    local map = vim.b[bufnr].homelab_line_map or {}
    local entry = map[math.min(line + 1, #map)]
    if type(entry) ~= 'table' or entry.uri == nil then
      notify('no template line produced this line')
      return
    end
    open_location(entry.uri, entry.line)
    return
  end
  M.request(bufnr, M.methods.template_source, { uri = vim.uri_from_bufnr(bufnr), line = line }, function(result)
    if result == nil or result == vim.NIL then
      notify('no template line produced this line')
      return
    end
    if type(result) ~= 'table' or type(result.uri) ~= 'string' then
      notify('homelab/templateSource returned ' .. vim.inspect(result), vim.log.levels.ERROR)
      return
    end
    open_location(result.uri, result.line)
  end)
end

--- :HomelabRestart
function M.restart()
  if vim.lsp.is_enabled and vim.lsp.is_enabled(M.client_name) then
    vim.lsp.enable(M.client_name, false)
    vim.lsp.enable(M.client_name, true)
    notify('restarted')
    return
  end
  if vim.fn.exists(':LspRestart') == 2 then
    vim.cmd('LspRestart ' .. M.client_name)
    return
  end
  for _, client in ipairs(get_clients({ name = M.client_name })) do
    client.stop()
  end
  notify('stopped; reopen a template to start it again')
end

return M
