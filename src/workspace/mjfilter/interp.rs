//! The interpreter: runs the module, then calls `main(data)`, within the step and depth limits.

use super::*;

pub(super) struct Interp<'a> {
    pub(super) globals: HashMap<Rc<str>, Val<'a>>,
    /// Locals of the running function plus comprehension variables.
    pub(super) locals: Vec<(Rc<str>, Val<'a>)>,
    pub(super) func: Option<Rc<FuncDef>>,
    pub(super) depth: u32,
    pub(super) calls: u32,
    pub(super) star_import: bool,
}

pub(super) fn const_val<'a>(c: &Const) -> Val<'a> {
    match c {
        Const::None => Val::None,
        Const::Bool(b) => Val::Bool(*b),
        Const::Int(i) => Val::Int(*i),
        Const::Float(f) => Val::Float(*f),
        Const::Str(s) => Val::Str(PStr::O(s.clone())),
    }
}

pub(super) fn run(source: &str, data: &DataNode) -> R<FilterValue> {
    BUDGET.with(|b| b.set(MAX_STEPS));
    let lines = tokenize(source)?;
    let module = parse_module(&lines)?;
    let mut it = Interp {
        globals: HashMap::from([(Rc::from("__name__"), owned_str("mjfilter"))]),
        locals: Vec::new(),
        func: None,
        depth: 0,
        calls: 0,
        star_import: false,
    };
    if it.exec_block(&module)?.is_some() {
        return fail(0, "SyntaxError: 'return' outside function");
    }
    let Some(main) = it.global("main") else {
        let mut msg = "AttributeError: the filter defines no `main` (module has no attribute 'main')".to_string();
        if it.star_import {
            msg = "unsupported: `main` is not defined here (it may come from a `from … import *`)".to_string();
        }
        return fail(0, msg);
    };
    let line = match &main {
        Val::Func(c) => c.def.line,
        _ => 0,
    };
    let result = it.call_value(main, vec![from_node(data)], Vec::new(), line)?;
    let mut repr = py_repr(&result);
    if repr.chars().count() > 200 {
        repr = repr.chars().take(200).collect::<String>() + "…";
    }
    Ok(FilterValue { truthy: truthy(&result, line)?, is_false: matches!(result, Val::Bool(false)), repr })
}

