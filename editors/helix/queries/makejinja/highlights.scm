; inherits: yaml
; Helix finds highlight queries by language name (runtime/queries/makejinja/),
; not by grammar, so the makejinja language reuses the YAML ones. Template
; regions read as YAML comments and are highlighted as such.
