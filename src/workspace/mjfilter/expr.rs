//! The expression parser: precedence climbing over the tokens of one logical line.

use super::*;

pub(super) struct Parser<'t> {
    pub(super) toks: &'t [Token],
    pub(super) pos: usize,
    pub(super) depth: u32,
    /// Line reported for "unexpected end of statement".
    pub(super) eol_line: u32,
}

impl<'t> Parser<'t> {
    pub(super) fn new(toks: &'t [Token], eol_line: u32) -> Self {
        let eol_line = toks.last().map_or(eol_line, |t| t.line);
        Parser { toks, pos: 0, depth: 0, eol_line }
    }

    pub(super) fn peek(&self) -> Option<&'t Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    pub(super) fn peek_at(&self, k: usize) -> Option<&'t Tok> {
        self.toks.get(self.pos + k).map(|t| &t.tok)
    }

    pub(super) fn line(&self) -> u32 {
        self.toks.get(self.pos).map_or(self.eol_line, |t| t.line)
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    pub(super) fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }

    pub(super) fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if &**n == kw)
    }

    pub(super) fn eat_op(&mut self, op: &str) -> bool {
        let hit = self.is_op(op);
        if hit {
            self.pos += 1;
        }
        hit
    }

    pub(super) fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.is_kw(kw);
        if hit {
            self.pos += 1;
        }
        hit
    }

    pub(super) fn unexpected<T>(&self, expected: &str) -> R<T> {
        match self.peek() {
            None => fail(self.line(), format!("invalid syntax: expected {expected} before the end of the statement")),
            Some(t) => fail(self.line(), format!("invalid syntax: expected {expected}, found {}", t.describe())),
        }
    }

    pub(super) fn expect_op(&mut self, op: &str) -> R<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            self.unexpected(&format!("'{op}'"))
        }
    }

    pub(super) fn expect_end(&self) -> R<()> {
        if self.at_end() {
            Ok(())
        } else {
            self.unexpected("the end of the statement")
        }
    }

    pub(super) fn expect_name(&mut self) -> R<Rc<str>> {
        match self.peek() {
            Some(Tok::Name(n)) if !is_keyword(n) => {
                self.pos += 1;
                Ok(n.clone())
            }
            _ => self.unexpected("a name"),
        }
    }

    pub(super) fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return fail(self.line(), format!("unsupported: expression nested too deeply (more than {MAX_NESTING} levels)"));
        }
        Ok(())
    }

    /// `test (',' test)* [',']` — a bare tuple when there is a comma.
    pub(super) fn parse_testlist(&mut self) -> R<Expr> {
        let line = self.line();
        let first = self.parse_test()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_end() || self.is_op("=") || self.is_op(";") {
                break;
            }
            items.push(self.parse_test()?);
        }
        mk(Kind::Tuple(items), line)
    }

    pub(super) fn parse_test(&mut self) -> R<Expr> {
        // The depth is not restored on errors: a parse error ends the whole statement.
        self.enter()?;
        self.check_test_start()?;
        let body = self.parse_prec(PREC_OR)?;
        let e = if self.is_kw("if") || self.is_op(":=") { self.parse_ifexp(body)? } else { body };
        self.depth -= 1;
        Ok(e)
    }

    #[inline(never)]
    pub(super) fn check_test_start(&self) -> R<()> {
        if self.is_kw("lambda") {
            return fail(self.line(), "unsupported: lambda other than `NAME = lambda …` at module level");
        }
        if self.is_kw("yield") || self.is_kw("await") {
            let kw = self.peek().map(Tok::describe).unwrap_or_default();
            return fail(self.line(), format!("unsupported: {kw} expression"));
        }
        if self.is_op("*") {
            return fail(self.line(), "unsupported: starred expression");
        }
        Ok(())
    }

    /// `body if cond else orelse`, the cursor on `if`.
    #[inline(never)]
    pub(super) fn parse_ifexp(&mut self, body: Expr) -> R<Expr> {
        if self.is_op(":=") {
            return fail(self.line(), "unsupported: assignment expression (:=)");
        }
        self.pos += 1;
        let cond = self.parse_prec(PREC_OR)?;
        if !self.eat_kw("else") {
            return self.unexpected("'else'");
        }
        let orelse = self.parse_test()?;
        let line = body.line;
        mk(Kind::IfExp(Box::new(cond), Box::new(body), Box::new(orelse)), line)
    }

    #[cold]
    #[inline(never)]
    pub(super) fn unsupported_operator<T>(&self) -> R<T> {
        let op = self.peek().map(Tok::describe).unwrap_or_default();
        fail(self.line(), format!("unsupported: operator {op}"))
    }

    /// `or_test`: everything but the conditional expression.
    pub(super) fn parse_or(&mut self) -> R<Expr> {
        self.parse_prec(PREC_OR)
    }

    /// Precedence climbing over `or`, `and`, `not`, comparisons, `+ -`, `* / // %`, unary
    /// `- +` and `**`: one small stack frame per nesting level instead of one per grammar
    /// rule.
    pub(super) fn parse_prec(&mut self, min: u8) -> R<Expr> {
        let mut left = self.parse_prefix(min)?;
        loop {
            let (prec, bin) = self.infix_op()?;
            if prec == 0 || prec < min {
                return Ok(left);
            }
            left = self.parse_infix(left, prec, bin)?;
        }
    }

    /// The binding strength of the operator at the cursor (0: none) and its `BinOp`.
    #[inline(never)]
    pub(super) fn infix_op(&self) -> R<(u8, Option<BinOp>)> {
        Ok(match self.peek() {
            Some(Tok::Name(n)) => match &**n {
                "or" => (PREC_OR, None),
                "and" => (PREC_AND, None),
                "in" | "is" => (PREC_CMP, None),
                "not" if matches!(self.peek_at(1), Some(Tok::Name(m)) if &**m == "in") => (PREC_CMP, None),
                _ => (0, None),
            },
            Some(Tok::Op(op)) => match *op {
                "==" | "!=" | "<" | "<=" | ">" | ">=" => (PREC_CMP, None),
                "+" => (PREC_ADD, Some(BinOp::Add)),
                "-" => (PREC_ADD, Some(BinOp::Sub)),
                "*" => (PREC_MUL, Some(BinOp::Mul)),
                "/" => (PREC_MUL, Some(BinOp::Div)),
                "//" => (PREC_MUL, Some(BinOp::FloorDiv)),
                "%" => (PREC_MUL, Some(BinOp::Mod)),
                "|" | "^" | "&" | "<<" | ">>" | "@" => return self.unsupported_operator(),
                _ => (0, None),
            },
            _ => (0, None),
        })
    }

    pub(super) fn parse_prefix(&mut self, min: u8) -> R<Expr> {
        match self.peek() {
            Some(Tok::Name(n)) if &**n == "not" && min <= PREC_NOT => self.parse_unary(None),
            Some(Tok::Op("-")) => self.parse_unary(Some(true)),
            Some(Tok::Op("+")) => self.parse_unary(Some(false)),
            Some(Tok::Op("~")) => self.unsupported_operator(),
            _ => {
                let base = self.parse_primary()?;
                if self.is_op("**") {
                    self.parse_power(base)
                } else {
                    Ok(base)
                }
            }
        }
    }

    /// `not x` (`neg` is `None`), `-x`, `+x`; the cursor on the operator.
    pub(super) fn parse_unary(&mut self, neg: Option<bool>) -> R<Expr> {
        let line = self.line();
        self.pos += 1;
        self.enter()?;
        let operand = self.parse_prec(if neg.is_none() { PREC_NOT } else { PREC_UNARY })?;
        self.depth -= 1;
        let kind = match neg {
            None => Kind::Not(Box::new(operand)),
            Some(neg) => Kind::Unary(neg, Box::new(operand)),
        };
        mk(kind, line)
    }

    /// `base ** exponent`, the cursor on `**` (right-associative, binds tighter than unary
    /// minus on its left: `-2 ** 2 == -4`).
    pub(super) fn parse_power(&mut self, base: Expr) -> R<Expr> {
        let line = self.line();
        self.pos += 1;
        self.enter()?;
        let exp = self.parse_prec(PREC_UNARY)?;
        self.depth -= 1;
        mk(Kind::Bin(BinOp::Pow, Box::new(base), Box::new(exp)), line)
    }

    /// The infix operator at the cursor applied to `left`.
    pub(super) fn parse_infix(&mut self, left: Expr, prec: u8, bin: Option<BinOp>) -> R<Expr> {
        let line = left.line;
        if let Some(op) = bin {
            let op_line = self.line();
            self.pos += 1;
            let right = self.parse_prec(prec + 1)?;
            return mk(Kind::Bin(op, Box::new(left), Box::new(right)), op_line);
        }
        if prec == PREC_CMP {
            return self.parse_comparison_chain(left, line);
        }
        let kw = if prec == PREC_OR { "or" } else { "and" };
        let mut values = vec![left];
        while self.eat_kw(kw) {
            values.push(self.parse_prec(prec + 1)?);
        }
        mk(Kind::BoolOp(prec == PREC_AND, values), line)
    }

    pub(super) fn parse_comparison_chain(&mut self, first: Expr, line: u32) -> R<Expr> {
        let mut rest = Vec::new();
        loop {
            let op = match self.peek() {
                Some(Tok::Op("==")) => CmpOp::Eq,
                Some(Tok::Op("!=")) => CmpOp::Ne,
                Some(Tok::Op("<")) => CmpOp::Lt,
                Some(Tok::Op("<=")) => CmpOp::Le,
                Some(Tok::Op(">")) => CmpOp::Gt,
                Some(Tok::Op(">=")) => CmpOp::Ge,
                Some(Tok::Name(n)) if &**n == "in" => CmpOp::In,
                Some(Tok::Name(n)) if &**n == "is" => {
                    if matches!(self.peek_at(1), Some(Tok::Name(m)) if &**m == "not") {
                        self.pos += 1;
                        CmpOp::IsNot
                    } else {
                        CmpOp::Is
                    }
                }
                Some(Tok::Name(n)) if &**n == "not" && matches!(self.peek_at(1), Some(Tok::Name(m)) if &**m == "in") => {
                    self.pos += 1;
                    CmpOp::NotIn
                }
                _ => break,
            };
            self.pos += 1;
            rest.push((op, self.parse_prec(PREC_ADD)?));
        }
        mk(Kind::Compare(Box::new(first), rest), line)
    }

    pub(super) fn parse_primary(&mut self) -> R<Expr> {
        let mut e = self.parse_atom()?;
        loop {
            let line = self.line();
            if self.eat_op(".") {
                let name = match self.peek() {
                    Some(Tok::Name(n)) => n.clone(),
                    _ => return self.unexpected("an attribute name"),
                };
                self.pos += 1;
                e = mk(Kind::Attr(Box::new(e), name), line)?;
            } else if self.eat_op("(") {
                let (args, kwargs) = self.parse_call_args()?;
                e = mk(Kind::Call(Box::new(CallExpr { func: e, args, kwargs })), line)?;
            } else if self.eat_op("[") {
                e = self.parse_subscript(e, line)?;
            } else {
                return Ok(e);
            }
        }
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn parse_call_args(&mut self) -> R<(Vec<Expr>, Vec<(Rc<str>, Expr)>)> {
        let mut args = Vec::new();
        let mut kwargs: Vec<(Rc<str>, Expr)> = Vec::new();
        while !self.eat_op(")") {
            if self.is_op("*") || self.is_op("**") {
                return fail(self.line(), "unsupported: *args / **kwargs in a call");
            }
            if let (Some(Tok::Name(n)), Some(Tok::Op("="))) = (self.peek(), self.peek_at(1)) {
                if is_keyword(n) {
                    return self.unexpected("an argument");
                }
                let name = n.clone();
                if kwargs.iter().any(|(k, _)| *k == name) {
                    return fail(self.line(), format!("SyntaxError: keyword argument repeated: {name}"));
                }
                self.pos += 2;
                kwargs.push((name, self.parse_test()?));
            } else {
                if !kwargs.is_empty() {
                    return fail(self.line(), "SyntaxError: positional argument follows keyword argument");
                }
                let line = self.line();
                let arg = self.parse_test()?;
                if self.is_kw("for") {
                    if !args.is_empty() {
                        return fail(line, "SyntaxError: Generator expression must be parenthesized");
                    }
                    let clauses = self.parse_comp_clauses()?;
                    args.push(mk(Kind::Comp(Box::new(CompExpr { kind: CompKind::Gen, elt: arg, clauses })), line)?);
                    if !self.is_op(")") {
                        return fail(line, "SyntaxError: Generator expression must be parenthesized");
                    }
                    continue;
                }
                args.push(arg);
            }
            if !self.eat_op(",") {
                self.expect_op(")")?;
                break;
            }
        }
        Ok((args, kwargs))
    }

    pub(super) fn parse_subscript(&mut self, obj: Expr, line: u32) -> R<Expr> {
        let first = if self.is_op(":") { None } else { Some(self.parse_test()?) };
        if self.eat_op(":") {
            let upper = if self.is_op(":") || self.is_op("]") { None } else { Some(self.parse_test()?) };
            let step = if self.eat_op(":") && !self.is_op("]") { Some(self.parse_test()?) } else { None };
            if self.is_op(",") {
                return fail(self.line(), "unsupported: extended slice");
            }
            self.expect_op("]")?;
            return mk(Kind::Slice(Box::new(SliceExpr { obj, parts: [first, upper, step] })), line);
        }
        let Some(first) = first else { return self.unexpected("a subscript") };
        let index = if self.is_op(",") {
            let tline = first.line;
            let mut items = vec![first];
            while self.eat_op(",") {
                if self.is_op("]") {
                    break;
                }
                if self.is_op(":") {
                    return fail(self.line(), "unsupported: extended slice");
                }
                items.push(self.parse_test()?);
            }
            mk(Kind::Tuple(items), tline)?
        } else {
            first
        };
        self.expect_op("]")?;
        mk(Kind::Index(Box::new(obj), Box::new(index)), line)
    }

    pub(super) fn parse_target(&mut self) -> R<Target> {
        let close = if self.eat_op("(") {
            ")"
        } else if self.eat_op("[") {
            "]"
        } else {
            return Ok(Target::Name(self.expect_name()?));
        };
        self.enter()?;
        let list = self.parse_target_list(close);
        self.depth -= 1;
        let t = list?;
        self.expect_op(close)?;
        Ok(t)
    }

    /// `target (',' target)* [',']`, stopping before `stop` (`in`, `)` or `]`).
    pub(super) fn parse_target_list(&mut self, stop: &str) -> R<Target> {
        let first = self.parse_target()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op(stop) || self.is_kw(stop) {
                break;
            }
            items.push(self.parse_target()?);
        }
        Ok(Target::Tuple(items))
    }

    pub(super) fn parse_comp_clauses(&mut self) -> R<Vec<Clause>> {
        let mut clauses = Vec::new();
        while self.eat_kw("for") {
            let target = self.parse_target_list("in")?;
            if !self.eat_kw("in") {
                return self.unexpected("'in'");
            }
            let iter = self.parse_or()?;
            let mut conds = Vec::new();
            while self.eat_kw("if") {
                conds.push(self.parse_or()?);
            }
            clauses.push(Clause { target, iter, conds });
        }
        if self.is_kw("async") {
            return fail(self.line(), "unsupported: async comprehension");
        }
        Ok(clauses)
    }

    pub(super) fn parse_atom(&mut self) -> R<Expr> {
        let line = self.line();
        let Some(tok) = self.peek() else { return self.unexpected("an expression") };
        match tok {
            Tok::Name(n) => {
                let kind = match &**n {
                    "True" => Kind::Const(Const::Bool(true)),
                    "False" => Kind::Const(Const::Bool(false)),
                    "None" => Kind::Const(Const::None),
                    "yield" | "await" | "lambda" => {
                        return fail(line, format!("unsupported: '{n}' expression"));
                    }
                    kw if is_keyword(kw) => return self.unexpected("an expression"),
                    _ => Kind::Name(n.clone()),
                };
                self.pos += 1;
                mk(kind, line)
            }
            Tok::Int(i) => {
                self.pos += 1;
                mk(Kind::Const(Const::Int(*i)), line)
            }
            Tok::Float(f) => {
                self.pos += 1;
                mk(Kind::Const(Const::Float(*f)), line)
            }
            Tok::Str(_) => {
                let mut s = String::new();
                while let Some(Tok::Str(part)) = self.peek() {
                    s.push_str(part);
                    self.pos += 1;
                }
                mk(Kind::Const(Const::Str(Rc::from(s))), line)
            }
            Tok::Op("(") => {
                self.pos += 1;
                self.parse_paren(line)
            }
            Tok::Op("[") => {
                self.pos += 1;
                self.parse_list(line)
            }
            Tok::Op("{") => {
                self.pos += 1;
                self.parse_brace(line)
            }
            Tok::Op("...") => fail(line, "unsupported: Ellipsis in an expression"),
            Tok::Op("*") | Tok::Op("**") => fail(line, "unsupported: starred expression"),
            _ => self.unexpected("an expression"),
        }
    }

    /// After `(`: `()`, `(x)`, `(x,)`, `(x, y)`, `(x for …)`.
    pub(super) fn parse_paren(&mut self, line: u32) -> R<Expr> {
        if self.eat_op(")") {
            return mk(Kind::Tuple(Vec::new()), line);
        }
        let first = self.parse_test()?;
        if self.is_kw("for") {
            let clauses = self.parse_comp_clauses()?;
            self.expect_op(")")?;
            return mk(Kind::Comp(Box::new(CompExpr { kind: CompKind::Gen, elt: first, clauses })), line);
        }
        if self.eat_op(")") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op(")") {
                break;
            }
            items.push(self.parse_test()?);
        }
        self.expect_op(")")?;
        mk(Kind::Tuple(items), line)
    }

    /// After `[`: list display or list comprehension.
    pub(super) fn parse_list(&mut self, line: u32) -> R<Expr> {
        if self.eat_op("]") {
            return mk(Kind::List(Vec::new()), line);
        }
        let first = self.parse_test()?;
        if self.is_kw("for") {
            let clauses = self.parse_comp_clauses()?;
            self.expect_op("]")?;
            return mk(Kind::Comp(Box::new(CompExpr { kind: CompKind::List, elt: first, clauses })), line);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op("]") {
                break;
            }
            items.push(self.parse_test()?);
        }
        self.expect_op("]")?;
        mk(Kind::List(items), line)
    }

    /// After `{`: dict display, set display, set comprehension.
    pub(super) fn parse_brace(&mut self, line: u32) -> R<Expr> {
        if self.eat_op("}") {
            return mk(Kind::Dict(Vec::new()), line);
        }
        if self.is_op("**") {
            return fail(self.line(), "unsupported: ** unpacking in a dict display");
        }
        let first = self.parse_test()?;
        if self.eat_op(":") {
            let value = self.parse_test()?;
            if self.is_kw("for") {
                return fail(self.line(), "unsupported: dict comprehension");
            }
            let mut pairs = vec![(first, value)];
            while self.eat_op(",") {
                if self.is_op("}") {
                    break;
                }
                if self.is_op("**") {
                    return fail(self.line(), "unsupported: ** unpacking in a dict display");
                }
                let k = self.parse_test()?;
                self.expect_op(":")?;
                let v = self.parse_test()?;
                pairs.push((k, v));
            }
            self.expect_op("}")?;
            return mk(Kind::Dict(pairs), line);
        }
        if self.is_kw("for") {
            let clauses = self.parse_comp_clauses()?;
            self.expect_op("}")?;
            return mk(Kind::Comp(Box::new(CompExpr { kind: CompKind::Set, elt: first, clauses })), line);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op("}") {
                break;
            }
            items.push(self.parse_test()?);
        }
        self.expect_op("}")?;
        mk(Kind::Set(items), line)
    }

    /// Parameters up to (not including) `close`: `name [: annotation] [= default]`, …
    pub(super) fn parse_params(&mut self, close: &str, annotations: bool) -> R<Vec<Param>> {
        let mut params: Vec<Param> = Vec::new();
        while !self.is_op(close) {
            if self.is_op("*") || self.is_op("**") || self.is_op("/") {
                return fail(self.line(), "unsupported: *args, **kwargs or / in a parameter list");
            }
            let line = self.line();
            let name = self.expect_name()?;
            if params.iter().any(|p| p.name == name) {
                return fail(line, format!("SyntaxError: duplicate argument '{name}' in function definition"));
            }
            if annotations && self.eat_op(":") {
                self.parse_test()?;
            }
            let default = if self.eat_op("=") { Some(self.parse_test()?) } else { None };
            if default.is_none() && params.iter().any(|p| p.default.is_some()) {
                return fail(line, "SyntaxError: non-default argument follows default argument");
            }
            params.push(Param { name, default });
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(params)
    }

    /// `lambda params: body`, the cursor on `lambda`.
    pub(super) fn parse_lambda(&mut self) -> R<Expr> {
        let line = self.line();
        self.pos += 1;
        let params = self.parse_params(":", false)?;
        self.expect_op(":")?;
        let body = self.parse_test()?;
        let locals = params.iter().map(|p| p.name.clone()).collect();
        let def = FuncDef { name: Rc::from("<lambda>"), params, body: Body::Expr(body), locals, line };
        mk(Kind::Lambda(Rc::new(def)), line)
    }
}

// ---------------------------------------------------------------------------------------
