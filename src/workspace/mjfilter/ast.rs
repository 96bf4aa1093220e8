//! The syntax tree the parsers build and the interpreter walks.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
}

impl BinOp {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "** or pow()",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Is,
    IsNot,
}

impl CmpOp {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
            CmpOp::Is => "is",
            CmpOp::IsNot => "is not",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum CompKind {
    List,
    Set,
    Gen,
}

#[derive(Debug)]
pub(super) enum Const {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(Rc<str>),
}

#[derive(Debug)]
pub(super) enum Target {
    Name(Rc<str>),
    Tuple(Vec<Target>),
}

#[derive(Debug)]
pub(super) struct Clause {
    pub(super) target: Target,
    pub(super) iter: Expr,
    pub(super) conds: Vec<Expr>,
}

#[derive(Debug)]
pub(super) struct Expr {
    pub(super) kind: Kind,
    pub(super) line: u32,
    pub(super) height: u32,
}

#[derive(Debug)]
pub(super) enum Kind {
    Const(Const),
    Name(Rc<str>),
    /// `and` when the flag is true, `or` otherwise.
    BoolOp(bool, Vec<Expr>),
    Not(Box<Expr>),
    /// Unary minus when the flag is true, unary plus otherwise.
    Unary(bool, Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    IfExp(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(Box<CallExpr>),
    Attr(Box<Expr>, Rc<str>),
    Index(Box<Expr>, Box<Expr>),
    Slice(Box<SliceExpr>),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Set(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Comp(Box<CompExpr>),
    Lambda(Rc<FuncDef>),
}

#[derive(Debug)]
pub(super) struct CallExpr {
    pub(super) func: Expr,
    pub(super) args: Vec<Expr>,
    pub(super) kwargs: Vec<(Rc<str>, Expr)>,
}

#[derive(Debug)]
pub(super) struct SliceExpr {
    pub(super) obj: Expr,
    /// start, stop, step
    pub(super) parts: [Option<Expr>; 3],
}

#[derive(Debug)]
pub(super) struct CompExpr {
    pub(super) kind: CompKind,
    pub(super) elt: Expr,
    pub(super) clauses: Vec<Clause>,
}

pub(super) fn kind_height(kind: &Kind) -> u32 {
    fn hv(v: &[Expr]) -> u32 {
        v.iter().map(|e| e.height).max().unwrap_or(0)
    }
    match kind {
        Kind::Const(_) | Kind::Name(_) | Kind::Lambda(_) => 0,
        Kind::BoolOp(_, v) | Kind::List(v) | Kind::Tuple(v) | Kind::Set(v) => hv(v),
        Kind::Not(e) | Kind::Unary(_, e) | Kind::Attr(e, _) => e.height,
        Kind::Bin(_, a, b) | Kind::Index(a, b) => a.height.max(b.height),
        Kind::Compare(a, rest) => rest.iter().map(|(_, e)| e.height).fold(a.height, u32::max),
        Kind::IfExp(a, b, c) => a.height.max(b.height).max(c.height),
        Kind::Call(c) => c.kwargs.iter().map(|(_, e)| e.height).fold(c.func.height.max(hv(&c.args)), u32::max),
        Kind::Slice(s) => s.parts.iter().flatten().map(|e| e.height).fold(s.obj.height, u32::max),
        Kind::Dict(pairs) => pairs.iter().map(|(k, v)| k.height.max(v.height)).max().unwrap_or(0),
        Kind::Comp(c) => {
            c.clauses.iter().map(|c| c.conds.iter().map(|e| e.height).fold(c.iter.height, u32::max)).fold(c.elt.height, u32::max)
        }
    }
}

pub(super) fn mk(kind: Kind, line: u32) -> R<Expr> {
    let height = kind_height(&kind) + 1;
    if height > MAX_HEIGHT {
        return fail(line, format!("unsupported: expression nested too deeply (more than {MAX_HEIGHT} levels)"));
    }
    Ok(Expr { kind, line, height })
}

#[derive(Debug)]
pub(super) struct Param {
    pub(super) name: Rc<str>,
    pub(super) default: Option<Expr>,
}

#[derive(Debug)]
pub(super) enum Body {
    Expr(Expr),
    Block(Vec<Stmt>),
}

#[derive(Debug)]
pub(super) struct FuncDef {
    /// `<lambda>` for lambdas.
    pub(super) name: Rc<str>,
    pub(super) params: Vec<Param>,
    pub(super) body: Body,
    /// Names bound in the body (parameters included): local to the function.
    pub(super) locals: Vec<Rc<str>>,
    pub(super) line: u32,
}

#[derive(Debug)]
pub(super) enum ImportBinding {
    /// A name whose value cannot be known (a module or an object from one).
    Opaque(Rc<str>),
    /// `typing.TYPE_CHECKING`.
    False,
}

#[derive(Debug)]
pub(super) enum Stmt {
    Assign(Vec<Rc<str>>, Expr),
    Def(Rc<FuncDef>),
    Return(Option<Expr>),
    If(Vec<(Expr, Vec<Stmt>)>, Vec<Stmt>),
    Assert(Expr, Option<Expr>),
    Import(Vec<(Rc<str>, ImportBinding)>),
    StarImport,
    Expr(Expr),
    Nop,
    /// Something outside the supported subset; an error only when executed.
    Unsupported(String, u32),
}

pub(super) const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else", "except",
    "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
    "while", "with", "yield",
];

pub(super) fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

// ---------------------------------------------------------------------------------------