impl<'a> Interp<'a> {
    pub(super) fn global(&self, name: &str) -> Option<Val<'a>> {
        self.globals.get(name).cloned()
    }

    pub(super) fn step(&mut self, line: u32) -> R<()> {
        charge(1, line)
    }

    pub(super) fn assign(&mut self, name: &Rc<str>, v: Val<'a>) {
        if self.func.is_none() {
            self.globals.insert(name.clone(), v);
            return;
        }
        match self.locals.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = v,
            None => self.locals.push((name.clone(), v)),
        }
    }

    pub(super) fn lookup(&self, name: &Rc<str>, line: u32) -> R<Val<'a>> {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            return Ok(v.clone());
        }
        if let Some(f) = &self.func {
            if f.locals.contains(name) {
                return fail(
                    line,
                    format!("UnboundLocalError: cannot access local variable '{name}' where it is not associated with a value"),
                );
            }
        }
        if let Some(v) = self.globals.get(name) {
            return Ok(v.clone());
        }
        if let Some(b) = BUILTINS.iter().find(|b| **b == &**name) {
            return Ok(Val::Builtin(b));
        }
        if OTHER_BUILTINS.contains(&&**name) || name.ends_with("Error") || name.ends_with("Exception") || name.ends_with("Warning") {
            return fail(line, format!("unsupported: builtin '{name}'"));
        }
        if self.star_import {
            return fail(line, format!("unsupported: name '{name}' may come from a `from … import *`"));
        }
        fail(line, format!("NameError: name '{name}' is not defined"))
    }

    // ---- statements

    pub(super) fn exec_block(&mut self, stmts: &[Stmt]) -> R<Option<Val<'a>>> {
        for s in stmts {
            if let Some(v) = self.exec(s)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    pub(super) fn exec(&mut self, s: &Stmt) -> R<Option<Val<'a>>> {
        match s {
            Stmt::Assign(names, value) => {
                let v = self.eval(value)?;
                for n in names {
                    self.assign(n, v.clone());
                }
            }
            Stmt::Def(def) => {
                let c = self.make_closure(def)?;
                self.assign(&def.name, c);
            }
            Stmt::Return(value) => {
                let v = match value {
                    Some(e) => self.eval(e)?,
                    None => Val::None,
                };
                return Ok(Some(v));
            }
            Stmt::If(branches, orelse) => {
                for (cond, body) in branches {
                    let c = self.eval(cond)?;
                    if truthy(&c, cond.line)? {
                        return self.exec_block(body);
                    }
                }
                return self.exec_block(orelse);
            }
            Stmt::Assert(cond, msg) => self.exec_assert(cond, msg.as_ref())?,
            Stmt::Import(bindings) => {
                for (name, b) in bindings {
                    let v = match b {
                        ImportBinding::Opaque(d) => Val::Opaque(d.clone()),
                        ImportBinding::False => Val::Bool(false),
                    };
                    self.assign(name, v);
                }
            }
            Stmt::StarImport => self.star_import = true,
            Stmt::Expr(e) => {
                self.eval(e)?;
            }
            Stmt::Nop => {}
            Stmt::Unsupported(msg, line) => return fail(*line, msg.clone()),
        }
        Ok(None)
    }

    pub(super) fn exec_assert(&mut self, cond: &Expr, msg: Option<&Expr>) -> R<()> {
        let c = self.eval(cond)?;
        if truthy(&c, cond.line)? {
            return Ok(());
        }
        let text = match msg {
            Some(m) => {
                let v = self.eval(m)?;
                format!("AssertionError: {}", py_str(&v, m.line)?)
            }
            None => "AssertionError".to_string(),
        };
        fail(cond.line, text)
    }

    pub(super) fn make_closure(&mut self, def: &Rc<FuncDef>) -> R<Val<'a>> {
        let mut defaults = Vec::with_capacity(def.params.len());
        for p in &def.params {
            defaults.push(match &p.default {
                Some(e) => Some(self.eval(e)?),
                None => None,
            });
        }
        Ok(Val::Func(Rc::new(Closure { def: def.clone(), defaults })))
    }

    pub(super) fn call_value(&mut self, f: Val<'a>, args: Vec<Val<'a>>, kwargs: Vec<(Rc<str>, Val<'a>)>, line: u32) -> R<Val<'a>> {
        match f {
            Val::Func(c) => self.call_func(&c, args, kwargs, line),
            Val::Opaque(d) => opaque_err(&d, line),
            Val::Builtin(b) => fail(line, format!("unsupported: calling builtin '{b}' indirectly")),
            other => fail(line, format!("TypeError: '{}' object is not callable", type_name(&other))),
        }
    }

    pub(super) fn call_func(&mut self, c: &Rc<Closure<'a>>, args: Vec<Val<'a>>, kwargs: Vec<(Rc<str>, Val<'a>)>, line: u32) -> R<Val<'a>> {
        let frame = bind_args(c, args, kwargs, line)?;
        let def = &c.def;
        if self.calls >= MAX_CALL_DEPTH {
            return fail(line, "RecursionError: maximum recursion depth exceeded");
        }
        self.enter_eval(CALL_WEIGHT, line)?;
        self.calls += 1;
        let saved_locals = std::mem::replace(&mut self.locals, frame);
        let saved_func = self.func.replace(def.clone());
        let r = match &def.body {
            Body::Expr(e) => self.eval(e),
            Body::Block(b) => self.exec_block(b).map(|v| v.unwrap_or(Val::None)),
        };
        self.locals = saved_locals;
        self.func = saved_func;
        self.calls -= 1;
        self.depth -= CALL_WEIGHT;
        r
    }

    // ---- expressions

    pub(super) fn enter_eval(&mut self, weight: u32, line: u32) -> R<()> {
        if self.depth + weight > MAX_EVAL_DEPTH {
            return fail(line, "unsupported: expression evaluation nested too deeply");
        }
        self.depth += weight;
        Ok(())
    }

    pub(super) fn eval(&mut self, e: &Expr) -> R<Val<'a>> {
        self.enter_eval(1, e.line)?;
        self.step(e.line)?;
        let r = self.eval_kind(e);
        self.depth -= 1;
        r
    }

    /// A thin dispatcher: the work happens in one helper per kind, so that only small
    /// frames pile up when expressions nest.
    pub(super) fn eval_kind(&mut self, e: &Expr) -> R<Val<'a>> {
        match &e.kind {
            Kind::Const(c) => Ok(const_val(c)),
            Kind::Name(n) => self.lookup(n, e.line),
            Kind::BoolOp(is_and, values) => self.eval_boolop(*is_and, values),
            Kind::Not(x) => self.eval_not(x),
            Kind::Unary(neg, x) => self.eval_unary(*neg, x, e.line),
            Kind::Bin(op, a, b) => self.eval_bin(*op, a, b, e.line),
            Kind::Compare(first, rest) => self.eval_compare(first, rest),
            Kind::IfExp(cond, then, orelse) => self.eval_ifexp(cond, then, orelse),
            Kind::Call(c) => self.eval_call(c, e.line),
            Kind::Attr(obj, name) => self.eval_attr(obj, name, e.line),
            Kind::Index(obj, idx) => self.eval_index(obj, idx, e.line),
            Kind::Slice(sl) => self.eval_slice(&sl.obj, &sl.parts, e.line),
            Kind::List(items) => self.eval_list(items),
            Kind::Tuple(items) => self.eval_tuple(items),
            Kind::Set(items) => self.eval_set(items, e.line),
            Kind::Dict(pairs) => self.eval_dict(pairs),
            Kind::Comp(c) => self.eval_comp(c, e.line),
            Kind::Lambda(def) => self.make_closure(def),
        }
    }

    pub(super) fn eval_not(&mut self, x: &Expr) -> R<Val<'a>> {
        let v = self.eval(x)?;
        Ok(Val::Bool(!truthy(&v, x.line)?))
    }

    pub(super) fn eval_unary(&mut self, neg: bool, x: &Expr, line: u32) -> R<Val<'a>> {
        let v = self.eval(x)?;
        unary(neg, v, line)
    }

    pub(super) fn eval_bin(&mut self, op: BinOp, a: &Expr, b: &Expr, line: u32) -> R<Val<'a>> {
        let x = self.eval(a)?;
        let y = self.eval(b)?;
        binop(op, x, y, line)
    }

    pub(super) fn eval_ifexp(&mut self, cond: &Expr, then: &Expr, orelse: &Expr) -> R<Val<'a>> {
        let c = self.eval(cond)?;
        let branch = if truthy(&c, cond.line)? { then } else { orelse };
        self.eval(branch)
    }

    pub(super) fn eval_attr(&mut self, obj: &Expr, name: &str, line: u32) -> R<Val<'a>> {
        let v = self.eval(obj)?;
        attr_error(&v, name, line)
    }

    pub(super) fn eval_index(&mut self, obj: &Expr, idx: &Expr, line: u32) -> R<Val<'a>> {
        let o = self.eval(obj)?;
        let i = self.eval(idx)?;
        subscript(&o, &i, line)
    }

    pub(super) fn eval_list(&mut self, items: &[Expr]) -> R<Val<'a>> {
        Ok(Val::List(Rc::new(self.eval_all(items)?)))
    }

    pub(super) fn eval_tuple(&mut self, items: &[Expr]) -> R<Val<'a>> {
        Ok(Val::Tuple(Rc::new(self.eval_all(items)?)))
    }

    pub(super) fn eval_set(&mut self, items: &[Expr], line: u32) -> R<Val<'a>> {
        let v = self.eval_all(items)?;
        Ok(Val::Set(Rc::new(dedupe(v, line)?)))
    }

    pub(super) fn eval_dict(&mut self, pairs: &[(Expr, Expr)]) -> R<Val<'a>> {
        let mut entries: Vec<(Val<'a>, Val<'a>)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let key = self.eval(k)?;
            let value = self.eval(v)?;
            dict_insert(&mut entries, key, value, k.line)?;
        }
        Ok(Val::Dict(Rc::new(entries)))
    }

    pub(super) fn eval_comp(&mut self, c: &CompExpr, line: u32) -> R<Val<'a>> {
        let mut out = Vec::new();
        self.comp_for_each(&c.clauses, 0, &c.elt, &mut |_, v| {
            out.push(v);
            Ok(false)
        })?;
        Ok(match c.kind {
            CompKind::List => Val::List(Rc::new(out)),
            CompKind::Set => Val::Set(Rc::new(dedupe(out, line)?)),
            CompKind::Gen => Val::Gen(Rc::new(out)),
        })
    }

    pub(super) fn eval_all(&mut self, items: &[Expr]) -> R<Vec<Val<'a>>> {
        items.iter().map(|e| self.eval(e)).collect()
    }

    pub(super) fn eval_boolop(&mut self, is_and: bool, values: &[Expr]) -> R<Val<'a>> {
        let mut last = Val::None;
        for (i, e) in values.iter().enumerate() {
            last = self.eval(e)?;
            if i + 1 == values.len() {
                break;
            }
            let t = truthy(&last, e.line)?;
            if t != is_and {
                break;
            }
        }
        Ok(last)
    }

    pub(super) fn eval_compare(&mut self, first: &Expr, rest: &[(CmpOp, Expr)]) -> R<Val<'a>> {
        let mut left = self.eval(first)?;
        for (op, rhs) in rest {
            let right = self.eval(rhs)?;
            let line = rhs.line;
            let ok = match op {
                CmpOp::Eq => py_eq(&left, &right, line, 0)?,
                CmpOp::Ne => !py_eq(&left, &right, line, 0)?,
                CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => rich_cmp(*op, &left, &right, line, 0)?,
                CmpOp::In => contains(&right, &left, line)?,
                CmpOp::NotIn => !contains(&right, &left, line)?,
                CmpOp::Is => is_same(&left, &right, line)?,
                CmpOp::IsNot => !is_same(&left, &right, line)?,
            };
            if !ok {
                return Ok(Val::Bool(false));
            }
            left = right;
        }
        Ok(Val::Bool(true))
    }

    pub(super) fn eval_slice(&mut self, obj: &Expr, parts: &[Option<Expr>; 3], line: u32) -> R<Val<'a>> {
        let o = self.eval(obj)?;
        let mut vals: [Option<Val<'a>>; 3] = [None, None, None];
        for (slot, part) in vals.iter_mut().zip(parts) {
            if let Some(p) = part {
                *slot = Some(self.eval(p)?);
            }
        }
        slice_value(&o, vals, line)
    }

    /// Runs a comprehension, calling `f` with each produced element; `f` returns `true` to
    /// stop early (used by `any`/`all`). Returns whether it stopped early.
    pub(super) fn comp_for_each(
        &mut self,
        clauses: &[Clause],
        ci: usize,
        elt: &Expr,
        f: &mut dyn FnMut(&mut Self, Val<'a>) -> R<bool>,
    ) -> R<bool> {
        // Comprehension levels use more stack than plain expressions: weigh them more.
        self.enter_eval(COMP_WEIGHT, elt.line)?;
        let r = self.comp_level(clauses, ci, elt, f);
        self.depth -= COMP_WEIGHT;
        r
    }

    pub(super) fn comp_level(
        &mut self,
        clauses: &[Clause],
        ci: usize,
        elt: &Expr,
        f: &mut dyn FnMut(&mut Self, Val<'a>) -> R<bool>,
    ) -> R<bool> {
        let Some(clause) = clauses.get(ci) else {
            let v = self.eval(elt)?;
            return f(self, v);
        };
        let iterable = self.eval(&clause.iter)?;
        let items = iterate(&iterable, clause.iter.line)?;
        for item in items {
            self.step(clause.iter.line)?;
            let mark = self.locals.len();
            self.bind_target(&clause.target, item, clause.iter.line)?;
            let mut keep = true;
            for cond in &clause.conds {
                let c = self.eval(cond)?;
                if !truthy(&c, cond.line)? {
                    keep = false;
                    break;
                }
            }
            let stopped = if keep { self.comp_for_each(clauses, ci + 1, elt, f)? } else { false };
            self.locals.truncate(mark);
            if stopped {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub(super) fn bind_target(&mut self, target: &Target, v: Val<'a>, line: u32) -> R<()> {
        match target {
            Target::Name(n) => {
                self.locals.push((n.clone(), v));
                Ok(())
            }
            Target::Tuple(targets) => {
                let items = match &v {
                    Val::Opaque(d) => return opaque_err(d, line),
                    Val::None | Val::Bool(_) | Val::Int(_) | Val::Float(_) | Val::Date(_) | Val::Func(_) | Val::Builtin(_) => {
                        return fail(line, format!("TypeError: cannot unpack non-iterable {} object", type_name(&v)))
                    }
                    _ => iterate(&v, line)?,
                };
                if items.len() > targets.len() {
                    return fail(line, format!("ValueError: too many values to unpack (expected {})", targets.len()));
                }
                if items.len() < targets.len() {
                    return fail(
                        line,
                        format!("ValueError: not enough values to unpack (expected {}, got {})", targets.len(), items.len()),
                    );
                }
                for (t, item) in targets.iter().zip(items) {
                    self.bind_target(t, item, line)?;
                }
                Ok(())
            }
        }
    }

    pub(super) fn eval_call(&mut self, c: &CallExpr, line: u32) -> R<Val<'a>> {
        if let Kind::Attr(obj, name) = &c.func.kind {
            let recv = self.eval(obj)?;
            return self.call_method(recv, name, &c.args, &c.kwargs, line);
        }
        let f = self.eval(&c.func)?;
        match f {
            Val::Builtin(b) => self.call_builtin(b, &c.args, &c.kwargs, line),
            Val::Func(func) => {
                let argv = self.eval_all(&c.args)?;
                let kwv = self.eval_kwargs(&c.kwargs)?;
                self.call_func(&func, argv, kwv, line)
            }
            other => self.call_value(other, Vec::new(), Vec::new(), line),
        }
    }

    pub(super) fn eval_kwargs(&mut self, kwargs: &[(Rc<str>, Expr)]) -> R<Vec<(Rc<str>, Val<'a>)>> {
        let mut out = Vec::with_capacity(kwargs.len());
        for (k, e) in kwargs {
            out.push((k.clone(), self.eval(e)?));
        }
        Ok(out)
    }

    pub(super) fn call_method(&mut self, recv: Val<'a>, name: &str, args: &[Expr], kwargs: &[(Rc<str>, Expr)], line: u32) -> R<Val<'a>> {
        check_method(&recv, name, kwargs.is_empty(), line)?;
        let argv = self.eval_all(args)?;
        apply_method(recv, name, argv, line)
    }

    pub(super) fn call_builtin(&mut self, name: &'static str, args: &[Expr], kwargs: &[(Rc<str>, Expr)], line: u32) -> R<Val<'a>> {
        if !kwargs.is_empty() {
            return fail(line, format!("unsupported: keyword arguments to {name}()"));
        }
        match name {
            "any" | "all" => self.eval_any_all(name == "any", args, line),
            "isinstance" => {
                arity_exact("isinstance", args.len(), 2, line)?;
                let v = self.eval(&args[0])?;
                let ty = self.eval(&args[1])?;
                isinstance(&v, &ty, line)
            }
            _ => {
                let argv = self.eval_all(args)?;
                apply_builtin(name, argv, line)
            }
        }
    }

    pub(super) fn eval_any_all(&mut self, is_any: bool, args: &[Expr], line: u32) -> R<Val<'a>> {
        arity_exact(if is_any { "any" } else { "all" }, args.len(), 1, line)?;
        let arg = &args[0];
        if let Kind::Comp(c) = &arg.kind {
            if c.kind == CompKind::Gen {
                // Lazily, like Python's generator: stop at the first deciding element.
                let elt_line = c.elt.line;
                let mut decided = false;
                self.comp_for_each(&c.clauses, 0, &c.elt, &mut |_, v| {
                    decided = truthy(&v, elt_line)? == is_any;
                    Ok(decided)
                })?;
                return Ok(Val::Bool(if decided { is_any } else { !is_any }));
            }
        }
        let v = self.eval(arg)?;
        for item in iterate(&v, arg.line)? {
            if truthy(&item, arg.line)? == is_any {
                return Ok(Val::Bool(is_any));
            }
        }
        Ok(Val::Bool(!is_any))
    }
}

/// Binds call arguments to a function's parameters, with Python's error messages.
pub(super) fn bind_args<'a>(c: &Closure<'a>, args: Vec<Val<'a>>, kwargs: Vec<(Rc<str>, Val<'a>)>, line: u32) -> R<Vec<(Rc<str>, Val<'a>)>> {
    let def = &c.def;
    let name = &def.name;
    let np = def.params.len();
    if args.len() > np {
        let s = if np == 1 { "" } else { "s" };
        let were = if args.len() == 1 { "was" } else { "were" };
        return fail(line, format!("TypeError: {name}() takes {np} positional argument{s} but {} {were} given", args.len()));
    }
    let mut slots: Vec<Option<Val<'a>>> = args.into_iter().map(Some).collect();
    slots.resize(np, None);
    for (k, v) in kwargs {
        let Some(i) = def.params.iter().position(|p| p.name == k) else {
            return fail(line, format!("TypeError: {name}() got an unexpected keyword argument '{k}'"));
        };
        if slots[i].is_some() {
            return fail(line, format!("TypeError: {name}() got multiple values for argument '{k}'"));
        }
        slots[i] = Some(v);
    }
    let mut frame = Vec::with_capacity(np);
    let mut missing = Vec::new();
    for (i, slot) in slots.into_iter().enumerate() {
        match slot.or_else(|| c.defaults[i].clone()) {
            Some(v) => frame.push((def.params[i].name.clone(), v)),
            None => missing.push(format!("'{}'", def.params[i].name)),
        }
    }
    if !missing.is_empty() {
        let s = if missing.len() == 1 { "" } else { "s" };
        let list = match missing.len() {
            1 => missing[0].clone(),
            n => format!("{} and {}", missing[..n - 1].join(", "), missing[n - 1]),
        };
        return fail(line, format!("TypeError: {name}() missing {} required positional argument{s}: {list}", missing.len()));
    }
    Ok(frame)
}

/// Inserts into a dict display, Python style (a repeated key keeps its first position).
pub(super) fn dict_insert<'a>(entries: &mut Vec<(Val<'a>, Val<'a>)>, key: Val<'a>, value: Val<'a>, line: u32) -> R<()> {
    check_hashable(&key, line)?;
    for entry in entries.iter_mut() {
        if py_eq(&entry.0, &key, line, 0)? {
            entry.1 = value;
            return Ok(());
        }
    }
    entries.push((key, value));
    Ok(())
}

pub(super) fn unary<'a>(neg: bool, v: Val<'a>, line: u32) -> R<Val<'a>> {
    match (as_num(&v), neg) {
        (Some(Num::I(i)), true) => i.checked_neg().map(Val::Int).map_or_else(|| int_overflow(line), Ok),
        (Some(Num::I(i)), false) => Ok(Val::Int(i)),
        (Some(Num::F(f)), true) => Ok(Val::Float(-f)),
        (Some(Num::F(f)), false) => Ok(Val::Float(f)),
        (None, _) => {
            if let Val::Opaque(d) = &v {
                return opaque_err(d, line);
            }
            let op = if neg { '-' } else { '+' };
            fail(line, format!("TypeError: bad operand type for unary {op}: '{}'", type_name(&v)))
        }
    }
}

