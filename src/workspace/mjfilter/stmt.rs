//! The statement parser: module-level statements and `def` bodies, by indentation.

use super::*;

pub(super) struct StmtParser<'l> {
    pub(super) lines: &'l [Line],
    pub(super) idx: usize,
}

#[derive(Clone, Copy)]
pub(super) struct Ctx {
    pub(super) in_func: bool,
    pub(super) nest: u32,
}

pub(super) fn parse_module(lines: &[Line]) -> R<Vec<Stmt>> {
    let mut sp = StmtParser { lines, idx: 0 };
    let body = sp.parse_block(0, Ctx { in_func: false, nest: 0 })?;
    if let Some(l) = sp.lines.get(sp.idx) {
        return fail_structural(l.line, "IndentationError: unindent does not match any outer indentation level");
    }
    Ok(body)
}

/// Splits a logical line's tokens on `;`.
pub(super) fn split_semicolons(toks: &[Token]) -> Vec<&[Token]> {
    toks.split(|t| t.tok == Tok::Op(";")).filter(|s| !s.is_empty()).collect()
}

impl<'l> StmtParser<'l> {
    pub(super) fn parse_block(&mut self, indent: u32, ctx: Ctx) -> R<Vec<Stmt>> {
        let mut out = Vec::new();
        let mut after_compound = false;
        while let Some(line) = self.lines.get(self.idx) {
            if line.indent < indent {
                break;
            }
            if line.indent > indent {
                let msg = if after_compound {
                    "IndentationError: unindent does not match any outer indentation level"
                } else {
                    "IndentationError: unexpected indent"
                };
                return fail_structural(line.line, msg);
            }
            self.idx += 1;
            after_compound = self.parse_statement(line, ctx, &mut out)?;
        }
        Ok(out)
    }

    /// Skips the indented lines belonging to the statement on a line of `indent`.
    pub(super) fn skip_suite(&mut self, indent: u32) {
        while self.lines.get(self.idx).is_some_and(|l| l.indent > indent) {
            self.idx += 1;
        }
    }

    /// Skips a compound statement's remaining suite and its continuation clauses.
    pub(super) fn skip_compound(&mut self, indent: u32) {
        self.skip_suite(indent);
        while let Some(l) = self.lines.get(self.idx) {
            let cont = l.indent == indent
                && matches!(l.toks.first().map(|t| &t.tok), Some(Tok::Name(n))
                    if matches!(&**n, "elif" | "else" | "except" | "finally" | "case"));
            if !cont {
                break;
            }
            self.idx += 1;
            self.skip_suite(indent);
        }
    }

    /// Parses the statement(s) on `line`; returns whether it was a compound statement.
    pub(super) fn parse_statement(&mut self, line: &'l Line, ctx: Ctx, out: &mut Vec<Stmt>) -> R<bool> {
        let first = line.toks.first().map(|t| &t.tok);
        let kw = match first {
            Some(Tok::Name(n)) => Some(&**n),
            _ => None,
        };
        let ends_with_colon = matches!(line.toks.last().map(|t| &t.tok), Some(Tok::Op(":")));
        match kw {
            Some("def") | Some("if") => {
                let r = if kw == Some("def") { self.parse_def(line, ctx) } else { self.parse_if(line, ctx) };
                match r {
                    Ok(stmt) => out.push(stmt),
                    Err(e) if e.structural => return Err(e),
                    Err(e) => {
                        // Keep going past the whole statement; complain only if it runs.
                        self.skip_compound(line.indent);
                        out.push(Stmt::Unsupported(e.msg, e.line));
                    }
                }
                Ok(true)
            }
            Some("elif") | Some("else") | Some("except") | Some("finally") => {
                fail(line.line, format!("SyntaxError: invalid syntax ('{}' without a matching statement)", kw.unwrap_or("")))
            }
            Some("class") | Some("for") | Some("while") | Some("try") | Some("with") | Some("async") | Some("match") => {
                let what = kw.unwrap_or("");
                if what == "match" && !ends_with_colon {
                    self.parse_simple_line(line, ctx, out);
                    return Ok(false);
                }
                self.skip_compound(line.indent);
                out.push(Stmt::Unsupported(format!("unsupported: '{what}' statement"), line.line));
                Ok(true)
            }
            _ if first == Some(&Tok::Op("@")) => {
                // A decorator applies to the next statement: skip both.
                while let Some(l) = self.lines.get(self.idx) {
                    if l.indent != line.indent || l.toks.first().map(|t| &t.tok) != Some(&Tok::Op("@")) {
                        break;
                    }
                    self.idx += 1;
                }
                if self.lines.get(self.idx).is_some_and(|l| l.indent == line.indent) {
                    self.idx += 1;
                }
                self.skip_compound(line.indent);
                out.push(Stmt::Unsupported("unsupported: decorator".to_string(), line.line));
                Ok(true)
            }
            _ => {
                self.parse_simple_line(line, ctx, out);
                Ok(false)
            }
        }
    }

