-- makejinja templates are YAML with template regions.
if vim.b.did_ftplugin then
  return
end
vim.b.did_ftplugin = true

local delims = require('homelab_lsp').delimiters(0)
vim.bo.commentstring = delims.comment_start .. ' %s ' .. delims.comment_end
vim.bo.comments = ':#'
vim.bo.expandtab = true
vim.bo.shiftwidth = 2
vim.bo.softtabstop = 2

vim.b.undo_ftplugin = 'setlocal commentstring< comments< expandtab< shiftwidth< softtabstop<'