pub(super) fn isinstance<'a>(v: &Val, ty: &Val, line: u32) -> R<Val<'a>> {
    let types: Vec<Val> = match ty {
        Val::Tuple(items) => items.as_ref().clone(),
        _ => vec![ty.clone()],
    };
    if let Val::Opaque(d) = v {
        return opaque_err(d, line);
    }
    let mut hit = false;
    for t in &types {
        match t {
            Val::Builtin(b) if TYPE_BUILTINS.contains(b) => hit |= isinstance_of(v, b),
            Val::Opaque(d) => return opaque_err(d, line),
            _ => return fail(line, "TypeError: isinstance() arg 2 must be a type, a tuple of types, or a union"),
        }
    }
    Ok(Val::Bool(hit))
}

/// Checks that `recv.name(...)` is a method call this evaluator supports; otherwise the
/// AttributeError Python raises (before evaluating the arguments) or "unsupported".
pub(super) fn check_method(recv: &Val, name: &str, no_kwargs: bool, line: u32) -> R<()> {
    let supported = match recv {
        Val::DMap(_) | Val::Dict(_) => matches!(name, "get" | "keys" | "values" | "items"),
        Val::Str(_) => matches!(name, "startswith" | "endswith" | "lower" | "upper" | "strip" | "lstrip" | "rstrip"),
        _ => false,
    };
    if !supported {
        return attr_error(recv, name, line);
    }
    if !no_kwargs {
        return fail(line, format!("TypeError: {}.{name}() takes no keyword arguments", type_name(recv)));
    }
    Ok(())
}