    pub(super) fn parse_simple_line(&mut self, line: &Line, ctx: Ctx, out: &mut Vec<Stmt>) {
        for toks in split_semicolons(&line.toks) {
            out.push(parse_simple(toks, ctx, line.line));
        }
    }

    /// The suite after a compound header whose parser stands just past the `:`.
    pub(super) fn parse_suite(&mut self, header: &Line, p: &Parser, what: &str, ctx: Ctx) -> R<Vec<Stmt>> {
        let inner = Ctx { in_func: ctx.in_func, nest: ctx.nest + 1 };
        if inner.nest > MAX_BLOCK_NESTING {
            return fail(header.line, format!("unsupported: blocks nested more than {MAX_BLOCK_NESTING} levels deep"));
        }
        if !p.at_end() {
            let rest = &p.toks[p.pos..];
            let mut out = Vec::new();
            for toks in split_semicolons(rest) {
                if matches!(toks.first().map(|t| &t.tok), Some(Tok::Name(n)) if matches!(&**n, "if" | "def" | "for" | "while" | "class" | "try" | "with"))
                {
                    return fail(toks[0].line, "invalid syntax: compound statement after ':' on the same line");
                }
                out.push(parse_simple(toks, inner, header.line));
            }
            return Ok(out);
        }
        match self.lines.get(self.idx) {
            Some(next) if next.indent > header.indent => self.parse_block(next.indent, inner),
            _ => fail_structural(
                header.line,
                format!("IndentationError: expected an indented block after {what} on line {}", header.line + 1),
            ),
        }
    }

    pub(super) fn parse_def(&mut self, line: &Line, ctx: Ctx) -> R<Stmt> {
        let mut p = Parser::new(&line.toks[1..], line.line);
        if ctx.in_func {
            return fail(line.line, "unsupported: nested function definition");
        }
        let name = p.expect_name()?;
        p.expect_op("(")?;
        let params = p.parse_params(")", true)?;
        p.expect_op(")")?;
        if p.eat_op("->") {
            p.parse_test()?;
        }
        p.expect_op(":")?;
        let body = self.parse_suite(line, &p, "function definition", Ctx { in_func: true, nest: ctx.nest })?;
        let mut locals: Vec<Rc<str>> = params.iter().map(|p| p.name.clone()).collect();
        collect_locals(&body, &mut locals);
        Ok(Stmt::Def(Rc::new(FuncDef { name, params, body: Body::Block(body), locals, line: line.line })))
    }

    pub(super) fn parse_if(&mut self, line: &'l Line, ctx: Ctx) -> R<Stmt> {
        let mut branches = Vec::new();
        let mut orelse = Vec::new();
        let mut header = line;
        let mut what = "'if' statement";
        loop {
            let mut p = Parser::new(&header.toks[1..], header.line);
            let cond = p.parse_test()?;
            p.expect_op(":")?;
            let suite = self.parse_suite(header, &p, what, ctx)?;
            branches.push((cond, suite));
            let Some(next) = self.lines.get(self.idx) else { break };
            if next.indent != line.indent {
                break;
            }
            match next.toks.first().map(|t| &t.tok) {
                Some(Tok::Name(n)) if &**n == "elif" => {
                    self.idx += 1;
                    header = next;
                    what = "'elif' statement";
                }
                Some(Tok::Name(n)) if &**n == "else" => {
                    self.idx += 1;
                    let mut p = Parser::new(&next.toks[1..], next.line);
                    p.expect_op(":")?;
                    orelse = self.parse_suite(next, &p, "'else' statement", ctx)?;
                    break;
                }
                _ => break,
            }
        }
        Ok(Stmt::If(branches, orelse))
    }
}

pub(super) fn collect_locals(body: &[Stmt], out: &mut Vec<Rc<str>>) {
    let add = |n: &Rc<str>, out: &mut Vec<Rc<str>>| {
        if !out.contains(n) {
            out.push(n.clone());
        }
    };
    for s in body {
        match s {
            Stmt::Assign(names, _) => names.iter().for_each(|n| add(n, out)),
            Stmt::Import(bindings) => bindings.iter().for_each(|(n, _)| add(n, out)),
            Stmt::Def(d) => add(&d.name, out),
            Stmt::If(branches, orelse) => {
                for (_, b) in branches {
                    collect_locals(b, out);
                }
                collect_locals(orelse, out);
            }
            _ => {}
        }
    }
}

/// One simple statement. Problems become [`Stmt::Unsupported`], reported only if executed.
pub(super) fn parse_simple(toks: &[Token], ctx: Ctx, line: u32) -> Stmt {
    match try_parse_simple(toks, ctx, line) {
        Ok(s) => s,
        Err(e) => Stmt::Unsupported(e.msg, e.line),
    }
}

pub(super) fn dotted_name(p: &mut Parser) -> R<String> {
    let mut name = p.expect_name()?.to_string();
    while p.eat_op(".") {
        name.push('.');
        name.push_str(&p.expect_name()?);
    }
    Ok(name)
}

