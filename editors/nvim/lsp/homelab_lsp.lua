-- homelab-lsp for Neovim 0.11+ (vim.lsp.config / vim.lsp.enable).
--
-- With editors/nvim on 'runtimepath', Neovim reads this file as the base
-- configuration of the `homelab_lsp` client; enable it with
--
--   vim.lsp.enable('homelab_lsp')
--
-- and override any field with vim.lsp.config('homelab_lsp', { ... }), e.g.
--
--   vim.lsp.config('homelab_lsp', {
--     cmd = { vim.fn.expand('~/src/homelab-lsp/target/release/homelab-lsp') },
--     settings = { homelabLsp = { diagnostics = { rules = { drift = 'off' } } } },
--   })

---@type vim.lsp.Config
return {
  -- `homelab-lsp` with no arguments speaks LSP on stdio.
  cmd = { 'homelab-lsp' },

  -- Templates (*.j2, filetype set by plugin/homelab_lsp.lua) and the plain
  -- YAML they render to. The language id sent is the filetype.
  filetypes = { 'makejinja', 'yaml' },

  -- Only inside a homelab repository (see homelab_lsp.repo_root): never for
  -- a plain YAML file outside one.
  root_dir = function(bufnr, on_dir)
    local root = require('homelab_lsp').repo_root(vim.api.nvim_buf_get_name(bufnr))
    if root then
      on_dir(root)
    end
  end,

  -- Answered to workspace/configuration (section "homelabLsp") and sent in
  -- workspace/didChangeConfiguration. homelabLsp.server.path is a client
  -- setting of the VS Code extension; here `cmd` plays that part.
  settings = {
    homelabLsp = {
      preview = { showSecrets = false },
      -- JSON schemas (over .homelab-lsp.toml): plainYaml = false leaves plain YAML
      -- to yaml-language-server; offline = true never fetches; mirrors maps URL
      -- prefixes, e.g. { ['https://'] = 'file:///srv/schemas/' }; cacheDir.
      schemas = { plainYaml = true, offline = false },
      diagnostics = {
        -- rule code -> 'error' | 'warning' | 'info' | 'off'; rules left out keep
        -- the server's default. Codes:
        -- template-syntax, undefined-variable, unknown-filter,
        -- unknown-function, missing-include, render-error,
        -- invalid-yaml, yaml-too-large, schema-violation, schema-mismatch, schema-error,
        -- missing-parent-refs, unknown-gateway,
        -- tailscale-ingress-class, plaintext-secret,
        -- inline-credential, committed-secret, unknown-secret-ref,
        -- unknown-source-ref, undefined-substitution,
        -- missing-kustomize-resource, unlisted-manifest, missing-flux-path,
        -- unknown-depends-on, generated-file, drift, data-error,
        -- data-missing, config-incomplete, missing-input,
        -- config-error, plugin-error, plugin-worker,
        -- plugin-not-emulated, plugin-not-found, path-filter.
        rules = vim.empty_dict(),
      },
      trace = { server = 'off' },
    },
  },

  -- The same settings go out as initializationOptions, wrapped in their
  -- section name, unless init_options was set explicitly.
  before_init = function(params, config)
    if params.initializationOptions == nil or vim.tbl_isempty(params.initializationOptions) then
      local section = (config.settings or {}).homelabLsp
      if section ~= nil then
        params.initializationOptions = { homelabLsp = section }
      end
    end
  end,
}
