" makejinja templates indent like the YAML they render to.
if exists('b:did_indent')
  finish
endif
runtime! indent/yaml.vim