pub(super) fn try_parse_simple(toks: &[Token], ctx: Ctx, line: u32) -> R<Stmt> {
    let mut p = Parser::new(toks, line);
    let line = p.line();
    let kw = match p.peek() {
        Some(Tok::Name(n)) => Some(n.clone()),
        _ => None,
    };
    match kw.as_deref() {
        Some("pass") => {
            p.pos += 1;
            p.expect_end()?;
            return Ok(Stmt::Nop);
        }
        Some("return") => {
            if !ctx.in_func {
                return fail(line, "SyntaxError: 'return' outside function");
            }
            p.pos += 1;
            let value = if p.at_end() { None } else { Some(p.parse_testlist()?) };
            p.expect_end()?;
            return Ok(Stmt::Return(value));
        }
        Some("import") => {
            p.pos += 1;
            let mut bindings = Vec::new();
            loop {
                let module = dotted_name(&mut p)?;
                let bound: Rc<str> = if p.eat_kw("as") { p.expect_name()? } else { Rc::from(module.split('.').next().unwrap_or(&module)) };
                bindings.push((bound, ImportBinding::Opaque(Rc::from(module))));
                if !p.eat_op(",") {
                    break;
                }
            }
            p.expect_end()?;
            return Ok(Stmt::Import(bindings));
        }
        Some("from") => {
            p.pos += 1;
            let mut module = String::new();
            while p.is_op(".") || p.is_op("...") {
                module.push_str(if p.is_op(".") { "." } else { "..." });
                p.pos += 1;
            }
            if !p.is_kw("import") {
                module.push_str(&dotted_name(&mut p)?);
            }
            if !p.eat_kw("import") {
                return p.unexpected("'import'");
            }
            if p.eat_op("*") {
                p.expect_end()?;
                return Ok(Stmt::StarImport);
            }
            let paren = p.eat_op("(");
            let mut bindings = Vec::new();
            loop {
                let name = p.expect_name()?;
                let bound = if p.eat_kw("as") { p.expect_name()? } else { name.clone() };
                let binding = if module == "typing" && &*name == "TYPE_CHECKING" {
                    ImportBinding::False
                } else {
                    ImportBinding::Opaque(Rc::from(format!("{module}.{name}")))
                };
                bindings.push((bound, binding));
                if !p.eat_op(",") {
                    break;
                }
                if paren && p.is_op(")") {
                    break;
                }
            }
            if paren {
                p.expect_op(")")?;
            }
            p.expect_end()?;
            return Ok(Stmt::Import(bindings));
        }
        Some("assert") => {
            p.pos += 1;
            let cond = p.parse_test()?;
            let msg = if p.eat_op(",") { Some(p.parse_test()?) } else { None };
            p.expect_end()?;
            return Ok(Stmt::Assert(cond, msg));
        }
        Some(k @ ("global" | "nonlocal" | "del" | "raise" | "break" | "continue" | "yield" | "await")) => {
            return fail(line, format!("unsupported: '{k}' statement"));
        }
        _ => {}
    }
    if toks.len() == 1 && toks[0].tok == Tok::Op("...") {
        return Ok(Stmt::Nop);
    }
    // NAME = NAME = … = value
    let mut targets: Vec<Rc<str>> = Vec::new();
    while let (Some(Tok::Name(n)), Some(Tok::Op("="))) = (p.peek(), p.peek_at(1)) {
        if is_keyword(n) {
            return fail(line, format!("SyntaxError: cannot assign to {n}"));
        }
        targets.push(n.clone());
        p.pos += 2;
    }
    if !targets.is_empty() {
        let value = if p.is_kw("lambda") {
            if ctx.in_func {
                return fail(line, "unsupported: lambda inside a function");
            }
            p.parse_lambda()?
        } else {
            p.parse_testlist()?
        };
        if p.is_op("=") {
            return fail(p.line(), "unsupported: assignment to a target other than a plain name");
        }
        p.expect_end()?;
        return Ok(Stmt::Assign(targets, value));
    }
    // NAME: annotation [= value]
    if let (Some(Tok::Name(n)), Some(Tok::Op(":"))) = (p.peek(), p.peek_at(1)) {
        if !is_keyword(n) {
            let name = n.clone();
            p.pos += 2;
            p.parse_test()?;
            if !p.eat_op("=") {
                p.expect_end()?;
                return Ok(Stmt::Nop);
            }
            let value = if p.is_kw("lambda") && !ctx.in_func { p.parse_lambda()? } else { p.parse_testlist()? };
            p.expect_end()?;
            return Ok(Stmt::Assign(vec![name], value));
        }
    }
    let expr = p.parse_testlist()?;
    if let Some(Tok::Op(op)) = p.peek() {
        if *op == "=" || (op.len() >= 2 && op.ends_with('=') && !matches!(*op, "==" | "!=" | "<=" | ">=")) {
            return fail(p.line(), "unsupported: assignment to a target other than a plain name");
        }
    }
    p.expect_end()?;
    Ok(Stmt::Expr(expr))
}

// ---------------------------------------------------------------------------------------