pub(super) fn apply_method<'a>(recv: Val<'a>, name: &str, argv: Vec<Val<'a>>, line: u32) -> R<Val<'a>> {
    let tn = type_name(&recv);
    let n = argv.len();
    let no_args = |line| -> R<()> {
        if n == 0 {
            Ok(())
        } else {
            fail(line, format!("TypeError: {tn}.{name}() takes no arguments ({n} given)"))
        }
    };
    match (&recv, name) {
        (_, "get") => {
            if n == 0 {
                return fail(line, "TypeError: get expected at least 1 argument, got 0");
            }
            arity_max("get", n, 2, line)?;
            Ok(dict_lookup(&recv, &argv[0], line, 0)?.unwrap_or_else(|| argv.get(1).cloned().unwrap_or(Val::None)))
        }
        (_, "keys") => {
            no_args(line)?;
            Ok(Val::View(ViewKind::Keys, Rc::new(iterate(&recv, line)?)))
        }
        (_, "values") => {
            no_args(line)?;
            let v = dict_items(&recv).unwrap_or_default().into_iter().map(|(_, v)| v).collect();
            Ok(Val::View(ViewKind::Values, Rc::new(v)))
        }
        (_, "items") => {
            no_args(line)?;
            let v = dict_items(&recv).unwrap_or_default().into_iter().map(|(k, v)| Val::Tuple(Rc::new(vec![k, v]))).collect();
            Ok(Val::View(ViewKind::Items, Rc::new(v)))
        }
        (Val::Str(s), "startswith" | "endswith") => {
            if n == 0 {
                return fail(line, format!("TypeError: {name}() takes at least 1 argument (0 given)"));
            }
            if n > 1 {
                return fail(line, format!("unsupported: start/end arguments of str.{name}()"));
            }
            let s = s.as_str();
            let test = |p: &str| if name == "startswith" { s.starts_with(p) } else { s.ends_with(p) };
            match &argv[0] {
                Val::Str(p) => Ok(Val::Bool(test(p.as_str()))),
                Val::Tuple(items) => {
                    for item in items.iter() {
                        match item {
                            Val::Str(p) => {
                                if test(p.as_str()) {
                                    return Ok(Val::Bool(true));
                                }
                            }
                            other => {
                                return fail(line, format!("TypeError: tuple for {name} must only contain str, not {}", type_name(other)))
                            }
                        }
                    }
                    Ok(Val::Bool(false))
                }
                other => fail(line, format!("TypeError: {name} first arg must be str or a tuple of str, not {}", type_name(other))),
            }
        }
        (Val::Str(s), "lower" | "upper") => {
            no_args(line)?;
            let s = s.as_str();
            Ok(owned_str(if name == "lower" { s.to_lowercase() } else { s.to_uppercase() }))
        }
        (Val::Str(s), _) => {
            arity_max(name, n, 1, line)?;
            let s = s.as_str();
            let out = match argv.first() {
                None | Some(Val::None) => match name {
                    "strip" => s.trim_matches(is_py_space),
                    "lstrip" => s.trim_start_matches(is_py_space),
                    _ => s.trim_end_matches(is_py_space),
                },
                Some(Val::Str(chars)) => {
                    let set: Vec<char> = chars.as_str().chars().collect();
                    let pred = |c: char| set.contains(&c);
                    match name {
                        "strip" => s.trim_matches(pred),
                        "lstrip" => s.trim_start_matches(pred),
                        _ => s.trim_end_matches(pred),
                    }
                }
                Some(other) => return fail(line, format!("TypeError: {name} arg must be None or str, not {}", type_name(other))),
            };
            Ok(owned_str(out))
        }
        _ => attr_error(&recv, name, line),
    }
}

