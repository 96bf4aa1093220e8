-- homelab-lsp: filetype detection for makejinja templates and user commands.
-- The LSP client itself is configured by lsp/homelab_lsp.lua (Neovim 0.11+)
-- or lua/homelab_lsp/lspconfig.lua (nvim-lspconfig on older versions).

if vim.g.loaded_homelab_lsp then
  return
end
vim.g.loaded_homelab_lsp = true

-- *.j2 -> makejinja. Set vim.g.homelab_lsp_all_j2 = false before this file is
-- loaded to claim only *.yaml.j2 / *.yml.j2 (e.g. when Ansible's *.j2 files
-- should keep another filetype).
if vim.g.homelab_lsp_all_j2 == false then
  vim.filetype.add({
    pattern = {
      ['.*%.ya?ml%.j2'] = 'makejinja',
    },
  })
else
  vim.filetype.add({
    extension = { j2 = 'makejinja' },
    pattern = {
      -- Listed too so that a *.yaml.j2 wins over other plugins' *.yaml patterns.
      ['.*%.ya?ml%.j2'] = 'makejinja',
    },
  })
end

local function cmd(name, fn, opts)
  vim.api.nvim_create_user_command(name, function(args)
    fn(args)
  end, opts)
end

cmd('HomelabPreview', function()
  require('homelab_lsp').preview()
end, { desc = 'homelab-lsp: show the rendered template in a split (homelab/renderedPreview)' })

cmd('HomelabGeneratedFile', function()
  require('homelab_lsp').generated_file()
end, { desc = 'homelab-lsp: open the file this template renders to (homelab/generatedFile)' })

cmd('HomelabTemplateSource', function()
  require('homelab_lsp').template_source()
end, { desc = 'homelab-lsp: jump to the template line that produced this line (homelab/templateSource)' })

cmd('HomelabRestart', function()
  require('homelab_lsp').restart()
end, { desc = 'homelab-lsp: restart the server' })
