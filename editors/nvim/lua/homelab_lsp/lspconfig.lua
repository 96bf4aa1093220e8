-- homelab-lsp through nvim-lspconfig, for Neovim versions before 0.11 (or
-- setups that still use require('lspconfig')).
--
--   require('homelab_lsp.lspconfig').setup({
--     cmd = { vim.fn.expand('~/.cargo/bin/homelab-lsp') },     -- optional
--     settings = { homelabLsp = { diagnostics = { rules = { drift = 'off' } } } },
--   })
--
-- The defaults come from lsp/homelab_lsp.lua, so both paths start the server
-- the same way.

local M = {}

local function base_config()
  local file = vim.api.nvim_get_runtime_file('lsp/homelab_lsp.lua', false)[1]
  if not file then
    error('homelab_lsp: lsp/homelab_lsp.lua is not on runtimepath; add editors/nvim to runtimepath')
  end
  return dofile(file)
end

--- Registers `homelab_lsp` with lspconfig (once). Returns the lspconfig module.
function M.register()
  local configs = require('lspconfig.configs')
  if not configs.homelab_lsp then
    local base = base_config()
    configs.homelab_lsp = {
      default_config = {
        cmd = base.cmd,
        filetypes = base.filetypes,
        root_dir = function(fname)
          return require('homelab_lsp').repo_root(fname)
        end,
        settings = base.settings,
        before_init = base.before_init,
        single_file_support = false,
      },
      docs = {
        description = [[
homelab-lsp: language server for homelab Kubernetes repositories that render
makejinja templates (*.j2, delimiters from makejinja.toml) into YAML.
Build it with `cargo install --path .` in the homelab-lsp repository.
]],
      },
    }
  end
  return require('lspconfig')
end

--- Registers and sets up the server; `opts` is passed to lspconfig's setup.
function M.setup(opts)
  M.register().homelab_lsp.setup(opts or {})
end

return M