/// Builtins other than `any`, `all` and `isinstance`, applied to evaluated arguments.
pub(super) fn apply_builtin<'a>(name: &'static str, argv: Vec<Val<'a>>, line: u32) -> R<Val<'a>> {
    let n = argv.len();
    match name {
        "bool" => {
            arity_max("bool", n, 1, line)?;
            match argv.first() {
                None => Ok(Val::Bool(false)),
                Some(v) => Ok(Val::Bool(truthy(v, line)?)),
            }
        }
        "len" => {
            arity_exact("len", n, 1, line)?;
            Ok(Val::Int(py_len(&argv[0], line)? as i128))
        }
        "str" => match argv.first() {
            None => Ok(owned_str("")),
            Some(v) if n == 1 => Ok(owned_str(py_str(v, line)?)),
            Some(_) => fail(line, "unsupported: str() with an encoding"),
        },
        "int" => match argv.first() {
            None => Ok(Val::Int(0)),
            Some(v) if n == 1 => py_int(v, line),
            Some(_) => fail(line, "unsupported: int() with a base"),
        },
        "float" => {
            arity_max("float", n, 1, line)?;
            match argv.first() {
                None => Ok(Val::Float(0.0)),
                Some(v) => py_float(v, line),
            }
        }
        "list" | "tuple" | "set" => {
            arity_max(name, n, 1, line)?;
            let items = match argv.first() {
                None => Vec::new(),
                Some(v) => iterate(v, line)?,
            };
            Ok(match name {
                "list" => Val::List(Rc::new(items)),
                "tuple" => Val::Tuple(Rc::new(items)),
                _ => Val::Set(Rc::new(dedupe(items, line)?)),
            })
        }
        "dict" => match argv.first() {
            None => Ok(Val::Dict(Rc::new(Vec::new()))),
            Some(v @ (Val::DMap(_) | Val::Dict(_))) if n == 1 => Ok(Val::Dict(Rc::new(dict_items(v).unwrap_or_default()))),
            Some(_) => fail(line, "unsupported: dict() from anything but a dict"),
        },
        _ => fail(line, format!("unsupported: builtin '{name}'")),
    }
}
