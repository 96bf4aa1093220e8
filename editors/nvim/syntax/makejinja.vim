" makejinja templates: YAML with Jinja regions. The delimiters come from the
" repository's makejinja.toml ([makejinja.delimiter]); without one, Jinja's
" stock {{ }} {% %} {# #} are used, as makejinja does.

if exists('b:current_syntax')
  finish
endif

runtime! syntax/yaml.vim
unlet! b:current_syntax

let s:d = luaeval('require("homelab_lsp").delimiters(0)')

function! s:lit(text) abort
  " A delimiter as a very-nomagic pattern piece.
  return '\V' . escape(a:text, '\/') . '\m'
endfunction

" YAML comments start at '#'; so do makejinja's usual delimiters. Redefine
" yamlComment so that a '#' opening a template region is not a comment.
let s:hash_starts = filter([s:d.variable_start, s:d.block_start, s:d.comment_start], 'v:val[0] ==# "#"')
if !empty(s:hash_starts)
  syntax clear yamlComment
  execute 'syntax region yamlComment display oneline start=/\%(^\|\s\)\%(' . join(map(copy(s:hash_starts), 's:lit(v:val)'), '\|') . '\)\@!#/ end=/$/'
endif

let s:inside = 'ALLBUT,makejinjaExpression,makejinjaStatement,makejinjaComment,makejinjaRaw,@makejinjaCode'

syntax cluster makejinjaCode contains=makejinjaString,makejinjaNumber,makejinjaConstant,makejinjaPipe,makejinjaIs,makejinjaOperatorWord,makejinjaKeyword,makejinjaFunction,makejinjaProperty,makejinjaOperator,makejinjaSpecial

execute 'syntax region makejinjaComment start=/' . s:lit(s:d.comment_start) . '/ end=/' . s:lit(s:d.comment_end) . '/ keepend containedin=' . s:inside . ' contains=@Spell'

execute 'syntax region makejinjaRaw matchgroup=makejinjaDelimiter start=/' . s:lit(s:d.block_start) . '[-+]\=\s*raw\s*[-+]\=' . s:lit(s:d.block_end) . '/ end=/' . s:lit(s:d.block_start) . '[-+]\=\s*endraw\s*[-+]\=' . s:lit(s:d.block_end) . '/ keepend containedin=' . s:inside

execute 'syntax region makejinjaStatement matchgroup=makejinjaDelimiter start=/' . s:lit(s:d.block_start) . '[-+]\=/ end=/[-+]\=' . s:lit(s:d.block_end) . '/ keepend containedin=' . s:inside . ' contains=makejinjaStatementName,@makejinjaCode'

execute 'syntax region makejinjaExpression matchgroup=makejinjaDelimiter start=/' . s:lit(s:d.variable_start) . '[-+]\=/ end=/[-+]\=' . s:lit(s:d.variable_end) . '/ keepend containedin=' . s:inside . ' contains=@makejinjaCode'

execute 'syntax match makejinjaStatementName contained /\%(' . s:lit(s:d.block_start) . '[-+]\=\s*\)\@<=\h\w*/'

syntax region makejinjaString contained start=/"/ skip=/\\./ end=/"/ oneline
syntax region makejinjaString contained start=/'/ skip=/\\./ end=/'/ oneline
syntax match makejinjaNumber contained /\<\d[0-9_]*\%(\.\d[0-9_]*\)\=\%([eE][+-]\=\d\+\)\=\>/
syntax keyword makejinjaConstant contained true false none True False None
syntax keyword makejinjaOperatorWord contained and or not in
syntax keyword makejinjaIs contained is nextgroup=makejinjaIsNot,makejinjaTest skipwhite
syntax keyword makejinjaIsNot contained not nextgroup=makejinjaTest skipwhite
syntax keyword makejinjaKeyword contained if elif else endif for endfor recursive set endset with endwith without context ignore missing import from as include extends block endblock macro endmacro call endcall filter endfilter do break continue
syntax keyword makejinjaSpecial contained loop self super varargs kwargs caller namespace range
syntax match makejinjaFunction contained /\h\w*\ze\s*(/
syntax match makejinjaProperty contained /\.\zs\h\w*/
syntax match makejinjaPipe contained /|/ nextgroup=makejinjaFilter skipwhite
syntax match makejinjaFilter contained /\h\w*/
syntax match makejinjaTest contained /\h\w*/
syntax match makejinjaOperator contained /[~+*\/%=<>!-]/

highlight default link makejinjaDelimiter PreProc
highlight default link makejinjaComment Comment
highlight default link makejinjaRaw String
highlight default link makejinjaStatementName Statement
highlight default link makejinjaKeyword Keyword
highlight default link makejinjaOperatorWord Operator
highlight default link makejinjaOperator Operator
highlight default link makejinjaPipe Operator
highlight default link makejinjaIs Operator
highlight default link makejinjaIsNot Operator
highlight default link makejinjaString String
highlight default link makejinjaNumber Number
highlight default link makejinjaConstant Constant
highlight default link makejinjaFunction Function
highlight default link makejinjaFilter Function
highlight default link makejinjaTest Function
highlight default link makejinjaProperty Identifier
highlight default link makejinjaSpecial Special

let b:current_syntax = 'makejinja'
