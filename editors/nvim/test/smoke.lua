-- Load check for editors/nvim without any server:
--
--   nvim --headless -u NONE -i NONE -l editors/nvim/test/smoke.lua
--
-- Loads every Lua file, checks the vim.lsp.config entry, the lspconfig
-- registration (against a stand-in lspconfig), filetype detection, the
-- makejinja.toml delimiter parser, the syntax file and the user commands.
-- Prints PASS/FAIL lines and "N passed, N failed"; exits 1 on any failure.

local passed, failed = 0, 0

local function out(s)
  io.stdout:write(s .. '\n')
end

local function check(name, fn)
  local ok, err = pcall(fn)
  if ok then
    passed = passed + 1
    out('PASS ' .. name)
  else
    failed = failed + 1
    out('FAIL ' .. name .. ': ' .. tostring(err))
  end
end

local function eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(string.format('%s: expected %s, got %s', what or 'value', vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

local nvim_dir = vim.fn.fnamemodify(vim.fn.fnamemodify(arg[0], ':p:h'), ':h')
vim.opt.runtimepath:prepend(nvim_dir)
vim.cmd('filetype plugin on')
vim.cmd('syntax on')

check('plugin/homelab_lsp.lua loads', function()
  vim.cmd('runtime plugin/homelab_lsp.lua')
  assert(vim.g.loaded_homelab_lsp == true, 'plugin did not run')
end)

check('user commands exist', function()
  local cmds = vim.api.nvim_get_commands({})
  for _, name in ipairs({ 'HomelabPreview', 'HomelabGeneratedFile', 'HomelabTemplateSource', 'HomelabRestart' }) do
    assert(cmds[name], name .. ' is not defined')
  end
end)

check('filetype detection', function()
  eq(vim.filetype.match({ filename = '/r/bootstrap/templates/app/helmrelease.yaml.j2' }), 'makejinja', '*.yaml.j2')
  eq(vim.filetype.match({ filename = '/r/templates/config/talenv.yml.j2' }), 'makejinja', '*.yml.j2')
  eq(vim.filetype.match({ filename = '/r/templates/config/.sops.yaml.j2' }), 'makejinja', '.sops.yaml.j2')
  eq(vim.filetype.match({ filename = '/r/templates/values.yaml.gotmpl.j2' }), 'makejinja', '*.gotmpl.j2')
  eq(vim.filetype.match({ filename = '/r/kubernetes/apps/app/helmrelease.yaml' }), 'yaml', 'generated yaml')
end)

check('lsp/homelab_lsp.lua is the vim.lsp.config entry', function()
  local cfg = vim.lsp.config.homelab_lsp
  assert(cfg, 'vim.lsp.config.homelab_lsp is nil (lsp/homelab_lsp.lua not on runtimepath?)')
  eq(cfg.cmd, { 'homelab-lsp' }, 'cmd')
  eq(cfg.filetypes, { 'makejinja', 'yaml' }, 'filetypes')
  eq(type(cfg.root_dir), 'function', 'root_dir')
  eq(cfg.settings.homelabLsp.preview.showSecrets, false, 'showSecrets')
  eq(cfg.settings.homelabLsp.trace.server, 'off', 'trace.server')
  eq(vim.json.encode(cfg.settings.homelabLsp.diagnostics.rules), '{}', 'rules encode as a JSON object')
end)

check('before_init sends the settings as initializationOptions', function()
  vim.lsp.config('homelab_lsp', { settings = { homelabLsp = { diagnostics = { rules = { drift = 'off' } } } } })
  local cfg = vim.lsp.config.homelab_lsp
  local params = {}
  cfg.before_init(params, cfg)
  eq(params.initializationOptions.homelabLsp.diagnostics.rules, { drift = 'off' }, 'rules')
  eq(params.initializationOptions.homelabLsp.preview.showSecrets, false, 'merged default')
  local explicit = { initializationOptions = { mine = true } }
  cfg.before_init(explicit, cfg)
  eq(explicit.initializationOptions, { mine = true }, 'explicit init_options are kept')
end)

check('lua/homelab_lsp/lspconfig.lua registers with lspconfig', function()
  -- A stand-in for nvim-lspconfig's two modules, with the same shapes.
  local registered, setup_opts
  local configs = setmetatable({}, {
    __newindex = function(t, k, v)
      registered = v
      rawset(t, k, v)
    end,
  })
  package.loaded['lspconfig.configs'] = configs
  package.loaded['lspconfig.util'] = {
    root_pattern = function(...)
      local markers = { ... }
      return function(fname)
        return vim.fs.root(fname, markers)
      end
    end,
  }
  package.loaded['lspconfig'] = setmetatable({}, {
    __index = function(_, name)
      assert(configs[name], 'not registered: ' .. name)
      return {
        setup = function(opts)
          setup_opts = opts
        end,
      }
    end,
  })
  require('homelab_lsp.lspconfig').setup({ cmd = { '/opt/homelab-lsp' } })
  assert(registered, 'configs.homelab_lsp was not set')
  local dc = registered.default_config
  eq(dc.cmd, { 'homelab-lsp' }, 'default cmd')
  eq(dc.filetypes, { 'makejinja', 'yaml' }, 'filetypes')
  eq(type(dc.root_dir), 'function', 'root_dir')
  eq(type(dc.before_init), 'function', 'before_init')
  eq(setup_opts, { cmd = { '/opt/homelab-lsp' } }, 'setup options')
  local corpus = vim.fn.fnamemodify(nvim_dir, ':h:h:h') .. '/shared/corpora/cluster-template-bootstrap'
  if vim.fn.isdirectory(corpus) == 1 then
    eq(dc.root_dir(corpus .. '/bootstrap/templates/kubernetes/flux/apps.yaml.j2'), corpus, 'root_dir on a corpus')
  end
  package.loaded['lspconfig'], package.loaded['lspconfig.configs'], package.loaded['lspconfig.util'] = nil, nil, nil
end)

check('the server attaches only inside a homelab repository', function()
  local h = require('homelab_lsp')
  local tmp = vim.fn.tempname()
  vim.fn.mkdir(tmp .. '/plain', 'p')
  vim.fn.mkdir(tmp .. '/repo/templates', 'p')
  vim.fn.mkdir(tmp .. '/tidy/kubernetes/apps', 'p')
  vim.fn.mkdir(tmp .. '/ansible/.git', 'p')
  vim.fn.writefile({ '[makejinja]' }, tmp .. '/repo/makejinja.toml')
  vim.fn.writefile({ 'creation_rules: []' }, tmp .. '/tidy/.sops.yaml')
  eq(h.repo_root(tmp .. '/plain/x.yaml'), nil, 'plain x.yaml outside any repo')
  eq(h.repo_root(tmp .. '/ansible/roles/a.j2'), nil, 'a git repo without kubernetes/')
  eq(h.repo_root(tmp .. '/repo/templates/a.yaml.j2'), tmp .. '/repo', 'makejinja.toml')
  eq(h.repo_root(tmp .. '/tidy/kubernetes/apps/x.yaml'), tmp .. '/tidy', 'kubernetes/ beside .sops.yaml')
  local called = nil
  vim.cmd('edit ' .. tmp .. '/plain/x.yaml')
  vim.lsp.config.homelab_lsp.root_dir(vim.api.nvim_get_current_buf(), function(r)
    called = r
  end)
  eq(called, nil, 'root_dir does not call on_dir outside a repo')
  vim.cmd('bwipeout!')
  vim.fn.delete(tmp, 'rf')
end)

check('makejinja.toml delimiter parsing', function()
  local h = require('homelab_lsp')
  local toml = table.concat({
    '[makejinja]',
    'inputs = ["./bootstrap/overrides","./bootstrap/templates"]',
    '',
    '[makejinja.delimiter]',
    'block_start = "#%"',
    'block_end = "%#"',
    'comment_start = "#|"',
    "comment_end = '#|'",
    'variable_start = "#{"',
    'variable_end = "}#"   # trailing comment',
    '',
    '[other]',
    'variable_start = "nope"',
  }, '\n')
  eq(h.parse_delimiters(toml), {
    block_start = '#%',
    block_end = '%#',
    comment_start = '#|',
    comment_end = '#|',
    variable_start = '#{',
    variable_end = '}#',
  }, 'custom delimiters')
  eq(h.parse_delimiters('[makejinja]\ninputs = ["x"]\n').variable_start, '{{', 'defaults without the table')
  eq(h.parse_delimiters('[makejinja]\ndelimiter = { variable_start = "<<", variable_end = ">>" }\n').variable_end, '>>', 'inline table')
end)

local function syntax_names(path)
  vim.cmd('edit ' .. vim.fn.fnameescape(path))
  local names = {}
  for i, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    for col = 1, #line do
      names[i .. ':' .. col] = vim.fn.synIDattr(vim.fn.synID(i, col, 1), 'name')
    end
  end
  return names
end

check('syntax: delimiters from makejinja.toml, stock ones without it', function()
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir .. '/custom', 'p')
  vim.fn.mkdir(dir .. '/stock', 'p')
  vim.fn.writefile({ '[makejinja.delimiter]', 'variable_start = "#{"', 'variable_end = "}#"', 'block_start = "#%"', 'block_end = "%#"', 'comment_start = "#|"', 'comment_end = "#|"' }, dir .. '/custom/makejinja.toml')
  vim.fn.writefile({ 'host: "#{ domain | lower }#" # note', '#% if x %#', 'h: {{ .Release.Name }}' }, dir .. '/custom/a.yaml.j2')
  vim.fn.writefile({ 'host: {{ domain | lower }}', 'y: #{ no }#' }, dir .. '/stock/a.yaml.j2')

  local n = syntax_names(dir .. '/custom/a.yaml.j2')
  eq(vim.bo.filetype, 'makejinja', 'filetype')
  eq(vim.b.current_syntax, 'makejinja', 'syntax')
  eq(vim.bo.commentstring, '#| %s #|', 'commentstring')
  eq(n['1:8'], 'makejinjaDelimiter', '#{ in a string')
  eq(n['1:11'], 'makejinjaExpression', 'variable')
  eq(n['1:18'], 'makejinjaPipe', 'pipe')
  eq(n['1:20'], 'makejinjaFilter', 'filter')
  eq(n['1:30'], 'yamlComment', 'YAML comment after the expression')
  eq(n['2:4'], 'makejinjaKeyword', 'statement keyword')
  assert(not tostring(n['3:4']):find('^makejinja'), 'Helm braces are not template code here: ' .. tostring(n['3:4']))

  n = syntax_names(dir .. '/stock/a.yaml.j2')
  eq(vim.bo.commentstring, '{# %s #}', 'stock commentstring')
  eq(n['1:7'], 'makejinjaDelimiter', '{{ with stock delimiters')
  eq(n['1:19'], 'makejinjaFilter', 'stock filter')
  eq(n['2:4'], 'yamlComment', '#{ is a YAML comment with stock delimiters')
  vim.fn.delete(dir, 'rf')
end)

check('commands report a missing client instead of failing', function()
  local messages = {}
  local orig = vim.notify
  vim.notify = function(msg)
    messages[#messages + 1] = msg
  end
  vim.cmd('enew')
  vim.cmd('HomelabPreview')
  vim.cmd('HomelabGeneratedFile')
  vim.cmd('HomelabTemplateSource')
  vim.notify = orig
  eq(#messages, 3, 'one message per command')
  assert(messages[1]:find('homelab_lsp', 1, true), messages[1])
end)

out(string.format('%d passed, %d failed', passed, failed))
os.exit(failed > 0 and 1 or 0)
