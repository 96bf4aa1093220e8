//! Evaluates makejinja `.mjfilter.py` path filters without running Python.
//!
//! The cluster templates' makejinja plugin imports every `.mjfilter.py` below the inputs,
//! calls its `main(data)` with the merged data dict, and skips the directory holding the
//! file when the result `is False`:
//!
//! ```python
//! if filter_func(data) is False:
//!     self._excluded_dirs.add(filter_file.parent)
//! ```
//!
//! So only the exact value `False` skips; `None`, `0` or `""` render the directory. That is
//! the rule [`evaluate_filter`] applies; [`evaluate_filter_value`] returns the value's
//! description so a caller can apply another rule.
//!
//! Filters are nearly always one-line lambdas over the data dict, so this module implements
//! a small, side-effect-free subset of Python:
//!
//! * module level: `import` / `from … import …` (names become opaque; using one is
//!   "unknown", except `typing.TYPE_CHECKING`, which is `False`), `NAME = EXPR`,
//!   `NAME: ANN = EXPR`, `main = lambda data: EXPR`, `def NAME(params): …` with a body of
//!   assignments, `if`/`elif`/`else`, `return`, `assert`, `pass` and docstrings,
//!   `if __name__ == "__main__":` (never taken), comments, `;`, backslash and bracket
//!   continuation;
//! * expressions: `or and not`, chained comparisons (`< <= > >= == != in not in is is not`),
//!   `+ - * / // % **`, unary `- +`, `A if C else B`, literals (int, float, str with any
//!   quoting and escapes, `True False None`, list, tuple, dict, set), subscripts and slices,
//!   list/set/generator comprehensions (`for` targets may be tuples, several `for`/`if`
//!   clauses), calls of user functions defined in the module;
//! * builtins `bool len any all str int float list tuple dict set isinstance`; methods
//!   `dict.get/keys/values/items`, `str.startswith/endswith/lower/upper/strip/lstrip/rstrip`.
//!
//! Values follow Python semantics (messages as CPython 3.11–3.13 print them): truthiness,
//! `and`/`or` return an operand, `True == 1`, `1 == 1.0`, `x is False` is identity on the
//! bool singletons, `any`/`all` short-circuit over generators. A Python exception
//! (`KeyError`, `TypeError`, …) is reported as [`FilterOutcome::Unknown`] with Python's
//! message (e.g. `KeyError: 'x'`), since makejinja itself would crash.
//!
//! Anything outside the subset is [`FilterOutcome::Unknown`] with a reason starting with
//! `unsupported:` (or `invalid syntax:` when the parser gives up) and the 0-based line.
//! Problems inside a function or branch that never runs are not reported, as in Python.
//! Evaluation never panics and always terminates: nesting (50 levels), expression height,
//! call depth and evaluation steps are bounded, and the recursive paths keep their stack
//! frames small (the deepest accepted input runs in under 1 MiB of stack in a debug build).
//!
//! Not supported (reported as unknown): `for`/`while`/`try`/`with`/`class`/`match`
//! statements, decorators, nested functions and lambdas other than `NAME = lambda …` at
//! module level, f-strings with replacement fields, bytes, complex numbers, `%`-formatting,
//! bitwise operators, `:=`, `*args`/`**kwargs`, dict comprehensions, tuple-target
//! assignment, augmented assignment, and the builtins and methods not listed above
//! (`sorted`, `str.split`, …). Imported names are opaque.

use crate::workspace::data::{DataEntry, DataNode, DataValue};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

/// What makejinja would do with the directory holding a `.mjfilter.py`.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterOutcome {
    /// `main(data)` returns something other than `False`: the directory renders.
    Render,
    /// `main(data) is False`: the directory (and everything below it) is skipped.
    Skip,
    /// The filter could not be evaluated: unsupported Python, or Python would raise.
    /// `line` is 0-based.
    Unknown { reason: String, line: u32 },
}

/// The value `main(data)` returned.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterValue {
    /// Python's `repr()` of the value, shortened to about 200 characters.
    pub repr: String,
    /// Python truthiness of the value.
    pub truthy: bool,
    /// The value is exactly `False` (what the makejinja plugin tests with `is False`).
    pub is_false: bool,
}

/// Why a filter could not be evaluated. `line` is 0-based.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterError {
    pub reason: String,
    pub line: u32,
}

/// Evaluates the `.mjfilter.py` `source` against the merged data root, applying the
/// makejinja plugin's rule: skip the directory when `main(data) is False`.
pub fn evaluate_filter(source: &str, data: &DataNode) -> FilterOutcome {
    match evaluate_filter_value(source, data) {
        Ok(v) if v.is_false => FilterOutcome::Skip,
        Ok(_) => FilterOutcome::Render,
        Err(e) => FilterOutcome::Unknown { reason: e.reason, line: e.line },
    }
}

/// Runs the module and calls `main(data)`, returning a description of the result.
pub fn evaluate_filter_value(source: &str, data: &DataNode) -> Result<FilterValue, FilterError> {
    run(source, data).map_err(|e| FilterError { reason: e.msg, line: e.line })
}

// ---------------------------------------------------------------------------------------
// Limits

/// Brackets open at once (CPython's tokenizer limit).
const MAX_BRACKETS: usize = 200;
/// Nested sub-expressions the parser descends into.
const MAX_NESTING: u32 = 50;

// Binding strength of the operators `parse_prec` handles.
const PREC_OR: u8 = 1;
const PREC_AND: u8 = 2;
const PREC_NOT: u8 = 3;
const PREC_CMP: u8 = 4;
const PREC_ADD: u8 = 5;
const PREC_MUL: u8 = 6;
const PREC_UNARY: u8 = 7;
/// Height of an expression tree (bounds left-deep chains such as `a + b + c + …`).
const MAX_HEIGHT: u32 = 200;
/// Nested indented blocks.
const MAX_BLOCK_NESTING: u32 = 30;
/// Nested `eval` calls, across function calls (comprehension levels and calls weigh more).
const MAX_EVAL_DEPTH: u32 = 300;
/// Weight of a comprehension level and of a user function call in the eval depth.
const COMP_WEIGHT: u32 = 4;
const CALL_WEIGHT: u32 = 4;
/// Nested calls of user functions.
const MAX_CALL_DEPTH: u32 = 20;
/// Evaluation steps: expression nodes, loop iterations and value comparisons.
const MAX_STEPS: u64 = 2_000_000;
/// Length of a sequence built by repetition (`[0] * n`, `"a" * n`).
const MAX_SEQ_LEN: i128 = 1_000_000;
/// Nesting of values compared or printed.
const MAX_VALUE_DEPTH: u32 = 100;

// ---------------------------------------------------------------------------------------
// Errors

/// Boxed so that `Result`s stay small: the parser and evaluator recurse, and debug builds
/// give every temporary its own stack slot.
type PyErr = Box<ErrInfo>;

#[derive(Debug)]
struct ErrInfo {
    msg: String,
    line: u32,
    /// Indentation errors: the block structure itself is unusable.
    structural: bool,
}

type R<T> = Result<T, PyErr>;

fn fail<T>(line: u32, msg: impl Into<String>) -> R<T> {
    Err(Box::new(ErrInfo { msg: msg.into(), line, structural: false }))
}

fn fail_structural<T>(line: u32, msg: impl Into<String>) -> R<T> {
    Err(Box::new(ErrInfo { msg: msg.into(), line, structural: true }))
}

// ---------------------------------------------------------------------------------------
// Tokenizer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(Rc<str>),
    Int(i128),
    Float(f64),
    Str(Rc<str>),
    Op(&'static str),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Name(n) => format!("'{n}'"),
            Tok::Int(i) => format!("'{i}'"),
            Tok::Float(f) => format!("'{}'", float_repr(*f)),
            Tok::Str(_) => "a string literal".to_string(),
            Tok::Op(o) => format!("'{o}'"),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: u32,
}

/// A logical line: its indentation, first physical line and tokens.
#[derive(Debug)]
struct Line {
    indent: u32,
    line: u32,
    toks: Vec<Token>,
}

const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "->", ":=", "==", "!=", "<=", ">=", "**", "//", "<<", ">>", "+=", "-=", "*=", "/=", "%=", "&=",
    "|=", "^=", "@=", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "@", "=", "+", "-", "*", "/", "%", "&", "|", "^", "~", "<", ">",
];

struct Lexer {
    c: Vec<char>,
    i: usize,
    line: u32,
    brackets: Vec<(char, u32)>,
    lines: Vec<Line>,
    cur: Option<Line>,
}

fn tokenize(src: &str) -> R<Vec<Line>> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut lx = Lexer { c: src.chars().collect(), i: 0, line: 0, brackets: Vec::new(), lines: Vec::new(), cur: None };
    lx.run()?;
    Ok(lx.lines)
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl Lexer {
    fn at(&self, k: usize) -> Option<char> {
        self.c.get(self.i + k).copied()
    }

    /// Length of the line break at the cursor (`\n`, `\r\n` or a lone `\r`), or 0.
    fn newline_len(&self) -> usize {
        match self.at(0) {
            Some('\n') => 1,
            Some('\r') if self.at(1) == Some('\n') => 2,
            Some('\r') => 1,
            _ => 0,
        }
    }

    fn push(&mut self, tok: Tok, line: u32) {
        let cur = self.cur.get_or_insert_with(|| Line { indent: 0, line, toks: Vec::new() });
        cur.toks.push(Token { tok, line });
    }

    fn end_line(&mut self) {
        if let Some(l) = self.cur.take() {
            if !l.toks.is_empty() {
                self.lines.push(l);
            }
        }
    }

    fn skip_comment(&mut self) {
        while let Some(ch) = self.at(0) {
            if ch == '\n' || ch == '\r' {
                break;
            }
            self.i += 1;
        }
    }

    fn run(&mut self) -> R<()> {
        let mut at_start = true;
        loop {
            if at_start {
                let mut col = 0u32;
                while let Some(ch) = self.at(0) {
                    match ch {
                        ' ' => col = col.saturating_add(1),
                        '\t' => col = (col / 8).saturating_add(1).saturating_mul(8),
                        '\x0c' => col = 0,
                        _ => break,
                    }
                    self.i += 1;
                }
                match self.at(0) {
                    None => break,
                    Some('#') => {
                        self.skip_comment();
                        continue;
                    }
                    Some('\n') | Some('\r') => {
                        self.i += self.newline_len();
                        self.line += 1;
                        continue;
                    }
                    Some(_) => {
                        self.cur = Some(Line { indent: col, line: self.line, toks: Vec::new() });
                        at_start = false;
                    }
                }
            }
            let Some(ch) = self.at(0) else { break };
            match ch {
                '\n' | '\r' => {
                    self.i += self.newline_len();
                    self.line += 1;
                    if self.brackets.is_empty() {
                        self.end_line();
                        at_start = true;
                    }
                }
                ' ' | '\t' | '\x0c' => self.i += 1,
                '#' => self.skip_comment(),
                '\\' => match self.at(1) {
                    Some('\n') | Some('\r') => {
                        self.i += 1;
                        self.i += self.newline_len();
                        self.line += 1;
                    }
                    None => return fail(self.line, "SyntaxError: unexpected EOF while parsing"),
                    Some(_) => return fail(self.line, "SyntaxError: unexpected character after line continuation character"),
                },
                '"' | '\'' => self.lex_string("")?,
                c if c.is_ascii_digit() || (c == '.' && self.at(1).is_some_and(|d| d.is_ascii_digit())) => self.lex_number()?,
                c if is_ident_start(c) => self.lex_name()?,
                _ => self.lex_op()?,
            }
        }
        if let Some(&(open, line)) = self.brackets.last() {
            return fail(line, format!("SyntaxError: '{open}' was never closed"));
        }
        self.end_line();
        Ok(())
    }

    fn lex_name(&mut self) -> R<()> {
        let start = self.i;
        while self.at(0).is_some_and(is_ident_char) {
            self.i += 1;
        }
        let name: String = self.c[start..self.i].iter().collect();
        if matches!(self.at(0), Some('"') | Some('\'')) {
            let lower = name.to_ascii_lowercase();
            if matches!(lower.as_str(), "r" | "u" | "f" | "b" | "br" | "rb" | "fr" | "rf") {
                return self.lex_string(&lower);
            }
        }
        self.push(Tok::Name(Rc::from(name)), self.line);
        Ok(())
    }

    fn lex_op(&mut self) -> R<()> {
        let line = self.line;
        for op in OPS {
            let matched = op.chars().enumerate().all(|(k, oc)| self.at(k) == Some(oc));
            if !matched {
                continue;
            }
            match *op {
                "(" | "[" | "{" => {
                    if self.brackets.len() >= MAX_BRACKETS {
                        return fail(line, "SyntaxError: too many nested parentheses");
                    }
                    self.brackets.push((op.chars().next().unwrap_or('('), line));
                }
                ")" | "]" | "}" => {
                    let close = op.chars().next().unwrap_or(')');
                    let want = match close {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    match self.brackets.pop() {
                        None => return fail(line, format!("SyntaxError: unmatched '{close}'")),
                        Some((open, _)) if open != want => {
                            return fail(
                                line,
                                format!("SyntaxError: closing parenthesis '{close}' does not match opening parenthesis '{open}'"),
                            )
                        }
                        Some(_) => {}
                    }
                }
                _ => {}
            }
            self.i += op.len();
            self.push(Tok::Op(op), line);
            return Ok(());
        }
        let ch = self.at(0).unwrap_or(' ');
        if ch.is_ascii() {
            fail(line, format!("SyntaxError: invalid syntax ('{}')", ch.escape_default()))
        } else {
            fail(line, format!("SyntaxError: invalid character '{ch}' (U+{:04X})", ch as u32))
        }
    }

    /// Digits of `radix`, with single underscores allowed between digits.
    fn digits(&mut self, radix: u32, out: &mut String) -> R<()> {
        while let Some(ch) = self.at(0) {
            if ch.is_digit(radix) {
                out.push(ch);
                self.i += 1;
            } else if ch == '_' && !out.is_empty() {
                if self.at(1).is_some_and(|d| d.is_digit(radix)) {
                    self.i += 1;
                } else {
                    return fail(self.line, "SyntaxError: invalid decimal literal");
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    fn lex_number(&mut self) -> R<()> {
        let line = self.line;
        let radix = match (self.at(0), self.at(1)) {
            (Some('0'), Some('x' | 'X')) => 16,
            (Some('0'), Some('o' | 'O')) => 8,
            (Some('0'), Some('b' | 'B')) => 2,
            _ => 10,
        };
        let tok = if radix != 10 {
            self.i += 2;
            if self.at(0) == Some('_') {
                self.i += 1;
            }
            let mut digits = String::new();
            self.digits(radix, &mut digits)?;
            if digits.is_empty() {
                return fail(line, "SyntaxError: invalid number literal");
            }
            match i128::from_str_radix(&digits, radix) {
                Ok(v) => Tok::Int(v),
                Err(_) => return fail(line, "unsupported: integer literal too large"),
            }
        } else {
            let mut text = String::new();
            self.digits(10, &mut text)?;
            let int_part = text.clone();
            let mut is_float = false;
            if self.at(0) == Some('.') {
                is_float = true;
                self.i += 1;
                text.push('.');
                let mut frac = String::new();
                self.digits(10, &mut frac)?;
                text.push_str(&frac);
            }
            if matches!(self.at(0), Some('e' | 'E')) {
                let sign = matches!(self.at(1), Some('+' | '-'));
                let d = if sign { self.at(2) } else { self.at(1) };
                if d.is_some_and(|d| d.is_ascii_digit()) {
                    is_float = true;
                    text.push('e');
                    if sign {
                        text.push(self.at(1).unwrap_or('+'));
                        self.i += 1;
                    }
                    self.i += 1;
                    let mut exp = String::new();
                    self.digits(10, &mut exp)?;
                    text.push_str(&exp);
                }
            }
            if matches!(self.at(0), Some('j' | 'J')) {
                return fail(line, "unsupported: complex number literal");
            }
            if is_float {
                match text.parse::<f64>() {
                    Ok(f) => Tok::Float(f),
                    Err(_) => return fail(line, "SyntaxError: invalid decimal literal"),
                }
            } else {
                if int_part.len() > 1 && int_part.starts_with('0') && int_part.chars().any(|c| c != '0') {
                    return fail(line, "SyntaxError: leading zeros in decimal integer literals are not permitted");
                }
                match int_part.parse::<i128>() {
                    Ok(v) => Tok::Int(v),
                    Err(_) => return fail(line, "unsupported: integer literal too large"),
                }
            }
        };
        if self.at(0).is_some_and(is_ident_char) {
            return fail(line, "SyntaxError: invalid decimal literal");
        }
        self.push(tok, line);
        Ok(())
    }

    fn hex_escape(&mut self, count: usize, line: u32) -> R<char> {
        let mut v: u32 = 0;
        for _ in 0..count {
            match self.at(0).and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    v = v * 16 + d;
                    self.i += 1;
                }
                None => return fail(line, "SyntaxError: truncated escape sequence in a string literal"),
            }
        }
        match char::from_u32(v) {
            Some(c) => Ok(c),
            None if v > 0x10FFFF => fail(line, "SyntaxError: illegal Unicode character in a string literal"),
            None => fail(line, "unsupported: lone surrogate in a string literal"),
        }
    }

    /// Lexes a string literal; the cursor is on the opening quote, `prefix` is lowercase.
    fn lex_string(&mut self, prefix: &str) -> R<()> {
        let raw = prefix.contains('r');
        let bytes = prefix.contains('b');
        let fstr = prefix.contains('f');
        let start_line = self.line;
        let q = self.at(0).unwrap_or('"');
        let triple = self.at(1) == Some(q) && self.at(2) == Some(q);
        self.i += if triple { 3 } else { 1 };
        let unterminated =
            if triple { "SyntaxError: unterminated triple-quoted string literal" } else { "SyntaxError: unterminated string literal" };
        let mut s = String::new();
        loop {
            let Some(ch) = self.at(0) else { return fail(start_line, unterminated) };
            if ch == q {
                if !triple {
                    self.i += 1;
                    break;
                }
                if self.at(1) == Some(q) && self.at(2) == Some(q) {
                    self.i += 3;
                    break;
                }
                s.push(q);
                self.i += 1;
                continue;
            }
            if ch == '\n' || ch == '\r' {
                if !triple {
                    return fail(start_line, unterminated);
                }
                self.i += self.newline_len();
                self.line += 1;
                s.push('\n');
                continue;
            }
            if ch != '\\' {
                s.push(ch);
                self.i += 1;
                continue;
            }
            let Some(nx) = self.at(1) else { return fail(start_line, unterminated) };
            if nx == '\n' || nx == '\r' {
                self.i += 1;
                self.i += self.newline_len();
                self.line += 1;
                if raw {
                    s.push_str("\\\n");
                }
                continue;
            }
            self.i += 2;
            if raw {
                s.push('\\');
                s.push(nx);
                continue;
            }
            let line = self.line;
            match nx {
                '\\' | '\'' | '"' => s.push(nx),
                'a' => s.push('\x07'),
                'b' => s.push('\x08'),
                'f' => s.push('\x0c'),
                'n' => s.push('\n'),
                'r' => s.push('\r'),
                't' => s.push('\t'),
                'v' => s.push('\x0b'),
                '0'..='7' => {
                    let mut v = nx.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match self.at(0).and_then(|c| c.to_digit(8)) {
                            Some(d) => {
                                v = v * 8 + d;
                                self.i += 1;
                            }
                            None => break,
                        }
                    }
                    s.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                }
                'x' => s.push(self.hex_escape(2, line)?),
                'u' if !bytes => s.push(self.hex_escape(4, line)?),
                'U' if !bytes => s.push(self.hex_escape(8, line)?),
                'N' if !bytes => return fail(line, "unsupported: \\N{...} escape in a string literal"),
                _ => {
                    s.push('\\');
                    s.push(nx);
                }
            }
        }
        if bytes {
            return fail(start_line, "unsupported: bytes literal");
        }
        if fstr {
            let mut out = String::with_capacity(s.len());
            let mut it = s.chars().peekable();
            while let Some(c) = it.next() {
                if (c == '{' || c == '}') && it.peek() == Some(&c) {
                    it.next();
                    out.push(c);
                } else if c == '{' || c == '}' {
                    return fail(start_line, "unsupported: f-string with replacement fields");
                } else {
                    out.push(c);
                }
            }
            s = out;
        }
        self.push(Tok::Str(Rc::from(s)), start_line);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Syntax tree

#[derive(Debug, Clone, Copy, PartialEq)]
enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
}

impl BinOp {
    fn symbol(self) -> &'static str {
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
enum CmpOp {
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
    fn symbol(self) -> &'static str {
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
enum CompKind {
    List,
    Set,
    Gen,
}

#[derive(Debug)]
enum Const {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(Rc<str>),
}

#[derive(Debug)]
enum Target {
    Name(Rc<str>),
    Tuple(Vec<Target>),
}

#[derive(Debug)]
struct Clause {
    target: Target,
    iter: Expr,
    conds: Vec<Expr>,
}

#[derive(Debug)]
struct Expr {
    kind: Kind,
    line: u32,
    height: u32,
}

#[derive(Debug)]
enum Kind {
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
struct CallExpr {
    func: Expr,
    args: Vec<Expr>,
    kwargs: Vec<(Rc<str>, Expr)>,
}

#[derive(Debug)]
struct SliceExpr {
    obj: Expr,
    /// start, stop, step
    parts: [Option<Expr>; 3],
}

#[derive(Debug)]
struct CompExpr {
    kind: CompKind,
    elt: Expr,
    clauses: Vec<Clause>,
}

fn kind_height(kind: &Kind) -> u32 {
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

fn mk(kind: Kind, line: u32) -> R<Expr> {
    let height = kind_height(&kind) + 1;
    if height > MAX_HEIGHT {
        return fail(line, format!("unsupported: expression nested too deeply (more than {MAX_HEIGHT} levels)"));
    }
    Ok(Expr { kind, line, height })
}

#[derive(Debug)]
struct Param {
    name: Rc<str>,
    default: Option<Expr>,
}

#[derive(Debug)]
enum Body {
    Expr(Expr),
    Block(Vec<Stmt>),
}

#[derive(Debug)]
struct FuncDef {
    /// `<lambda>` for lambdas.
    name: Rc<str>,
    params: Vec<Param>,
    body: Body,
    /// Names bound in the body (parameters included): local to the function.
    locals: Vec<Rc<str>>,
    line: u32,
}

#[derive(Debug)]
enum ImportBinding {
    /// A name whose value cannot be known (a module or an object from one).
    Opaque(Rc<str>),
    /// `typing.TYPE_CHECKING`.
    False,
}

#[derive(Debug)]
enum Stmt {
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

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else", "except",
    "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
    "while", "with", "yield",
];

fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

// ---------------------------------------------------------------------------------------
// Expression parser

struct Parser<'t> {
    toks: &'t [Token],
    pos: usize,
    depth: u32,
    /// Line reported for "unexpected end of statement".
    eol_line: u32,
}

impl<'t> Parser<'t> {
    fn new(toks: &'t [Token], eol_line: u32) -> Self {
        let eol_line = toks.last().map_or(eol_line, |t| t.line);
        Parser { toks, pos: 0, depth: 0, eol_line }
    }

    fn peek(&self) -> Option<&'t Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, k: usize) -> Option<&'t Tok> {
        self.toks.get(self.pos + k).map(|t| &t.tok)
    }

    fn line(&self) -> u32 {
        self.toks.get(self.pos).map_or(self.eol_line, |t| t.line)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if &**n == kw)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        let hit = self.is_op(op);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.is_kw(kw);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn unexpected<T>(&self, expected: &str) -> R<T> {
        match self.peek() {
            None => fail(self.line(), format!("invalid syntax: expected {expected} before the end of the statement")),
            Some(t) => fail(self.line(), format!("invalid syntax: expected {expected}, found {}", t.describe())),
        }
    }

    fn expect_op(&mut self, op: &str) -> R<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            self.unexpected(&format!("'{op}'"))
        }
    }

    fn expect_end(&self) -> R<()> {
        if self.at_end() {
            Ok(())
        } else {
            self.unexpected("the end of the statement")
        }
    }

    fn expect_name(&mut self) -> R<Rc<str>> {
        match self.peek() {
            Some(Tok::Name(n)) if !is_keyword(n) => {
                self.pos += 1;
                Ok(n.clone())
            }
            _ => self.unexpected("a name"),
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return fail(self.line(), format!("unsupported: expression nested too deeply (more than {MAX_NESTING} levels)"));
        }
        Ok(())
    }

    /// `test (',' test)* [',']` — a bare tuple when there is a comma.
    fn parse_testlist(&mut self) -> R<Expr> {
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

    fn parse_test(&mut self) -> R<Expr> {
        // The depth is not restored on errors: a parse error ends the whole statement.
        self.enter()?;
        self.check_test_start()?;
        let body = self.parse_prec(PREC_OR)?;
        let e = if self.is_kw("if") || self.is_op(":=") { self.parse_ifexp(body)? } else { body };
        self.depth -= 1;
        Ok(e)
    }

    #[inline(never)]
    fn check_test_start(&self) -> R<()> {
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
    fn parse_ifexp(&mut self, body: Expr) -> R<Expr> {
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
    fn unsupported_operator<T>(&self) -> R<T> {
        let op = self.peek().map(Tok::describe).unwrap_or_default();
        fail(self.line(), format!("unsupported: operator {op}"))
    }

    /// `or_test`: everything but the conditional expression.
    fn parse_or(&mut self) -> R<Expr> {
        self.parse_prec(PREC_OR)
    }

    /// Precedence climbing over `or`, `and`, `not`, comparisons, `+ -`, `* / // %`, unary
    /// `- +` and `**`: one small stack frame per nesting level instead of one per grammar
    /// rule.
    fn parse_prec(&mut self, min: u8) -> R<Expr> {
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
    fn infix_op(&self) -> R<(u8, Option<BinOp>)> {
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

    fn parse_prefix(&mut self, min: u8) -> R<Expr> {
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
    fn parse_unary(&mut self, neg: Option<bool>) -> R<Expr> {
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
    fn parse_power(&mut self, base: Expr) -> R<Expr> {
        let line = self.line();
        self.pos += 1;
        self.enter()?;
        let exp = self.parse_prec(PREC_UNARY)?;
        self.depth -= 1;
        mk(Kind::Bin(BinOp::Pow, Box::new(base), Box::new(exp)), line)
    }

    /// The infix operator at the cursor applied to `left`.
    fn parse_infix(&mut self, left: Expr, prec: u8, bin: Option<BinOp>) -> R<Expr> {
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

    fn parse_comparison_chain(&mut self, first: Expr, line: u32) -> R<Expr> {
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

    fn parse_primary(&mut self) -> R<Expr> {
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
    fn parse_call_args(&mut self) -> R<(Vec<Expr>, Vec<(Rc<str>, Expr)>)> {
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

    fn parse_subscript(&mut self, obj: Expr, line: u32) -> R<Expr> {
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

    fn parse_target(&mut self) -> R<Target> {
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
    fn parse_target_list(&mut self, stop: &str) -> R<Target> {
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

    fn parse_comp_clauses(&mut self) -> R<Vec<Clause>> {
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

    fn parse_atom(&mut self) -> R<Expr> {
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
    fn parse_paren(&mut self, line: u32) -> R<Expr> {
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
    fn parse_list(&mut self, line: u32) -> R<Expr> {
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
    fn parse_brace(&mut self, line: u32) -> R<Expr> {
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
    fn parse_params(&mut self, close: &str, annotations: bool) -> R<Vec<Param>> {
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
    fn parse_lambda(&mut self) -> R<Expr> {
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
// Statement parser

struct StmtParser<'l> {
    lines: &'l [Line],
    idx: usize,
}

#[derive(Clone, Copy)]
struct Ctx {
    in_func: bool,
    nest: u32,
}

fn parse_module(lines: &[Line]) -> R<Vec<Stmt>> {
    let mut sp = StmtParser { lines, idx: 0 };
    let body = sp.parse_block(0, Ctx { in_func: false, nest: 0 })?;
    if let Some(l) = sp.lines.get(sp.idx) {
        return fail_structural(l.line, "IndentationError: unindent does not match any outer indentation level");
    }
    Ok(body)
}

/// Splits a logical line's tokens on `;`.
fn split_semicolons(toks: &[Token]) -> Vec<&[Token]> {
    toks.split(|t| t.tok == Tok::Op(";")).filter(|s| !s.is_empty()).collect()
}

impl<'l> StmtParser<'l> {
    fn parse_block(&mut self, indent: u32, ctx: Ctx) -> R<Vec<Stmt>> {
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
    fn skip_suite(&mut self, indent: u32) {
        while self.lines.get(self.idx).is_some_and(|l| l.indent > indent) {
            self.idx += 1;
        }
    }

    /// Skips a compound statement's remaining suite and its continuation clauses.
    fn skip_compound(&mut self, indent: u32) {
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
    fn parse_statement(&mut self, line: &'l Line, ctx: Ctx, out: &mut Vec<Stmt>) -> R<bool> {
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

    fn parse_simple_line(&mut self, line: &Line, ctx: Ctx, out: &mut Vec<Stmt>) {
        for toks in split_semicolons(&line.toks) {
            out.push(parse_simple(toks, ctx, line.line));
        }
    }

    /// The suite after a compound header whose parser stands just past the `:`.
    fn parse_suite(&mut self, header: &Line, p: &Parser, what: &str, ctx: Ctx) -> R<Vec<Stmt>> {
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

    fn parse_def(&mut self, line: &Line, ctx: Ctx) -> R<Stmt> {
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

    fn parse_if(&mut self, line: &'l Line, ctx: Ctx) -> R<Stmt> {
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

fn collect_locals(body: &[Stmt], out: &mut Vec<Rc<str>>) {
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
fn parse_simple(toks: &[Token], ctx: Ctx, line: u32) -> Stmt {
    match try_parse_simple(toks, ctx, line) {
        Ok(s) => s,
        Err(e) => Stmt::Unsupported(e.msg, e.line),
    }
}

fn dotted_name(p: &mut Parser) -> R<String> {
    let mut name = p.expect_name()?.to_string();
    while p.eat_op(".") {
        name.push('.');
        name.push_str(&p.expect_name()?);
    }
    Ok(name)
}

fn try_parse_simple(toks: &[Token], ctx: Ctx, line: u32) -> R<Stmt> {
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
// Values

#[derive(Debug, Clone)]
enum PStr<'a> {
    B(&'a str),
    O(Rc<str>),
}

impl PStr<'_> {
    fn as_str(&self) -> &str {
        match self {
            PStr::B(s) => s,
            PStr::O(s) => s,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ViewKind {
    Keys,
    Values,
    Items,
}

#[derive(Debug)]
struct Closure<'a> {
    def: Rc<FuncDef>,
    defaults: Vec<Option<Val<'a>>>,
}

#[derive(Debug, Clone)]
enum Val<'a> {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(PStr<'a>),
    /// A date/datetime from the data, as `str()` prints it.
    Date(&'a str),
    DList(&'a Vec<DataNode>),
    DMap(&'a Vec<DataEntry>),
    List(Rc<Vec<Val<'a>>>),
    Tuple(Rc<Vec<Val<'a>>>),
    Set(Rc<Vec<Val<'a>>>),
    Dict(Rc<Vec<(Val<'a>, Val<'a>)>>),
    View(ViewKind, Rc<Vec<Val<'a>>>),
    /// A generator expression used outside `any()`/`all()`, evaluated eagerly.
    Gen(Rc<Vec<Val<'a>>>),
    Func(Rc<Closure<'a>>),
    Builtin(&'static str),
    /// An imported name or another object this evaluator cannot model.
    Opaque(Rc<str>),
}

fn owned_str<'a>(s: impl Into<Rc<str>>) -> Val<'a> {
    Val::Str(PStr::O(s.into()))
}

fn from_node(n: &DataNode) -> Val<'_> {
    match &n.value {
        DataValue::Null => Val::None,
        DataValue::Bool(b) => Val::Bool(*b),
        DataValue::Int(i) => Val::Int(*i),
        DataValue::Float(f) => Val::Float(*f),
        DataValue::Str(s) => Val::Str(PStr::B(s)),
        DataValue::Timestamp(t) => Val::Date(t),
        DataValue::List(l) => Val::DList(l),
        DataValue::Map(m) => Val::DMap(m),
    }
}

fn type_name(v: &Val) -> &'static str {
    match v {
        Val::None => "NoneType",
        Val::Bool(_) => "bool",
        Val::Int(_) => "int",
        Val::Float(_) => "float",
        Val::Str(_) => "str",
        Val::Date(_) => "date",
        Val::DList(_) | Val::List(_) => "list",
        Val::DMap(_) | Val::Dict(_) => "dict",
        Val::Tuple(_) => "tuple",
        Val::Set(_) => "set",
        Val::View(ViewKind::Keys, _) => "dict_keys",
        Val::View(ViewKind::Values, _) => "dict_values",
        Val::View(ViewKind::Items, _) => "dict_items",
        Val::Gen(_) => "generator",
        Val::Func(_) => "function",
        Val::Builtin(b) if TYPE_BUILTINS.contains(b) => "type",
        Val::Builtin(_) => "builtin_function_or_method",
        Val::Opaque(_) => "module",
    }
}

fn opaque_err<T>(what: &str, line: u32) -> R<T> {
    fail(line, format!("unsupported: uses '{what}', which cannot be evaluated without Python"))
}

fn truthy(v: &Val, line: u32) -> R<bool> {
    Ok(match v {
        Val::None => false,
        Val::Bool(b) => *b,
        Val::Int(i) => *i != 0,
        Val::Float(f) => *f != 0.0,
        Val::Str(s) => !s.as_str().is_empty(),
        Val::Date(_) => true,
        Val::DList(l) => !l.is_empty(),
        Val::DMap(m) => !m.is_empty(),
        Val::List(x) | Val::Tuple(x) | Val::Set(x) | Val::View(_, x) => !x.is_empty(),
        Val::Dict(d) => !d.is_empty(),
        Val::Gen(_) | Val::Func(_) | Val::Builtin(_) => true,
        Val::Opaque(d) => return opaque_err(d, line),
    })
}

#[derive(Clone, Copy)]
enum Num {
    I(i128),
    F(f64),
}

fn as_num(v: &Val) -> Option<Num> {
    match v {
        Val::Bool(b) => Some(Num::I(*b as i128)),
        Val::Int(i) => Some(Num::I(*i)),
        Val::Float(f) => Some(Num::F(*f)),
        _ => None,
    }
}

fn num_eq(a: Num, b: Num) -> bool {
    match (a, b) {
        (Num::I(x), Num::I(y)) => x == y,
        (Num::F(x), Num::F(y)) => x == y,
        (Num::I(i), Num::F(f)) | (Num::F(f), Num::I(i)) => f.is_finite() && f.fract() == 0.0 && f.abs() < 1.7e38 && f as i128 == i,
    }
}

fn num_cmp(op: CmpOp, a: Num, b: Num) -> bool {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
        (Num::F(x), Num::F(y)) => x.partial_cmp(&y),
        (Num::I(x), Num::F(y)) => (x as f64).partial_cmp(&y),
        (Num::F(x), Num::I(y)) => x.partial_cmp(&(y as f64)),
    };
    match (op, ord) {
        (_, None) => false,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::Le, Some(o)) => o != Ordering::Greater,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::Ge, Some(o)) => o != Ordering::Less,
        _ => false,
    }
}

/// Items of a list-like value (`list` from data or built here).
fn list_items<'a>(v: &Val<'a>) -> Option<Vec<Val<'a>>> {
    match v {
        Val::DList(l) => Some(l.iter().map(from_node).collect()),
        Val::List(x) => Some(x.as_ref().clone()),
        _ => None,
    }
}

/// Entries of a dict-like value.
fn dict_items<'a>(v: &Val<'a>) -> Option<Vec<(Val<'a>, Val<'a>)>> {
    match v {
        Val::DMap(m) => Some(m.iter().map(|e| (from_node(&e.key), from_node(&e.value))).collect()),
        Val::Dict(d) => Some(d.as_ref().clone()),
        _ => None,
    }
}

fn dict_len(v: &Val) -> usize {
    match v {
        Val::DMap(m) => m.len(),
        Val::Dict(d) => d.len(),
        _ => 0,
    }
}

fn check_hashable(v: &Val, line: u32) -> R<()> {
    match v {
        Val::DList(_) | Val::List(_) | Val::DMap(_) | Val::Dict(_) | Val::Set(_) | Val::View(..) => {
            fail(line, format!("TypeError: unhashable type: '{}'", type_name(v)))
        }
        Val::Tuple(items) => items.iter().try_for_each(|i| check_hashable(i, line)),
        Val::Opaque(d) => opaque_err(d, line),
        _ => Ok(()),
    }
}

thread_local! {
    /// Steps left for the evaluation running on this thread (see [`MAX_STEPS`]). Shared by
    /// the interpreter and the value helpers, whose cost grows with the data.
    static BUDGET: Cell<u64> = const { Cell::new(0) };
}

fn charge(cost: u64, line: u32) -> R<()> {
    let left = BUDGET.with(Cell::get);
    if left < cost {
        BUDGET.with(|b| b.set(0));
        return fail(line, format!("unsupported: evaluation takes more than {MAX_STEPS} steps"));
    }
    BUDGET.with(|b| b.set(left - cost));
    Ok(())
}

fn py_eq(a: &Val, b: &Val, line: u32, depth: u32) -> R<bool> {
    charge(1, line)?;
    if depth > MAX_VALUE_DEPTH {
        return fail(line, "unsupported: values nested too deeply to compare");
    }
    if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
        return Ok(num_eq(x, y));
    }
    let seq_eq = |x: &[Val], y: &[Val]| -> R<bool> {
        if x.len() != y.len() {
            return Ok(false);
        }
        for (i, j) in x.iter().zip(y) {
            if !py_eq(i, j, line, depth + 1)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    match (a, b) {
        (Val::Opaque(d), _) | (_, Val::Opaque(d)) => opaque_err(d, line),
        (Val::View(..), _) | (_, Val::View(..)) => fail(line, "unsupported: comparing dict views"),
        (Val::None, Val::None) => Ok(true),
        (Val::Str(x), Val::Str(y)) => Ok(x.as_str() == y.as_str()),
        (Val::Date(x), Val::Date(y)) => Ok(x == y),
        (Val::DList(_) | Val::List(_), Val::DList(_) | Val::List(_)) => {
            seq_eq(&list_items(a).unwrap_or_default(), &list_items(b).unwrap_or_default())
        }
        (Val::Tuple(x), Val::Tuple(y)) => seq_eq(x, y),
        (Val::DMap(_) | Val::Dict(_), Val::DMap(_) | Val::Dict(_)) => {
            if dict_len(a) != dict_len(b) {
                return Ok(false);
            }
            for (k, v) in dict_items(a).unwrap_or_default() {
                match dict_lookup(b, &k, line, depth + 1)? {
                    Some(w) if py_eq(&v, &w, line, depth + 1)? => {}
                    _ => return Ok(false),
                }
            }
            Ok(true)
        }
        (Val::Set(x), Val::Set(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for i in x.iter() {
                if !seq_contains(y, i, line, depth + 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (Val::Gen(x), Val::Gen(y)) => Ok(Rc::ptr_eq(x, y)),
        (Val::Func(x), Val::Func(y)) => Ok(Rc::ptr_eq(x, y)),
        (Val::Builtin(x), Val::Builtin(y)) => Ok(x == y),
        _ => Ok(false),
    }
}

fn seq_contains(items: &[Val], item: &Val, line: u32, depth: u32) -> R<bool> {
    for i in items {
        if py_eq(i, item, line, depth)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `d[key]` lookup with Python's key equality (`1 == 1.0 == True`).
fn dict_lookup<'a>(d: &Val<'a>, key: &Val, line: u32, depth: u32) -> R<Option<Val<'a>>> {
    check_hashable(key, line)?;
    match d {
        Val::DMap(m) => {
            for e in m.iter() {
                if py_eq(&from_node(&e.key), key, line, depth)? {
                    return Ok(Some(from_node(&e.value)));
                }
            }
            Ok(None)
        }
        Val::Dict(entries) => {
            for (k, v) in entries.iter() {
                if py_eq(k, key, line, depth)? {
                    return Ok(Some(v.clone()));
                }
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

fn is_same(a: &Val, b: &Val, line: u32) -> R<bool> {
    Ok(match (a, b) {
        (Val::Opaque(d), _) | (_, Val::Opaque(d)) => return opaque_err(d, line),
        (Val::None, Val::None) => true,
        (Val::None, _) | (_, Val::None) => false,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Bool(_), _) | (_, Val::Bool(_)) => false,
        // The address of the node's Vec identifies the Python object.
        (Val::DList(x), Val::DList(y)) => std::ptr::eq(*x, *y),
        (Val::DMap(x), Val::DMap(y)) => std::ptr::eq(*x, *y),
        (Val::List(x), Val::List(y))
        | (Val::Tuple(x), Val::Tuple(y))
        | (Val::Set(x), Val::Set(y))
        | (Val::View(_, x), Val::View(_, y))
        | (Val::Gen(x), Val::Gen(y)) => Rc::ptr_eq(x, y),
        (Val::Dict(x), Val::Dict(y)) => Rc::ptr_eq(x, y),
        (Val::Func(x), Val::Func(y)) => Rc::ptr_eq(x, y),
        (Val::Builtin(x), Val::Builtin(y)) => x == y,
        _ if type_name(a) != type_name(b) => false,
        _ => return fail(line, format!("unsupported: 'is' between two {} values depends on object identity", type_name(a))),
    })
}

fn rich_cmp(op: CmpOp, a: &Val, b: &Val, line: u32, depth: u32) -> R<bool> {
    if depth > MAX_VALUE_DEPTH {
        return fail(line, "unsupported: values nested too deeply to compare");
    }
    if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
        return Ok(num_cmp(op, x, y));
    }
    let ord_result = |o: std::cmp::Ordering| match op {
        CmpOp::Lt => o.is_lt(),
        CmpOp::Le => o.is_le(),
        CmpOp::Gt => o.is_gt(),
        _ => o.is_ge(),
    };
    let seq_cmp = |x: &[Val], y: &[Val]| -> R<bool> {
        for (i, j) in x.iter().zip(y) {
            if !py_eq(i, j, line, depth + 1)? {
                return rich_cmp(op, i, j, line, depth + 1);
            }
        }
        Ok(ord_result(x.len().cmp(&y.len())))
    };
    match (a, b) {
        (Val::Opaque(d), _) | (_, Val::Opaque(d)) => opaque_err(d, line),
        (Val::Str(x), Val::Str(y)) => Ok(ord_result(x.as_str().cmp(y.as_str()))),
        (Val::DList(_) | Val::List(_), Val::DList(_) | Val::List(_)) => {
            seq_cmp(&list_items(a).unwrap_or_default(), &list_items(b).unwrap_or_default())
        }
        (Val::Tuple(x), Val::Tuple(y)) => seq_cmp(x, y),
        (Val::Set(_), Val::Set(_)) | (Val::Date(_), Val::Date(_)) => fail(line, format!("unsupported: ordering {} values", type_name(a))),
        _ => {
            fail(line, format!("TypeError: '{}' not supported between instances of '{}' and '{}'", op.symbol(), type_name(a), type_name(b)))
        }
    }
}

/// Items produced by iterating over `v` (`for x in v`).
fn iterate<'a>(v: &Val<'a>, line: u32) -> R<Vec<Val<'a>>> {
    charge(1, line)?;
    Ok(match v {
        Val::DList(l) => l.iter().map(from_node).collect(),
        Val::DMap(m) => m.iter().map(|e| from_node(&e.key)).collect(),
        Val::List(x) | Val::Tuple(x) | Val::Set(x) | Val::View(_, x) | Val::Gen(x) => x.as_ref().clone(),
        Val::Dict(d) => d.iter().map(|(k, _)| k.clone()).collect(),
        Val::Str(s) => s.as_str().chars().map(|c| owned_str(c.to_string())).collect(),
        Val::Opaque(d) => return opaque_err(d, line),
        _ => return fail(line, format!("TypeError: '{}' object is not iterable", type_name(v))),
    })
}

fn contains(container: &Val, item: &Val, line: u32) -> R<bool> {
    match container {
        Val::DMap(_) | Val::Dict(_) => Ok(dict_lookup(container, item, line, 0)?.is_some()),
        Val::Set(x) => {
            check_hashable(item, line)?;
            seq_contains(x, item, line, 0)
        }
        Val::View(ViewKind::Keys, x) => {
            check_hashable(item, line)?;
            seq_contains(x, item, line, 0)
        }
        Val::List(x) | Val::Tuple(x) | Val::View(_, x) | Val::Gen(x) => seq_contains(x, item, line, 0),
        Val::DList(l) => {
            for n in l.iter() {
                if py_eq(&from_node(n), item, line, 0)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Val::Str(s) => match item {
            Val::Str(sub) => Ok(s.as_str().contains(sub.as_str())),
            Val::Opaque(d) => opaque_err(d, line),
            _ => fail(line, format!("TypeError: 'in <string>' requires string as left operand, not {}", type_name(item))),
        },
        Val::Opaque(d) => opaque_err(d, line),
        _ => fail(line, format!("TypeError: argument of type '{}' is not iterable", type_name(container))),
    }
}

fn py_len(v: &Val, line: u32) -> R<usize> {
    Ok(match v {
        Val::Str(s) => s.as_str().chars().count(),
        Val::DList(l) => l.len(),
        Val::DMap(m) => m.len(),
        Val::List(x) | Val::Tuple(x) | Val::Set(x) | Val::View(_, x) => x.len(),
        Val::Dict(d) => d.len(),
        Val::Opaque(d) => return opaque_err(d, line),
        _ => return fail(line, format!("TypeError: object of type '{}' has no len()", type_name(v))),
    })
}

// ---- str() / repr()

/// Python's `repr(float)`.
fn float_repr(f: f64) -> String {
    crate::pyfmt::float_repr(f)
}

fn str_repr(s: &str, out: &mut String) {
    crate::pyfmt::write_str_repr(out, s)
}

/// `repr()` of a date from the data: `datetime.date(2024, 1, 2)` for plain dates; other
/// timestamps keep their `str()` text.
fn date_repr(text: &str, out: &mut String) {
    let parts: Vec<&str> = text.split('-').collect();
    let is_date = parts.len() == 3 && [4, 2, 2].iter().zip(&parts).all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit()));
    if !is_date {
        out.push_str(text);
        return;
    }
    let num = |p: &str| p.trim_start_matches('0').parse::<u32>().unwrap_or(0);
    let _ = write!(out, "datetime.date({}, {}, {})", num(parts[0]), num(parts[1]), num(parts[2]));
}

fn repr_into(v: &Val, out: &mut String, depth: u32) {
    if depth > MAX_VALUE_DEPTH {
        out.push_str("...");
        return;
    }
    let seq = |items: &[Val], out: &mut String| {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            repr_into(item, out, depth + 1);
        }
    };
    match v {
        Val::None => out.push_str("None"),
        Val::Bool(true) => out.push_str("True"),
        Val::Bool(false) => out.push_str("False"),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Float(f) => out.push_str(&float_repr(*f)),
        Val::Str(s) => str_repr(s.as_str(), out),
        Val::Date(d) => date_repr(d, out),
        Val::DList(_) | Val::List(_) => {
            out.push('[');
            seq(&list_items(v).unwrap_or_default(), out);
            out.push(']');
        }
        Val::Tuple(x) => {
            out.push('(');
            seq(x, out);
            if x.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        Val::Set(x) if x.is_empty() => out.push_str("set()"),
        Val::Set(x) => {
            out.push('{');
            seq(x, out);
            out.push('}');
        }
        Val::DMap(_) | Val::Dict(_) => {
            out.push('{');
            for (i, (k, val)) in dict_items(v).unwrap_or_default().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr_into(k, out, depth + 1);
                out.push_str(": ");
                repr_into(val, out, depth + 1);
            }
            out.push('}');
        }
        Val::View(_, x) => {
            out.push_str(type_name(v));
            out.push_str("([");
            seq(x, out);
            out.push_str("])");
        }
        Val::Gen(_) => out.push_str("<generator object <genexpr>>"),
        Val::Func(c) => {
            let _ = write!(out, "<function {}>", c.def.name);
        }
        Val::Builtin(b) if TYPE_BUILTINS.contains(b) => {
            let _ = write!(out, "<class '{b}'>");
        }
        Val::Builtin(b) => {
            let _ = write!(out, "<built-in function {b}>");
        }
        Val::Opaque(d) => {
            let _ = write!(out, "<{d}>");
        }
    }
}

fn py_repr(v: &Val) -> String {
    let mut s = String::new();
    repr_into(v, &mut s, 0);
    s
}

fn py_str(v: &Val, line: u32) -> R<String> {
    match v {
        Val::Str(s) => Ok(s.as_str().to_string()),
        Val::Date(d) => Ok(d.to_string()),
        Val::Opaque(d) => opaque_err(d, line),
        _ => Ok(py_repr(v)),
    }
}

fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

fn py_int(v: &Val, line: u32) -> R<Val<'static>> {
    match v {
        Val::Bool(b) => Ok(Val::Int(*b as i128)),
        Val::Int(i) => Ok(Val::Int(*i)),
        Val::Float(f) => {
            if f.is_nan() {
                fail(line, "ValueError: cannot convert float NaN to integer")
            } else if f.is_infinite() {
                fail(line, "OverflowError: cannot convert float infinity to integer")
            } else if f.abs() >= 1.7e38 {
                fail(line, "unsupported: integer too large")
            } else {
                Ok(Val::Int(f.trunc() as i128))
            }
        }
        Val::Str(s) => {
            let raw = s.as_str();
            let t = raw.trim_matches(is_py_space);
            let (neg, digits) = match t.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, t.strip_prefix('+').unwrap_or(t)),
            };
            let bad = || {
                let mut r = String::new();
                str_repr(raw, &mut r);
                fail(line, format!("ValueError: invalid literal for int() with base 10: {r}"))
            };
            if !digits.is_ascii() {
                return fail(line, "unsupported: int() of a string with non-ASCII characters");
            }
            let b = digits.as_bytes();
            if b.is_empty() || !b[0].is_ascii_digit() || !b[b.len() - 1].is_ascii_digit() {
                return bad();
            }
            if b.iter().any(|c| !c.is_ascii_digit() && *c != b'_') || digits.contains("__") {
                return bad();
            }
            let clean: String = digits.chars().filter(|c| *c != '_').collect();
            match clean.parse::<i128>() {
                Ok(i) => Ok(Val::Int(if neg { -i } else { i })),
                Err(_) => fail(line, "unsupported: integer too large"),
            }
        }
        Val::Opaque(d) => opaque_err(d, line),
        _ => {
            fail(line, format!("TypeError: int() argument must be a string, a bytes-like object or a real number, not '{}'", type_name(v)))
        }
    }
}

fn py_float(v: &Val, line: u32) -> R<Val<'static>> {
    match v {
        Val::Bool(b) => Ok(Val::Float(*b as i128 as f64)),
        Val::Int(i) => Ok(Val::Float(*i as f64)),
        Val::Float(f) => Ok(Val::Float(*f)),
        Val::Str(s) => {
            let raw = s.as_str();
            let t = raw.trim_matches(is_py_space);
            let body = t.strip_prefix(['+', '-']).unwrap_or(t);
            let lower = body.to_ascii_lowercase();
            let special = matches!(lower.as_str(), "inf" | "infinity" | "nan");
            let valid_chars = body.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-' | '_'));
            let underscores_ok = !body.contains('_')
                || body.split('_').all(|part| !part.is_empty())
                    && body.char_indices().filter(|(_, c)| *c == '_').all(|(i, _)| {
                        body[..i].ends_with(|c: char| c.is_ascii_digit()) && body[i + 1..].starts_with(|c: char| c.is_ascii_digit())
                    });
            let parsed = if special || (valid_chars && underscores_ok) { t.replace('_', "").parse::<f64>().ok() } else { None };
            match parsed {
                Some(f) => Ok(Val::Float(f)),
                None => {
                    let mut r = String::new();
                    str_repr(raw, &mut r);
                    fail(line, format!("ValueError: could not convert string to float: {r}"))
                }
            }
        }
        Val::Opaque(d) => opaque_err(d, line),
        _ => fail(line, format!("TypeError: float() argument must be a string or a real number, not '{}'", type_name(v))),
    }
}

// ---- operators

fn int_overflow<T>(line: u32) -> R<T> {
    fail(line, "unsupported: integer result too large")
}

fn repeat<'a>(items: &[Val<'a>], n: i128, line: u32) -> R<Vec<Val<'a>>> {
    let n = n.max(0);
    if items.is_empty() || n == 0 {
        return Ok(Vec::new());
    }
    if items.len() as i128 * n > MAX_SEQ_LEN {
        return fail(line, "unsupported: sequence repetition result too large");
    }
    let mut out = Vec::with_capacity(items.len() * n as usize);
    for _ in 0..n {
        out.extend(items.iter().cloned());
    }
    Ok(out)
}

fn binop<'a>(op: BinOp, a: Val<'a>, b: Val<'a>, line: u32) -> R<Val<'a>> {
    if let (Some(x), Some(y)) = (as_num(&a), as_num(&b)) {
        return num_binop(op, x, y, line);
    }
    if let (Val::Opaque(d), _) | (_, Val::Opaque(d)) = (&a, &b) {
        return opaque_err(d, line);
    }
    let type_err =
        || fail(line, format!("TypeError: unsupported operand type(s) for {}: '{}' and '{}'", op.symbol(), type_name(&a), type_name(&b)));
    match op {
        BinOp::Add => match (&a, &b) {
            (Val::Str(x), Val::Str(y)) => {
                let mut s = String::with_capacity(x.as_str().len() + y.as_str().len());
                s.push_str(x.as_str());
                s.push_str(y.as_str());
                Ok(owned_str(s))
            }
            (Val::Str(_), _) => fail(line, format!("TypeError: can only concatenate str (not \"{}\") to str", type_name(&b))),
            (Val::DList(_) | Val::List(_), Val::DList(_) | Val::List(_)) => {
                let mut v = list_items(&a).unwrap_or_default();
                v.extend(list_items(&b).unwrap_or_default());
                Ok(Val::List(Rc::new(v)))
            }
            (Val::DList(_) | Val::List(_), _) => {
                fail(line, format!("TypeError: can only concatenate list (not \"{}\") to list", type_name(&b)))
            }
            (Val::Tuple(x), Val::Tuple(y)) => {
                let mut v = x.as_ref().clone();
                v.extend(y.iter().cloned());
                Ok(Val::Tuple(Rc::new(v)))
            }
            (Val::Tuple(_), _) => fail(line, format!("TypeError: can only concatenate tuple (not \"{}\") to tuple", type_name(&b))),
            _ => type_err(),
        },
        BinOp::Mul => {
            let (seq, n) = match (&a, &b) {
                (_, Val::Int(_) | Val::Bool(_)) => (&a, as_num(&b)),
                (Val::Int(_) | Val::Bool(_), _) => (&b, as_num(&a)),
                (Val::Str(_) | Val::List(_) | Val::DList(_) | Val::Tuple(_), _)
                | (_, Val::Str(_) | Val::List(_) | Val::DList(_) | Val::Tuple(_)) => {
                    let other = if matches!(a, Val::Str(_) | Val::List(_) | Val::DList(_) | Val::Tuple(_)) { &b } else { &a };
                    return fail(line, format!("TypeError: can't multiply sequence by non-int of type '{}'", type_name(other)));
                }
                _ => return type_err(),
            };
            let Some(Num::I(n)) = n else { return type_err() };
            match seq {
                Val::Str(s) => {
                    let s = s.as_str();
                    if s.is_empty() || n <= 0 {
                        return Ok(owned_str(""));
                    }
                    if s.len() as i128 * n > MAX_SEQ_LEN {
                        return fail(line, "unsupported: sequence repetition result too large");
                    }
                    Ok(owned_str(s.repeat(n as usize)))
                }
                Val::List(_) | Val::DList(_) => Ok(Val::List(Rc::new(repeat(&list_items(seq).unwrap_or_default(), n, line)?))),
                Val::Tuple(x) => Ok(Val::Tuple(Rc::new(repeat(x, n, line)?))),
                _ => type_err(),
            }
        }
        BinOp::Mod if matches!(a, Val::Str(_)) => fail(line, "unsupported: %-formatting of strings"),
        _ => type_err(),
    }
}

fn num_binop<'a>(op: BinOp, x: Num, y: Num, line: u32) -> R<Val<'a>> {
    if let (Num::I(a), Num::I(b)) = (x, y) {
        return match op {
            BinOp::Add => a.checked_add(b).map(Val::Int).map_or_else(|| int_overflow(line), Ok),
            BinOp::Sub => a.checked_sub(b).map(Val::Int).map_or_else(|| int_overflow(line), Ok),
            BinOp::Mul => a.checked_mul(b).map(Val::Int).map_or_else(|| int_overflow(line), Ok),
            BinOp::Div => {
                if b == 0 {
                    fail(line, "ZeroDivisionError: division by zero")
                } else {
                    Ok(Val::Float(a as f64 / b as f64))
                }
            }
            BinOp::FloorDiv | BinOp::Mod => {
                if b == 0 {
                    return fail(
                        line,
                        if op == BinOp::Mod {
                            "ZeroDivisionError: integer modulo by zero"
                        } else {
                            "ZeroDivisionError: integer division or modulo by zero"
                        },
                    );
                }
                let (Some(q), Some(r)) = (a.checked_div(b), a.checked_rem(b)) else { return int_overflow(line) };
                let adjust = r != 0 && ((r < 0) != (b < 0));
                if op == BinOp::FloorDiv {
                    Ok(Val::Int(if adjust { q - 1 } else { q }))
                } else {
                    Ok(Val::Int(if adjust { r + b } else { r }))
                }
            }
            BinOp::Pow => {
                if b >= 0 {
                    let Ok(e) = u32::try_from(b) else { return int_overflow(line) };
                    a.checked_pow(e).map(Val::Int).map_or_else(|| int_overflow(line), Ok)
                } else if a == 0 {
                    fail(line, "ZeroDivisionError: 0.0 cannot be raised to a negative power")
                } else {
                    Ok(Val::Float((a as f64).powf(b as f64)))
                }
            }
        };
    }
    let f = |n: Num| match n {
        Num::I(i) => i as f64,
        Num::F(f) => f,
    };
    let (a, b) = (f(x), f(y));
    Ok(Val::Float(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => {
            if b == 0.0 {
                return fail(line, "ZeroDivisionError: float division by zero");
            }
            a / b
        }
        BinOp::FloorDiv => {
            if b == 0.0 {
                return fail(line, "ZeroDivisionError: float floor division by zero");
            }
            (a / b).floor()
        }
        BinOp::Mod => {
            if b == 0.0 {
                return fail(line, "ZeroDivisionError: float modulo");
            }
            let r = a % b;
            if r != 0.0 && ((r < 0.0) != (b < 0.0)) {
                r + b
            } else {
                r
            }
        }
        BinOp::Pow => {
            if a == 0.0 && b < 0.0 {
                return fail(line, "ZeroDivisionError: 0.0 cannot be raised to a negative power");
            }
            if a < 0.0 && b.fract() != 0.0 {
                return fail(line, "unsupported: complex result of a power");
            }
            a.powf(b)
        }
    }))
}

// ---- subscripts

fn subscript<'a>(obj: &Val<'a>, idx: &Val<'a>, line: u32) -> R<Val<'a>> {
    let seq_index = |len: usize, what: &str| -> R<usize> {
        let i = match idx {
            Val::Int(i) => *i,
            Val::Bool(b) => *b as i128,
            Val::Opaque(d) => return opaque_err(d, line),
            _ if what == "string" => return fail(line, format!("TypeError: string indices must be integers, not '{}'", type_name(idx))),
            _ => return fail(line, format!("TypeError: {what} indices must be integers or slices, not {}", type_name(idx))),
        };
        let adj = if i < 0 { i + len as i128 } else { i };
        if adj < 0 || adj >= len as i128 {
            return fail(line, format!("IndexError: {what} index out of range"));
        }
        Ok(adj as usize)
    };
    match obj {
        Val::DMap(_) | Val::Dict(_) => match dict_lookup(obj, idx, line, 0)? {
            Some(v) => Ok(v),
            None => fail(line, format!("KeyError: {}", py_repr(idx))),
        },
        Val::DList(l) => Ok(from_node(&l[seq_index(l.len(), "list")?])),
        Val::List(x) => Ok(x[seq_index(x.len(), "list")?].clone()),
        Val::Tuple(x) => Ok(x[seq_index(x.len(), "tuple")?].clone()),
        Val::Str(s) => {
            let s = s.as_str();
            let i = seq_index(s.chars().count(), "string")?;
            Ok(owned_str(s.chars().nth(i).map(String::from).unwrap_or_default()))
        }
        Val::Opaque(d) => opaque_err(d, line),
        _ => fail(line, format!("TypeError: '{}' object is not subscriptable", type_name(obj))),
    }
}

fn slice_value<'a>(o: &Val<'a>, vals: [Option<Val<'a>>; 3], line: u32) -> R<Val<'a>> {
    match o {
        Val::DList(_) | Val::List(_) => {
            let items = list_items(o).unwrap_or_default();
            let idx = slice_indices(items.len(), vals, line)?;
            Ok(Val::List(Rc::new(idx.into_iter().map(|i| items[i].clone()).collect())))
        }
        Val::Tuple(items) => {
            let idx = slice_indices(items.len(), vals, line)?;
            Ok(Val::Tuple(Rc::new(idx.into_iter().map(|i| items[i].clone()).collect())))
        }
        Val::Str(s) => {
            let chars: Vec<char> = s.as_str().chars().collect();
            let idx = slice_indices(chars.len(), vals, line)?;
            Ok(owned_str(idx.into_iter().map(|i| chars[i]).collect::<String>()))
        }
        Val::DMap(_) | Val::Dict(_) => {
            // Slices are hashable since Python 3.12 (3.11 raised "unhashable type").
            let part = |v: &Option<Val>| v.as_ref().map_or_else(|| "None".to_string(), py_repr);
            fail(line, format!("KeyError: slice({}, {}, {})", part(&vals[0]), part(&vals[1]), part(&vals[2])))
        }
        Val::Opaque(d) => opaque_err(d, line),
        _ => fail(line, format!("TypeError: '{}' object is not subscriptable", type_name(o))),
    }
}

fn slice_indices(len: usize, parts: [Option<Val>; 3], line: u32) -> R<Vec<usize>> {
    let get = |v: &Option<Val>| -> R<Option<i128>> {
        match v {
            None | Some(Val::None) => Ok(None),
            Some(Val::Int(i)) => Ok(Some(*i)),
            Some(Val::Bool(b)) => Ok(Some(*b as i128)),
            Some(_) => fail(line, "TypeError: slice indices must be integers or None or have an __index__ method"),
        }
    };
    let [start, stop, step] = parts;
    let step = get(&step)?.unwrap_or(1);
    if step == 0 {
        return fail(line, "ValueError: slice step cannot be zero");
    }
    let n = len as i128;
    let clamp = |v: Option<i128>, default: i128| -> i128 {
        match v {
            None => default,
            Some(mut v) => {
                if v < 0 {
                    v += n;
                    if v < 0 {
                        v = if step < 0 { -1 } else { 0 };
                    }
                } else if v >= n {
                    v = if step < 0 { n - 1 } else { n };
                }
                v
            }
        }
    };
    let (start, stop) =
        if step > 0 { (clamp(get(&start)?, 0), clamp(get(&stop)?, n)) } else { (clamp(get(&start)?, n - 1), clamp(get(&stop)?, -1)) };
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(i as usize);
        i += step;
    }
    Ok(out)
}

// ---- builtins

const BUILTINS: &[&str] = &["bool", "len", "any", "all", "str", "int", "float", "list", "tuple", "dict", "set", "isinstance"];
const TYPE_BUILTINS: &[&str] = &["bool", "str", "int", "float", "list", "tuple", "dict", "set"];
const OTHER_BUILTINS: &[&str] = &[
    "abs",
    "aiter",
    "anext",
    "ascii",
    "bin",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "delattr",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "filter",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "issubclass",
    "iter",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "range",
    "repr",
    "reversed",
    "round",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "sum",
    "super",
    "type",
    "vars",
    "zip",
    "__import__",
    "__build_class__",
    "__file__",
    "__doc__",
    "__spec__",
    "__loader__",
    "__package__",
    "__builtins__",
    "NotImplemented",
    "Ellipsis",
    "copyright",
    "credits",
    "license",
    "exit",
    "quit",
];

const DICT_ATTRS: &[&str] = &["clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"];
const LIST_ATTRS: &[&str] = &["append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort"];
const STR_ATTRS: &[&str] = &[
    "capitalize",
    "casefold",
    "center",
    "count",
    "encode",
    "endswith",
    "expandtabs",
    "find",
    "format",
    "format_map",
    "index",
    "isalnum",
    "isalpha",
    "isascii",
    "isdecimal",
    "isdigit",
    "isidentifier",
    "islower",
    "isnumeric",
    "isprintable",
    "isspace",
    "istitle",
    "isupper",
    "join",
    "ljust",
    "lower",
    "lstrip",
    "maketrans",
    "partition",
    "removeprefix",
    "removesuffix",
    "replace",
    "rfind",
    "rindex",
    "rjust",
    "rpartition",
    "rsplit",
    "rstrip",
    "split",
    "splitlines",
    "startswith",
    "strip",
    "swapcase",
    "title",
    "translate",
    "upper",
    "zfill",
];
const INT_ATTRS: &[&str] = &[
    "as_integer_ratio",
    "bit_count",
    "bit_length",
    "conjugate",
    "denominator",
    "from_bytes",
    "imag",
    "numerator",
    "real",
    "to_bytes",
    "is_integer",
    "hex",
    "fromhex",
];
const SET_ATTRS: &[&str] = &[
    "add",
    "clear",
    "copy",
    "difference",
    "difference_update",
    "discard",
    "intersection",
    "intersection_update",
    "isdisjoint",
    "issubset",
    "issuperset",
    "pop",
    "remove",
    "symmetric_difference",
    "symmetric_difference_update",
    "union",
    "update",
];

/// The error for `obj.name` when the attribute is not one this evaluator supports.
fn attr_error<T>(v: &Val, name: &str, line: u32) -> R<T> {
    let attrs: &[&str] = match v {
        Val::Opaque(d) => return opaque_err(&format!("{d}.{name}"), line),
        Val::None => &[],
        Val::DMap(_) | Val::Dict(_) => DICT_ATTRS,
        Val::DList(_) | Val::List(_) => LIST_ATTRS,
        Val::Tuple(_) => &["count", "index"],
        Val::Str(_) => STR_ATTRS,
        Val::Bool(_) | Val::Int(_) | Val::Float(_) => INT_ATTRS,
        Val::Set(_) => SET_ATTRS,
        Val::View(..) => &["mapping", "isdisjoint"],
        _ => return fail(line, format!("unsupported: attribute '{name}' of a {} value", type_name(v))),
    };
    if attrs.contains(&name) || name.starts_with("__") {
        fail(line, format!("unsupported: '{}.{name}'", type_name(v)))
    } else {
        fail(line, format!("AttributeError: '{}' object has no attribute '{name}'", type_name(v)))
    }
}

fn isinstance_of(v: &Val, ty: &str) -> bool {
    match ty {
        "bool" => matches!(v, Val::Bool(_)),
        "int" => matches!(v, Val::Bool(_) | Val::Int(_)),
        "float" => matches!(v, Val::Float(_)),
        "str" => matches!(v, Val::Str(_)),
        "list" => matches!(v, Val::DList(_) | Val::List(_)),
        "dict" => matches!(v, Val::DMap(_) | Val::Dict(_)),
        "tuple" => matches!(v, Val::Tuple(_)),
        "set" => matches!(v, Val::Set(_)),
        _ => false,
    }
}

fn dedupe<'a>(items: Vec<Val<'a>>, line: u32) -> R<Vec<Val<'a>>> {
    let mut out: Vec<Val<'a>> = Vec::new();
    for item in items {
        check_hashable(&item, line)?;
        if !seq_contains(&out, &item, line, 0)? {
            out.push(item);
        }
    }
    Ok(out)
}

fn arity_exact(name: &str, n: usize, want: usize, line: u32) -> R<()> {
    if n == want {
        return Ok(());
    }
    if want == 1 {
        fail(line, format!("TypeError: {name}() takes exactly one argument ({n} given)"))
    } else {
        fail(line, format!("TypeError: {name} expected {want} arguments, got {n}"))
    }
}

fn arity_max(name: &str, n: usize, max: usize, line: u32) -> R<()> {
    if n <= max {
        return Ok(());
    }
    let s = if max == 1 { "" } else { "s" };
    fail(line, format!("TypeError: {name} expected at most {max} argument{s}, got {n}"))
}

// ---------------------------------------------------------------------------------------
// Interpreter

struct Interp<'a> {
    globals: HashMap<Rc<str>, Val<'a>>,
    /// Locals of the running function plus comprehension variables.
    locals: Vec<(Rc<str>, Val<'a>)>,
    func: Option<Rc<FuncDef>>,
    depth: u32,
    calls: u32,
    star_import: bool,
}

fn const_val<'a>(c: &Const) -> Val<'a> {
    match c {
        Const::None => Val::None,
        Const::Bool(b) => Val::Bool(*b),
        Const::Int(i) => Val::Int(*i),
        Const::Float(f) => Val::Float(*f),
        Const::Str(s) => Val::Str(PStr::O(s.clone())),
    }
}

fn run(source: &str, data: &DataNode) -> R<FilterValue> {
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
    fn global(&self, name: &str) -> Option<Val<'a>> {
        self.globals.get(name).cloned()
    }

    fn step(&mut self, line: u32) -> R<()> {
        charge(1, line)
    }

    fn assign(&mut self, name: &Rc<str>, v: Val<'a>) {
        if self.func.is_none() {
            self.globals.insert(name.clone(), v);
            return;
        }
        match self.locals.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = v,
            None => self.locals.push((name.clone(), v)),
        }
    }

    fn lookup(&self, name: &Rc<str>, line: u32) -> R<Val<'a>> {
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

    fn exec_block(&mut self, stmts: &[Stmt]) -> R<Option<Val<'a>>> {
        for s in stmts {
            if let Some(v) = self.exec(s)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    fn exec(&mut self, s: &Stmt) -> R<Option<Val<'a>>> {
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

    fn exec_assert(&mut self, cond: &Expr, msg: Option<&Expr>) -> R<()> {
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

    fn make_closure(&mut self, def: &Rc<FuncDef>) -> R<Val<'a>> {
        let mut defaults = Vec::with_capacity(def.params.len());
        for p in &def.params {
            defaults.push(match &p.default {
                Some(e) => Some(self.eval(e)?),
                None => None,
            });
        }
        Ok(Val::Func(Rc::new(Closure { def: def.clone(), defaults })))
    }

    fn call_value(&mut self, f: Val<'a>, args: Vec<Val<'a>>, kwargs: Vec<(Rc<str>, Val<'a>)>, line: u32) -> R<Val<'a>> {
        match f {
            Val::Func(c) => self.call_func(&c, args, kwargs, line),
            Val::Opaque(d) => opaque_err(&d, line),
            Val::Builtin(b) => fail(line, format!("unsupported: calling builtin '{b}' indirectly")),
            other => fail(line, format!("TypeError: '{}' object is not callable", type_name(&other))),
        }
    }

    fn call_func(&mut self, c: &Rc<Closure<'a>>, args: Vec<Val<'a>>, kwargs: Vec<(Rc<str>, Val<'a>)>, line: u32) -> R<Val<'a>> {
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

    fn enter_eval(&mut self, weight: u32, line: u32) -> R<()> {
        if self.depth + weight > MAX_EVAL_DEPTH {
            return fail(line, "unsupported: expression evaluation nested too deeply");
        }
        self.depth += weight;
        Ok(())
    }

    fn eval(&mut self, e: &Expr) -> R<Val<'a>> {
        self.enter_eval(1, e.line)?;
        self.step(e.line)?;
        let r = self.eval_kind(e);
        self.depth -= 1;
        r
    }

    /// A thin dispatcher: the work happens in one helper per kind, so that only small
    /// frames pile up when expressions nest.
    fn eval_kind(&mut self, e: &Expr) -> R<Val<'a>> {
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

    fn eval_not(&mut self, x: &Expr) -> R<Val<'a>> {
        let v = self.eval(x)?;
        Ok(Val::Bool(!truthy(&v, x.line)?))
    }

    fn eval_unary(&mut self, neg: bool, x: &Expr, line: u32) -> R<Val<'a>> {
        let v = self.eval(x)?;
        unary(neg, v, line)
    }

    fn eval_bin(&mut self, op: BinOp, a: &Expr, b: &Expr, line: u32) -> R<Val<'a>> {
        let x = self.eval(a)?;
        let y = self.eval(b)?;
        binop(op, x, y, line)
    }

    fn eval_ifexp(&mut self, cond: &Expr, then: &Expr, orelse: &Expr) -> R<Val<'a>> {
        let c = self.eval(cond)?;
        let branch = if truthy(&c, cond.line)? { then } else { orelse };
        self.eval(branch)
    }

    fn eval_attr(&mut self, obj: &Expr, name: &str, line: u32) -> R<Val<'a>> {
        let v = self.eval(obj)?;
        attr_error(&v, name, line)
    }

    fn eval_index(&mut self, obj: &Expr, idx: &Expr, line: u32) -> R<Val<'a>> {
        let o = self.eval(obj)?;
        let i = self.eval(idx)?;
        subscript(&o, &i, line)
    }

    fn eval_list(&mut self, items: &[Expr]) -> R<Val<'a>> {
        Ok(Val::List(Rc::new(self.eval_all(items)?)))
    }

    fn eval_tuple(&mut self, items: &[Expr]) -> R<Val<'a>> {
        Ok(Val::Tuple(Rc::new(self.eval_all(items)?)))
    }

    fn eval_set(&mut self, items: &[Expr], line: u32) -> R<Val<'a>> {
        let v = self.eval_all(items)?;
        Ok(Val::Set(Rc::new(dedupe(v, line)?)))
    }

    fn eval_dict(&mut self, pairs: &[(Expr, Expr)]) -> R<Val<'a>> {
        let mut entries: Vec<(Val<'a>, Val<'a>)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let key = self.eval(k)?;
            let value = self.eval(v)?;
            dict_insert(&mut entries, key, value, k.line)?;
        }
        Ok(Val::Dict(Rc::new(entries)))
    }

    fn eval_comp(&mut self, c: &CompExpr, line: u32) -> R<Val<'a>> {
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

    fn eval_all(&mut self, items: &[Expr]) -> R<Vec<Val<'a>>> {
        items.iter().map(|e| self.eval(e)).collect()
    }

    fn eval_boolop(&mut self, is_and: bool, values: &[Expr]) -> R<Val<'a>> {
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

    fn eval_compare(&mut self, first: &Expr, rest: &[(CmpOp, Expr)]) -> R<Val<'a>> {
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

    fn eval_slice(&mut self, obj: &Expr, parts: &[Option<Expr>; 3], line: u32) -> R<Val<'a>> {
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
    fn comp_for_each(&mut self, clauses: &[Clause], ci: usize, elt: &Expr, f: &mut dyn FnMut(&mut Self, Val<'a>) -> R<bool>) -> R<bool> {
        // Comprehension levels use more stack than plain expressions: weigh them more.
        self.enter_eval(COMP_WEIGHT, elt.line)?;
        let r = self.comp_level(clauses, ci, elt, f);
        self.depth -= COMP_WEIGHT;
        r
    }

    fn comp_level(&mut self, clauses: &[Clause], ci: usize, elt: &Expr, f: &mut dyn FnMut(&mut Self, Val<'a>) -> R<bool>) -> R<bool> {
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

    fn bind_target(&mut self, target: &Target, v: Val<'a>, line: u32) -> R<()> {
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

    fn eval_call(&mut self, c: &CallExpr, line: u32) -> R<Val<'a>> {
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

    fn eval_kwargs(&mut self, kwargs: &[(Rc<str>, Expr)]) -> R<Vec<(Rc<str>, Val<'a>)>> {
        let mut out = Vec::with_capacity(kwargs.len());
        for (k, e) in kwargs {
            out.push((k.clone(), self.eval(e)?));
        }
        Ok(out)
    }

    fn call_method(&mut self, recv: Val<'a>, name: &str, args: &[Expr], kwargs: &[(Rc<str>, Expr)], line: u32) -> R<Val<'a>> {
        check_method(&recv, name, kwargs.is_empty(), line)?;
        let argv = self.eval_all(args)?;
        apply_method(recv, name, argv, line)
    }

    fn call_builtin(&mut self, name: &'static str, args: &[Expr], kwargs: &[(Rc<str>, Expr)], line: u32) -> R<Val<'a>> {
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

    fn eval_any_all(&mut self, is_any: bool, args: &[Expr], line: u32) -> R<Val<'a>> {
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
fn bind_args<'a>(c: &Closure<'a>, args: Vec<Val<'a>>, kwargs: Vec<(Rc<str>, Val<'a>)>, line: u32) -> R<Vec<(Rc<str>, Val<'a>)>> {
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
fn dict_insert<'a>(entries: &mut Vec<(Val<'a>, Val<'a>)>, key: Val<'a>, value: Val<'a>, line: u32) -> R<()> {
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

fn unary<'a>(neg: bool, v: Val<'a>, line: u32) -> R<Val<'a>> {
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

fn isinstance<'a>(v: &Val, ty: &Val, line: u32) -> R<Val<'a>> {
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
fn check_method(recv: &Val, name: &str, no_kwargs: bool, line: u32) -> R<()> {
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

fn apply_method<'a>(recv: Val<'a>, name: &str, argv: Vec<Val<'a>>, line: u32) -> R<Val<'a>> {
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
fn apply_builtin<'a>(name: &'static str, argv: Vec<Val<'a>>, line: u32) -> R<Val<'a>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::data::SourceLoc;

    // ---- a tiny JSON reader, to write test data compactly

    struct Json<'s> {
        b: &'s [u8],
        i: usize,
    }

    fn node(value: DataValue) -> DataNode {
        DataNode::new(value, SourceLoc::default())
    }

    impl Json<'_> {
        fn ws(&mut self) {
            while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
        }

        fn eat(&mut self, c: u8) -> bool {
            self.ws();
            if self.b.get(self.i) == Some(&c) {
                self.i += 1;
                true
            } else {
                false
            }
        }

        fn string(&mut self) -> String {
            assert!(self.eat(b'"'));
            let mut out = Vec::new();
            loop {
                let c = self.b[self.i];
                self.i += 1;
                match c {
                    b'"' => break,
                    b'\\' => {
                        let e = self.b[self.i];
                        self.i += 1;
                        match e {
                            b'n' => out.push(b'\n'),
                            b't' => out.push(b'\t'),
                            b'u' => {
                                let hex = std::str::from_utf8(&self.b[self.i..self.i + 4]).unwrap();
                                self.i += 4;
                                let ch = char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap();
                                out.extend(ch.to_string().bytes());
                            }
                            other => out.push(other),
                        }
                    }
                    other => out.push(other),
                }
            }
            String::from_utf8(out).unwrap()
        }

        fn value(&mut self) -> DataNode {
            self.ws();
            match self.b[self.i] {
                b'{' => {
                    self.i += 1;
                    let mut entries = Vec::new();
                    if !self.eat(b'}') {
                        loop {
                            let k = self.string();
                            assert!(self.eat(b':'));
                            let v = self.value();
                            entries.push(DataEntry { key: node(DataValue::Str(k)), value: v });
                            if !self.eat(b',') {
                                assert!(self.eat(b'}'));
                                break;
                            }
                        }
                    }
                    node(DataValue::Map(entries))
                }
                b'[' => {
                    self.i += 1;
                    let mut items = Vec::new();
                    if !self.eat(b']') {
                        loop {
                            items.push(self.value());
                            if !self.eat(b',') {
                                assert!(self.eat(b']'));
                                break;
                            }
                        }
                    }
                    node(DataValue::List(items))
                }
                b'"' => node(DataValue::Str(self.string())),
                _ => {
                    let start = self.i;
                    while self.i < self.b.len() && !b",]} \n".contains(&self.b[self.i]) {
                        self.i += 1;
                    }
                    let word = std::str::from_utf8(&self.b[start..self.i]).unwrap();
                    node(match word {
                        "true" => DataValue::Bool(true),
                        "false" => DataValue::Bool(false),
                        "null" => DataValue::Null,
                        w if w.contains(['.', 'e', 'E']) => DataValue::Float(w.parse().unwrap()),
                        w => DataValue::Int(w.parse().unwrap()),
                    })
                }
            }
        }
    }

    fn json(s: &str) -> DataNode {
        let mut j = Json { b: s.as_bytes(), i: 0 };
        let v = j.value();
        j.ws();
        assert_eq!(j.i, s.len(), "trailing JSON in {s}");
        v
    }

    const CLUSTER: &str = r#"{"bootstrap_cloudflare": {"enabled": true, "domain": "example.com"},
        "bootstrap_distribution": "k3s",
        "bootstrap_node_inventory": [{"name": "a", "controller": true}, {"name": "b", "controller": false}]}"#;

    const CLOUDFLARE: &str = r#"# Path filter: this directory renders only when Cloudflare is switched on.
main = lambda data: bool((data.get("bootstrap_cloudflare") or {}).get("enabled"))
"#;
    const TALOS: &str = r#"main = lambda data: data.get("bootstrap_distribution", "k3s") == "talos"
"#;
    const K3S_WORKERS: &str = r#"# Path filter: k3s clusters that have at least one worker node.
main = lambda data: data.get("bootstrap_distribution", "k3s") == "k3s" and any(
    node.get("controller") is False for node in data.get("bootstrap_node_inventory", [])
)
"#;

    /// (source, data as JSON, expected). Expected is `render`, `skip`, `err:<exact reason>`
    /// (a Python exception: cross-checked against CPython by the script in the report),
    /// `unsup:<part of the reason>` (outside the subset) or `syntax:<part of the reason>`.
    const CASES: &[(&str, &str, &str)] = &[
        // --- the real filters
        (CLOUDFLARE, CLUSTER, "render"),
        (CLOUDFLARE, r#"{}"#, "skip"),
        (CLOUDFLARE, r#"{"bootstrap_cloudflare": null}"#, "skip"),
        (CLOUDFLARE, r#"{"bootstrap_cloudflare": {"enabled": false}}"#, "skip"),
        (CLOUDFLARE, r#"{"bootstrap_cloudflare": {}}"#, "skip"),
        (CLOUDFLARE, r#"{"bootstrap_cloudflare": {"enabled": "yes"}}"#, "render"),
        (CLOUDFLARE, r#"{"bootstrap_cloudflare": []}"#, "skip"),
        (CLOUDFLARE, r#"{"bootstrap_cloudflare": [1]}"#, "err:AttributeError: 'list' object has no attribute 'get'"),
        (TALOS, CLUSTER, "skip"),
        (TALOS, r#"{}"#, "skip"),
        (TALOS, r#"{"bootstrap_distribution": "talos"}"#, "render"),
        (TALOS, r#"{"bootstrap_distribution": null}"#, "skip"),
        (K3S_WORKERS, CLUSTER, "render"),
        (K3S_WORKERS, r#"{}"#, "skip"),
        (K3S_WORKERS, r#"{"bootstrap_node_inventory": [{"controller": true}]}"#, "skip"),
        (K3S_WORKERS, r#"{"bootstrap_node_inventory": [{"controller": 0}]}"#, "skip"),
        (K3S_WORKERS, r#"{"bootstrap_node_inventory": [{}, {"controller": false}]}"#, "render"),
        (K3S_WORKERS, r#"{"bootstrap_distribution": "talos", "bootstrap_node_inventory": [{"controller": false}]}"#, "skip"),
        (K3S_WORKERS, r#"{"bootstrap_node_inventory": null}"#, "err:TypeError: 'NoneType' object is not iterable"),
        (K3S_WORKERS, r#"{"bootstrap_node_inventory": [1]}"#, "err:AttributeError: 'int' object has no attribute 'get'"),
        // `any` over a generator stops at the first true element, like Python
        (K3S_WORKERS, r#"{"bootstrap_node_inventory": [{"controller": false}, 1]}"#, "render"),
        // --- subscripts
        (r#"main = lambda data: data["x"]["enabled"]"#, r#"{"x": {"enabled": true}}"#, "render"),
        (r#"main = lambda data: data["x"]["enabled"]"#, r#"{"x": {"enabled": false}}"#, "skip"),
        (r#"main = lambda data: data["x"]["enabled"]"#, r#"{}"#, "err:KeyError: 'x'"),
        (r#"main = lambda data: data["x"]["enabled"]"#, r#"{"x": {}}"#, "err:KeyError: 'enabled'"),
        (r#"main = lambda data: data["x"]["enabled"]"#, r#"{"x": null}"#, "err:TypeError: 'NoneType' object is not subscriptable"),
        (r#"main = lambda data: data["l"][0]"#, r#"{"l": [false]}"#, "skip"),
        (r#"main = lambda data: data["l"][-1]"#, r#"{"l": [true, false]}"#, "skip"),
        (r#"main = lambda data: data["l"][2]"#, r#"{"l": [true, false]}"#, "err:IndexError: list index out of range"),
        (r#"main = lambda data: data["l"]["a"]"#, r#"{"l": []}"#, "err:TypeError: list indices must be integers or slices, not str"),
        (r#"main = lambda data: data["l"][True] == 2"#, r#"{"l": [1, 2]}"#, "render"),
        (r#"main = lambda data: data["s"][0] == "a""#, r#"{"s": "abc"}"#, "render"),
        (r#"main = lambda data: data["s"][:2] == "ab" and data["s"][::-1] == "cba""#, r#"{"s": "abc"}"#, "render"),
        (r#"main = lambda data: data["l"][1:] == [2, 3]"#, r#"{"l": [1, 2, 3]}"#, "render"),
        (r#"main = lambda data: data["l"][::0]"#, r#"{"l": [1]}"#, "err:ValueError: slice step cannot be zero"),
        (r#"main = lambda data: data[1]"#, r#"{}"#, "err:KeyError: 1"),
        (r#"main = lambda data: data[[]]"#, r#"{}"#, "err:TypeError: unhashable type: 'list'"),
        (r#"main = lambda data: {1: False}[True]"#, r#"{}"#, "skip"),
        (r#"main = lambda data: {"a": 1, "a": False}["a"]"#, r#"{}"#, "skip"),
        // --- .get
        (r#"main = lambda data: data.get("a", {}).get("b", False)"#, r#"{}"#, "skip"),
        (r#"main = lambda data: data.get("a", {}).get("b", False)"#, r#"{"a": {"b": 1}}"#, "render"),
        (r#"main = lambda data: data.get("a", {}).get("b", False)"#, r#"{"a": null}"#, "err:AttributeError: 'NoneType' object has no attribute 'get'"),
        (r#"main = lambda data: data.get('x')"#, r#"{}"#, "render"),
        (r#"main = lambda data: data.get('x')"#, r#"{"x": false}"#, "skip"),
        (r#"main = lambda data: data.get()"#, r#"{}"#, "err:TypeError: get expected at least 1 argument, got 0"),
        (r#"main = lambda data: data.get(1, 2, 3)"#, r#"{}"#, "err:TypeError: get expected at most 2 arguments, got 3"),
        (r#"main = lambda data: data.get("a", default=1)"#, r#"{}"#, "err:TypeError: dict.get() takes no keyword arguments"),
        (r#"main = lambda data: data.keys(1)"#, r#"{}"#, "err:TypeError: dict.keys() takes no arguments (1 given)"),
        (r#"main = lambda data: data.enabled"#, r#"{}"#, "err:AttributeError: 'dict' object has no attribute 'enabled'"),
        (r#"main = lambda data: data.setdefault("a", 1)"#, r#"{}"#, "unsup:'dict.setdefault'"),
        // --- not / or / and
        (r#"main = lambda data: not data.get("x")"#, r#"{}"#, "render"),
        (r#"main = lambda data: not data.get("x")"#, r#"{"x": "on"}"#, "skip"),
        (r#"main = lambda data: not not data.get("x")"#, r#"{"x": 0}"#, "skip"),
        (r#"main = lambda data: data.get("a") or data.get("b")"#, r#"{"a": 0, "b": false}"#, "skip"),
        (r#"main = lambda data: data.get("a") or data.get("b")"#, r#"{"a": false, "b": 0}"#, "render"),
        (r#"main = lambda data: data.get("a") and data.get("b")"#, r#"{"a": false, "b": true}"#, "skip"),
        (r#"main = lambda data: data.get("a") and data.get("b")"#, r#"{"a": 1, "b": false}"#, "skip"),
        (r#"main = lambda data: data.get("a") and data["missing"]"#, r#"{"a": false}"#, "skip"),
        (r#"main = lambda data: data.get("a") or data["missing"]"#, r#"{"a": true}"#, "render"),
        (r#"main = lambda data: data.get("a") or data["missing"]"#, r#"{"a": false}"#, "err:KeyError: 'missing'"),
        (r#"main = lambda data: not data.get("a") and not data.get("b") or False"#, r#"{"a": 1}"#, "skip"),
        // --- comparisons
        (r#"main = lambda data: data.get("d") in ["a", "b"]"#, r#"{"d": "b"}"#, "render"),
        (r#"main = lambda data: data.get("d") in ["a", "b"]"#, r#"{"d": "c"}"#, "skip"),
        (r#"main = lambda data: data.get("d") not in ("a", "b")"#, r#"{"d": "c"}"#, "render"),
        (r#"main = lambda data: data.get("d") in {"a", "b"}"#, r#"{"d": "a"}"#, "render"),
        (r#"main = lambda data: "k" in data"#, r#"{"k": null}"#, "render"),
        (r#"main = lambda data: "k" in data.keys()"#, r#"{"j": null}"#, "skip"),
        (r#"main = lambda data: 1 in data.values()"#, r#"{"j": true}"#, "render"),
        (r#"main = lambda data: ("j", True) in data.items()"#, r#"{"j": 1}"#, "render"),
        (r#"main = lambda data: "ell" in data["s"]"#, r#"{"s": "hello"}"#, "render"),
        (r#"main = lambda data: 1 in data["s"]"#, r#"{"s": "hello"}"#, "err:TypeError: 'in <string>' requires string as left operand, not int"),
        (r#"main = lambda data: 1 in data.get("x")"#, r#"{}"#, "err:TypeError: argument of type 'NoneType' is not iterable"),
        (r#"main = lambda data: [] in data"#, r#"{}"#, "err:TypeError: unhashable type: 'list'"),
        (r#"main = lambda data: data.get("d") != "x""#, r#"{"d": "x"}"#, "skip"),
        (r#"main = lambda data: data.get("d") != "x""#, r#"{}"#, "render"),
        (r#"main = lambda data: data["a"] == data["b"]"#, r#"{"a": true, "b": 1}"#, "render"),
        (r#"main = lambda data: data["a"] == data["b"]"#, r#"{"a": false, "b": 0.0}"#, "render"),
        (r#"main = lambda data: data["a"] == data["b"]"#, r#"{"a": 1, "b": 1.0}"#, "render"),
        (r#"main = lambda data: data["a"] == data["b"]"#, r#"{"a": 1, "b": 1.5}"#, "skip"),
        (r#"main = lambda data: data["a"] == data["b"]"#, r#"{"a": "1", "b": 1}"#, "skip"),
        (r#"main = lambda data: data["a"] == data["b"]"#, r#"{"a": [1, [2]], "b": [1, [2.0]]}"#, "render"),
        (r#"main = lambda data: data["a"] == data["b"]"#, r#"{"a": {"x": 1, "y": 2}, "b": {"y": 2, "x": 1}}"#, "render"),
        (r#"main = lambda data: data["a"] == data["b"]"#, r#"{"a": {"x": 1}, "b": {"x": 2}}"#, "skip"),
        (r#"main = lambda data: data["a"] == data["b"]"#, r#"{"a": null, "b": null}"#, "render"),
        (r#"main = lambda data: data["a"] == (1, 2)"#, r#"{"a": [1, 2]}"#, "skip"),
        (r#"main = lambda data: data["a"] == [1, 2]"#, r#"{"a": [1, 2]}"#, "render"),
        (r#"main = lambda data: data["a"] is False"#, r#"{"a": 0}"#, "skip"),
        (r#"main = lambda data: data["a"] is False"#, r#"{"a": false}"#, "render"),
        (r#"main = lambda data: data["a"] is not True"#, r#"{"a": 1}"#, "render"),
        (r#"main = lambda data: data.get("a") is None"#, r#"{}"#, "render"),
        (r#"main = lambda data: data.get("a") is None"#, r#"{"a": 0}"#, "skip"),
        (r#"main = lambda data: data.get("a") is not None"#, r#"{"a": 0}"#, "render"),
        (r#"main = lambda data: data is data"#, r#"{}"#, "render"),
        (r#"main = lambda data: data["a"] is data["a"]"#, r#"{"a": {}}"#, "render"),
        (r#"main = lambda data: data["a"] is data["b"]"#, r#"{"a": {}, "b": {}}"#, "skip"),
        (r#"main = lambda data: data["a"] is 1"#, r#"{"a": 1}"#, "unsup:object identity"),
        (r#"main = lambda data: 1 < data["n"] < 5"#, r#"{"n": 3}"#, "render"),
        (r#"main = lambda data: 1 < data["n"] < 5"#, r#"{"n": 5}"#, "skip"),
        (r#"main = lambda data: 1 < data["n"] < 5"#, r#"{"n": 0}"#, "skip"),
        // chained comparisons stop at the first false link: no TypeError from `"x" < 5`
        (r#"main = lambda data: 1 > data["n"] < 5"#, r#"{"n": "x"}"#, "err:TypeError: '>' not supported between instances of 'int' and 'str'"),
        (r#"main = lambda data: 9 < data["n"] < "x""#, r#"{"n": 3}"#, "skip"),
        (r#"main = lambda data: data["n"] >= 2.5"#, r#"{"n": 3}"#, "render"),
        (r#"main = lambda data: data["n"] <= True"#, r#"{"n": 1}"#, "render"),
        (r#"main = lambda data: data["v"] > "1.20""#, r#"{"v": "1.3"}"#, "render"),
        (r#"main = lambda data: data["v"] < [1, 3]"#, r#"{"v": [1, 2, 9]}"#, "render"),
        (r#"main = lambda data: data["v"] < [1, 2]"#, r#"{"v": [1, 2]}"#, "skip"),
        (r#"main = lambda data: data["v"] < 1"#, r#"{"v": null}"#, "err:TypeError: '<' not supported between instances of 'NoneType' and 'int'"),
        (r#"main = lambda data: data["v"] > float("nan")"#, r#"{"v": 1}"#, "skip"),
        // --- len / any / all / builtins
        (r#"main = lambda data: len(data.get("nodes", [])) > 1"#, r#"{"nodes": [1, 2]}"#, "render"),
        (r#"main = lambda data: len(data.get("nodes", [])) > 1"#, r#"{"nodes": [1]}"#, "skip"),
        (r#"main = lambda data: len(data.get("nodes", [])) > 1"#, r#"{}"#, "skip"),
        (r#"main = lambda data: len(data["s"]) == 3"#, r#"{"s": "héé"}"#, "render"),
        (r#"main = lambda data: len(data) == 2"#, r#"{"a": 1, "b": 2}"#, "render"),
        (r#"main = lambda data: len(data["n"])"#, r#"{"n": 1}"#, "err:TypeError: object of type 'int' has no len()"),
        (r#"main = lambda data: len(data, data)"#, r#"{}"#, "err:TypeError: len() takes exactly one argument (2 given)"),
        (r#"main = lambda data: all(n.get("controller") for n in data["nodes"])"#, r#"{"nodes": [{"controller": true}, {"controller": 1}]}"#, "render"),
        (r#"main = lambda data: all(n.get("controller") for n in data["nodes"])"#, r#"{"nodes": [{"controller": true}, {}]}"#, "skip"),
        (r#"main = lambda data: all(n["controller"] for n in data["nodes"])"#, r#"{"nodes": [{"controller": false}, {}]}"#, "skip"),
        (r#"main = lambda data: all(n["controller"] for n in data["nodes"])"#, r#"{"nodes": [{"controller": true}, {}]}"#, "err:KeyError: 'controller'"),
        (r#"main = lambda data: all([])"#, r#"{}"#, "render"),
        (r#"main = lambda data: any([])"#, r#"{}"#, "skip"),
        (r#"main = lambda data: any([n["c"] for n in data["nodes"]])"#, r#"{"nodes": [{"c": true}, {}]}"#, "err:KeyError: 'c'"),
        (r#"main = lambda data: any([data.get("a"), data.get("b")])"#, r#"{"b": "x"}"#, "render"),
        (r#"main = lambda data: any(data.get("l", []))"#, r#"{"l": [0, "", null]}"#, "skip"),
        (r#"main = lambda data: any(data)"#, r#"{"": 1}"#, "skip"),
        (r#"main = lambda data: any(1, 2)"#, r#"{}"#, "err:TypeError: any() takes exactly one argument (2 given)"),
        (r#"main = lambda data: any(x for x in data["l"] if x > 2)"#, r#"{"l": [1, 2, 3]}"#, "render"),
        (r#"main = lambda data: any(x for x in data["l"] if x > 5)"#, r#"{"l": [1, 2, 3]}"#, "skip"),
        (r#"main = lambda data: any(x == y for x in data["a"] for y in data["b"])"#, r#"{"a": [1, 2], "b": [3, 2]}"#, "render"),
        (r#"main = lambda data: any(k.startswith("cf_") and v for k, v in data.items())"#, r#"{"a": 1, "cf_x": true}"#, "render"),
        (r#"main = lambda data: any(k.startswith("cf_") and v for k, v in data.items())"#, r#"{"a": 1, "cf_x": false}"#, "skip"),
        (r#"main = lambda data: [x for (x, y) in data["p"]] == [1, 3]"#, r#"{"p": [[1, 2], [3, 4]]}"#, "render"),
        (r#"main = lambda data: [x for x, y in data["p"]]"#, r#"{"p": [1]}"#, "err:TypeError: cannot unpack non-iterable int object"),
        (r#"main = lambda data: [x for x, y in data["p"]]"#, r#"{"p": [[1, 2, 3]]}"#, "err:ValueError: too many values to unpack (expected 2)"),
        (r#"main = lambda data: [x for x, y in data["p"]]"#, r#"{"p": [[1]]}"#, "err:ValueError: not enough values to unpack (expected 2, got 1)"),
        (r#"main = lambda data: {x % 2 for x in data["l"]} == {0, 1}"#, r#"{"l": [1, 2, 3, 4]}"#, "render"),
        (r#"main = lambda data: list(x for x in data["l"]) == data["l"]"#, r#"{"l": [1, 2]}"#, "render"),
        (r#"main = lambda data: (x for x in [])"#, r#"{}"#, "render"),
        (r#"main = lambda data: len(x for x in [])"#, r#"{}"#, "err:TypeError: object of type 'generator' has no len()"),
        (r#"main = lambda data: bool(data.get("x"))"#, r#"{"x": 0}"#, "skip"),
        (r#"main = lambda data: bool()"#, r#"{}"#, "skip"),
        (r#"main = lambda data: bool(1, 2)"#, r#"{}"#, "err:TypeError: bool expected at most 1 argument, got 2"),
        (r#"main = lambda data: str(data["v"]) == "1""#, r#"{"v": 1}"#, "render"),
        (r#"main = lambda data: str(data["v"]) == "True""#, r#"{"v": true}"#, "render"),
        (r#"main = lambda data: str(data["v"]) == "None""#, r#"{"v": null}"#, "render"),
        (r#"main = lambda data: str(data["v"]) == "1.0""#, r#"{"v": 1.0}"#, "render"),
        (r#"main = lambda data: str(data["v"]) == "1e+16""#, r#"{"v": 1e16}"#, "render"),
        (r#"main = lambda data: str(data["v"]) == "[1, 'a', None]""#, r#"{"v": [1, "a", null]}"#, "render"),
        (r#"main = lambda data: str(data) == "{'a': (1,), 'b': \"it's\"}""#, r#"{}"#, "skip"),
        (r#"main = lambda data: str({'a': (1,), 'b': "it's"}) == "{'a': (1,), 'b': \"it's\"}""#, r#"{}"#, "render"),
        (r#"main = lambda data: int(data["port"]) > 1000"#, r#"{"port": "8080"}"#, "render"),
        (r#"main = lambda data: int(data["port"]) > 1000"#, r#"{"port": " -1_000 "}"#, "skip"),
        (r#"main = lambda data: int(data["port"])"#, r#"{"port": "80a"}"#, "err:ValueError: invalid literal for int() with base 10: '80a'"),
        (r#"main = lambda data: int(data["port"])"#, r#"{"port": null}"#, "err:TypeError: int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"),
        (r#"main = lambda data: int(data["f"]) == 2"#, r#"{"f": 2.9}"#, "render"),
        (r#"main = lambda data: int(data["f"]) == -2"#, r#"{"f": -2.9}"#, "render"),
        (r#"main = lambda data: float(data["f"]) == 2.5"#, r#"{"f": "2.5"}"#, "render"),
        (r#"main = lambda data: float(data["f"])"#, r#"{"f": "x"}"#, "err:ValueError: could not convert string to float: 'x'"),
        (r#"main = lambda data: float(data["f"]) > 1e308"#, r#"{"f": "inf"}"#, "render"),
        (r#"main = lambda data: isinstance(data.get("x"), dict)"#, r#"{"x": {}}"#, "render"),
        (r#"main = lambda data: isinstance(data.get("x"), dict)"#, r#"{"x": []}"#, "skip"),
        (r#"main = lambda data: isinstance(data.get("x"), (list, tuple))"#, r#"{"x": []}"#, "render"),
        (r#"main = lambda data: isinstance(data.get("x"), int)"#, r#"{"x": true}"#, "render"),
        (r#"main = lambda data: isinstance(data.get("x"), bool)"#, r#"{"x": 1}"#, "skip"),
        (r#"main = lambda data: isinstance(data, len)"#, r#"{}"#, "err:TypeError: isinstance() arg 2 must be a type, a tuple of types, or a union"),
        (r#"main = lambda data: isinstance(data)"#, r#"{}"#, "err:TypeError: isinstance expected 2 arguments, got 1"),
        (r#"main = lambda data: list(data) == ["a"] and tuple(data["a"]) == (1,)"#, r#"{"a": [1]}"#, "render"),
        (r#"main = lambda data: list(1)"#, r#"{}"#, "err:TypeError: 'int' object is not iterable"),
        (r#"main = lambda data: dict(data) == data and dict() == {} and set() == set([])"#, r#"{"a": 1}"#, "render"),
        (r#"main = lambda data: sorted(data)"#, r#"{}"#, "unsup:builtin 'sorted'"),
        (r#"main = lambda data: print(data)"#, r#"{}"#, "unsup:builtin 'print'"),
        // --- str methods
        (r#"main = lambda data: data.get("x", "").lower() == "yes""#, r#"{"x": "YeS"}"#, "render"),
        (r#"main = lambda data: data.get("x", "").upper() == "YES""#, r#"{"x": "no"}"#, "skip"),
        (r#"main = lambda data: data["x"].startswith("10.")"#, r#"{"x": "10.0.0.1"}"#, "render"),
        (r#"main = lambda data: data["x"].startswith(("a", "b"))"#, r#"{"x": "bc"}"#, "render"),
        (r#"main = lambda data: data["x"].endswith(".com")"#, r#"{"x": "example.org"}"#, "skip"),
        (r#"main = lambda data: data["x"].strip() == "a" and data["x"].lstrip(" ") == "a  ""#, r#"{"x": "  a  "}"#, "render"),
        (r#"main = lambda data: data["x"].startswith(1)"#, r#"{"x": "a"}"#, "err:TypeError: startswith first arg must be str or a tuple of str, not int"),
        (r#"main = lambda data: data["x"].lower(1)"#, r#"{"x": "a"}"#, "err:TypeError: str.lower() takes no arguments (1 given)"),
        (r#"main = lambda data: data["x"].startswith("a")"#, r#"{"x": null}"#, "err:AttributeError: 'NoneType' object has no attribute 'startswith'"),
        (r#"main = lambda data: data["x"].split(",")"#, r#"{"x": "a"}"#, "unsup:'str.split'"),
        // --- constants and literals
        (r#"main = lambda data: True"#, r#"{}"#, "render"),
        (r#"main = lambda data: False"#, r#"{}"#, "skip"),
        (r#"main = lambda data: None"#, r#"{}"#, "render"),
        (r#"main = lambda data: 0"#, r#"{}"#, "render"),
        (r#"main = lambda data: """#, r#"{}"#, "render"),
        (r#"main = lambda data: []"#, r#"{}"#, "render"),
        (r#"main = lambda data: 0 == False"#, r#"{}"#, "render"),
        (r#"main = lambda data: 1 == 1.0 == True"#, r#"{}"#, "render"),
        (r#"main = lambda data: 0x1F == 31 and 0o17 == 15 and 0b101 == 5 and 1_000 == 1000"#, r#"{}"#, "render"),
        (r#"main = lambda data: 1.5e3 == 1500 and .5 == 0.5 and 1. == 1"#, r#"{}"#, "render"),
        (r#"main = lambda data: 'it\'s' == "it's" and '\x41\u00e9\n' == "Aé\n" and r'\n' == "\\n""#, r#"{}"#, "render"),
        (r#"main = lambda data: "a" 'b' """c""" == "abc""#, r#"{}"#, "render"),
        (r#"main = lambda data: f"{{x}}" == "{x}""#, r#"{}"#, "render"),
        (r#"main = lambda data: u"x" == "x""#, r#"{}"#, "render"),
        (r#"main = lambda data: (1,) == (1,) and () == () and (1) == 1"#, r#"{}"#, "render"),
        (r#"main = lambda data: {"a": [1, {"b": None}]}["a"][1]["b"] is None"#, r#"{}"#, "render"),
        (r#"main = lambda data: data.get("x") if data.get("flag") else False"#, r#"{"flag": true, "x": 1}"#, "render"),
        (r#"main = lambda data: data.get("x") if data.get("flag") else False"#, r#"{"x": 1}"#, "skip"),
        // --- arithmetic
        (r#"main = lambda data: -data["n"] == -3 and +data["n"] == 3 and -True == -1"#, r#"{"n": 3}"#, "render"),
        (r#"main = lambda data: data["n"] * 2 + 1 - 3 == 4 and 7 // 2 == 3 and -7 // 2 == -4 and -7 % 3 == 2"#, r#"{"n": 3}"#, "render"),
        (r#"main = lambda data: 7 / 2 == 3.5 and 2 ** 10 == 1024 and 2 ** -1 == 0.5 and -2 ** 2 == -4"#, r#"{}"#, "render"),
        (r#"main = lambda data: "ab" * 2 == "abab" and [0] * 3 == [0, 0, 0] and [1] + [2] == [1, 2]"#, r#"{}"#, "render"),
        (r#"main = lambda data: data["n"] / 0"#, r#"{"n": 3}"#, "err:ZeroDivisionError: division by zero"),
        (r#"main = lambda data: data["n"] % 0"#, r#"{"n": 3}"#, "err:ZeroDivisionError: integer modulo by zero"),
        (r#"main = lambda data: data["n"] + "x""#, r#"{"n": 3}"#, "err:TypeError: unsupported operand type(s) for +: 'int' and 'str'"),
        (r#"main = lambda data: data["s"] + 1"#, r#"{"s": "x"}"#, "err:TypeError: can only concatenate str (not \"int\") to str"),
        (r#"main = lambda data: -data["s"]"#, r#"{"s": "x"}"#, "err:TypeError: bad operand type for unary -: 'str'"),
        (r#"main = lambda data: "a" * 1.5"#, r#"{}"#, "err:TypeError: can't multiply sequence by non-int of type 'float'"),
        // --- def main
        ("def main(data):\n    return data.get(\"x\", False)\n", r#"{}"#, "skip"),
        ("def main(data):\n    \"\"\"Docstring.\"\"\"\n    return data.get(\"x\", False)\n", r#"{"x": 1}"#, "render"),
        ("from typing import Any\n\n\ndef main(data: dict[str, Any]) -> bool:\n    return bool(data.get(\"x\"))\n", r#"{}"#, "skip"),
        ("def main(data): return not data\n", r#"{}"#, "render"),
        ("def main(data):\n    pass\n", r#"{}"#, "render"),
        ("def main(data):\n    return\n", r#"{}"#, "render"),
        ("def main(data):\n    enabled = data.get(\"x\", {})\n    return enabled.get(\"on\", False)\n", r#"{"x": {"on": true}}"#, "render"),
        ("def main(data):\n    if data.get(\"a\"):\n        return True\n    elif data.get(\"b\"):\n        return data[\"b\"] > 1\n    else:\n        return False\n", r#"{"b": 1}"#, "skip"),
        ("def main(data):\n    if data.get(\"a\"):\n        return True\n    elif data.get(\"b\"):\n        return data[\"b\"] > 1\n    else:\n        return False\n", r#"{"a": 1}"#, "render"),
        ("def main(data):\n    if data.get(\"a\"): return True\n    return False\n", r#"{}"#, "skip"),
        ("def main(data):\n    if data.get(\"a\"):\n        x = 1\n    return x\n", r#"{}"#, "err:UnboundLocalError: cannot access local variable 'x' where it is not associated with a value"),
        ("def main(data):\n    assert isinstance(data, dict), \"bad\"\n    return False\n", r#"{}"#, "skip"),
        ("def main(data):\n    assert data, \"no data\"\n    return False\n", r#"{}"#, "err:AssertionError: no data"),
        ("def _on(d, key):\n    return bool(d.get(key))\n\n\ndef main(data):\n    return _on(data, \"a\") and _on(data, key=\"b\")\n", r#"{"a": 1, "b": 0}"#, "skip"),
        ("KEY = \"a\"\nmain = lambda data: data.get(KEY) == 1\n", r#"{"a": 1}"#, "render"),
        ("main = lambda data: data.get(KEY) == 1\nKEY = \"a\"\n", r#"{"a": 1}"#, "render"),
        ("main = lambda data, key=\"a\": data.get(key) == 1\n", r#"{"a": 1}"#, "render"),
        ("main = lambda data: True\nmain = lambda data: False\n", r#"{}"#, "skip"),
        ("main: object = lambda data: False\n", r#"{}"#, "skip"),
        ("def main(data):\n    return main(data)\n", r#"{}"#, "err:RecursionError: maximum recursion depth exceeded"),
        ("def main(data):\n    return y\n", r#"{}"#, "err:NameError: name 'y' is not defined"),
        ("main = lambda: True\n", r#"{}"#, "err:TypeError: <lambda>() takes 0 positional arguments but 1 was given"),
        ("def main(data, extra):\n    return True\n", r#"{}"#, "err:TypeError: main() missing 1 required positional argument: 'extra'"),
        ("main = True\n", r#"{}"#, "err:TypeError: 'bool' object is not callable"),
        ("x = 1\n", r#"{}"#, "err:AttributeError: the filter defines no `main` (module has no attribute 'main')"),
        ("", r#"{}"#, "err:AttributeError: the filter defines no `main` (module has no attribute 'main')"),
        // --- module-level noise
        ("\"\"\"Filter.\"\"\"\nfrom __future__ import annotations\nimport os, sys\nfrom typing import (Any,\n    Mapping)\n\nmain = lambda data: False  # comment\n", r#"{}"#, "skip"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from foo import Bar\nmain = lambda data: False\n", r#"{}"#, "skip"),
        ("main = lambda data: False\n\nif __name__ == \"__main__\":\n    print(main({}))\n    for x in range(3):\n        pass\n", r#"{}"#, "skip"),
        ("main = lambda data: False; x = 1\n", r#"{}"#, "skip"),
        ("main = lambda data: \\\n    data.get('x') \\\n    == 1\n", r#"{"x": 1}"#, "render"),
        ("main = lambda data: (\n    # comment inside\n    data.get('x')  # trailing\n    == 1\n)\n", r#"{"x": 2}"#, "skip"),
        ("\u{feff}main = lambda data: False\r\n", r#"{}"#, "skip"),
        ("main = lambda data: False\n...\npass\n", r#"{}"#, "skip"),
        ("import os\nmain = lambda data: os.environ.get('X') == '1'\n", r#"{}"#, "unsup:uses 'os.environ'"),
        ("from x import *\nmain = lambda data: y\n", r#"{}"#, "unsup:from … import *"),
        ("import os\nmain = lambda data: os\n", r#"{}"#, "unsup:uses 'os'"),
        // --- unsupported forms
        ("def main(data):\n    for n in data:\n        return True\n    return False\n", r#"{}"#, "unsup:'for' statement"),
        ("def main(data):\n    while True:\n        pass\n", r#"{}"#, "unsup:'while' statement"),
        ("def main(data):\n    try:\n        return data['x']\n    except KeyError:\n        return False\n", r#"{}"#, "unsup:'try' statement"),
        ("class A:\n    pass\nmain = lambda data: False\n", r#"{}"#, "unsup:'class' statement"),
        ("import functools\n@functools.cache\ndef main(data):\n    return False\n", r#"{}"#, "unsup:decorator"),
        ("def main(data):\n    def inner():\n        return 1\n    return inner()\n", r#"{}"#, "unsup:nested function"),
        ("def helper(x):\n    for i in x:\n        pass\nmain = lambda data: False\n", r#"{}"#, "skip"),
        (r#"main = lambda data: f"{data}" == "x""#, r#"{}"#, "unsup:f-string"),
        (r#"main = lambda data: (n := data.get("x"))"#, r#"{}"#, "unsup:assignment expression"),
        (r#"main = lambda data: data.get("a", 0) | 1"#, r#"{}"#, "unsup:operator '|'"),
        (r#"main = lambda data: any(map(lambda n: n, data))"#, r#"{}"#, "unsup:lambda"),
        (r#"main = lambda data: {k: v for k, v in data.items()}"#, r#"{}"#, "unsup:dict comprehension"),
        (r#"main = lambda data: b"x""#, r#"{}"#, "unsup:bytes literal"),
        (r#"main = lambda data: 1j"#, r#"{}"#, "unsup:complex"),
        (r#"main = lambda data: [*data]"#, r#"{}"#, "unsup:starred"),
        (r#"main = lambda data: data.get(*["x"])"#, r#"{}"#, "unsup:*args"),
        ("x, y = 1, 2\nmain = lambda data: False\n", r#"{}"#, "unsup:assignment to a target"),
        ("x = 1\nx += 1\nmain = lambda data: False\n", r#"{}"#, "unsup:assignment to a target"),
        ("raise SystemExit\n", r#"{}"#, "unsup:'raise' statement"),
        // --- syntax errors (makejinja would crash on import)
        (r#"main = lambda data: data.get("x""#, r#"{}"#, "syntax:'(' was never closed"),
        (r#"main = lambda data: data.get("x"]"#, r#"{}"#, "syntax:does not match"),
        (r#"main = lambda data: data.get("x)"#, r#"{}"#, "syntax:unterminated string literal"),
        ("main = lambda data: '''x\n", r#"{}"#, "syntax:unterminated triple-quoted string literal"),
        (r#"main = lambda data: )"#, r#"{}"#, "syntax:unmatched ')'"),
        (r#"main = lambda data: data.get("x") data"#, r#"{}"#, "syntax:expected the end of the statement, found 'data'"),
        (r#"main = lambda data: 012"#, r#"{}"#, "syntax:leading zeros"),
        (r#"main = lambda data: 1abc"#, r#"{}"#, "syntax:invalid decimal literal"),
        (r#"main = lambda data: data $ 1"#, r#"{}"#, "syntax:invalid syntax"),
        (r#"main = lambda data: data “x”"#, r#"{}"#, "syntax:invalid character '“' (U+201C)"),
        ("  main = lambda data: False\n", r#"{}"#, "syntax:unexpected indent"),
        ("def main(data):\nreturn False\n", r#"{}"#, "syntax:expected an indented block"),
        ("def main(data):\n        x = 1\n    return x\n", r#"{}"#, "syntax:unindent does not match"),
        ("return False\n", r#"{}"#, "syntax:'return' outside function"),
        ("main = lambda data: False\nelse:\n    pass\n", r#"{}"#, "syntax:'else' without"),
        ("main = lambda data: True if data else\n", r#"{}"#, "syntax:expected an expression"),
        ("main = lambda data: not\n", r#"{}"#, "syntax:expected an expression"),
        ("main = lambda data: data.get(x for x in data, 1)\n", r#"{}"#, "syntax:Generator expression must be parenthesized"),
        ("main = lambda data: data.get(a=1, 2)\n", r#"{}"#, "syntax:positional argument follows keyword argument"),
        ("def main(data, data):\n    return 1\n", r#"{}"#, "syntax:duplicate argument"),
        ("def main(a=1, b):\n    return 1\n", r#"{}"#, "syntax:non-default argument follows default argument"),
        ("main = lambda data: data \\ 1\n", r#"{}"#, "syntax:unexpected character after line continuation character"),
        ("True = 1\nmain = lambda data: True\n", r#"{}"#, "syntax:cannot assign to True"),
    ];

    /// Data for [`GENERATED`].
    const GENERATED_DATA: &str = r#"{"a": 1, "b": 0, "c": true, "d": false, "e": null, "f": "x", "g": "", "h": [1, 2, "x"], "i": [], "n": 2.5, "q": -3, "j": {"k": 1, "l": null, "c": false}, "m": {}, "o": [{"c": true, "name": "a"}, {"c": false, "name": "B"}, {"name": ""}], "p": "10.0.0.1", "s": "Hello World", "t": ["a", "b"], "u": {"enabled": true, "x": {"y": [0, 1]}}}"#;

    /// Random boolean expressions over [`GENERATED_DATA`] (`main = lambda data: EXPR`) with the
    /// outcome CPython 3.12 gives: `render`, `skip` or `E:<exception type>`. A sample of the
    /// differential test run while writing this module (15,000 such expressions plus 40,000
    /// free-form ones, all agreeing with CPython).
    const GENERATED: &[(&str, &str)] = &[
        (
            r#"((1 < len([n for n in data["o"] if n.get("c")]) < 3) and (bool(all(n.get("c") is True for n in data["o"])))) and (bool(((data["s"].lower().endswith(data["p"])) == (data["h"])) or (bool(isinstance(data["d"], list)))))"#,
            "skip",
        ),
        (
            r#"(1 < len(data["h"]) < 3) == ((data["f"] != (data.get("e") or "")) == ((data["h"]) if (data["j"].get("l")) else ((all(k.startswith("c") and v is not None for k, v in data["j"].items())) and (data["n"] in data["m"]))))"#,
            "render",
        ),
        (r#"(data.get("e") or "") not in data["t"]"#, "render"),
        (r#"(data["s"][:5] < data["f"]) or (not (data["m"]))"#, "render"),
        (r#"bool(1 != data.get("c"))"#, "skip"),
        (r#"all(k.startswith("c") and v is not None for k, v in data["j"].items())"#, "skip"),
        (r#"1 < data["q"] < 3"#, "skip"),
        (
            r#"((data["i"] is not False) or ((all([x > 1 for x in data["u"]["x"]["y"]])) and ((all([x == 1 for x in data["u"]["x"]["y"]])) and (data["s"].lower() not in "10.")))) if ((bool(data.get("zz"))) == (not (not (bool(data.get("c")))))) else (1 < data["j"]["k"] < 3)"#,
            "skip",
        ),
        (
            r#"((((any(k.startswith("c") and v is not None for k, v in data["j"].items())) if (str(data["c"]) not in " x ".strip()) else (all(k.startswith("c") and v is not None for k, v in data["j"].items()))) == (" x ".strip().endswith(data["s"].lower()))) if ((not (data["p"].endswith(('a', '1')))) if (bool(data.get("e") is True)) else (bool(str(data["a"]) in [1, 2, 3]))) else (data["d"] is not False)) and (bool(any([x == 1 for x in data["u"]["x"]["y"]])))"#,
            "skip",
        ),
        (r#"None not in data["j"]"#, "render"),
        (r#"any(k.startswith("c") and v is not None for k, v in data["j"].items())"#, "render"),
        (r#"any([x > 1 for x in data["u"]["x"]["y"]])"#, "skip"),
        (
            r#"(((not (data["u"]["x"]["y"][-1] not in data["h"])) == (data.get("c") not in data["j"].values())) and (not (bool(bool(data["c"]))))) == ((((1 < data["b"] < 3) if (all([x > 1 for x in data["u"]["x"]["y"]])) else ("10." == " x ".strip())) or ((True in data["h"]) and (1 == -1.0))) == (any(n.get("c")  for n in data["o"])))"#,
            "render",
        ),
        (
            r#"(("10." != data["s"].lower()) if (any(k.startswith("c") and v is not None for k, v in data["j"].items())) else (all([x > 1 for x in data["u"]["x"]["y"]]))) and ((bool(data["s"][:5] in "10.")) == (bool(len(data["o"]) is None)))"#,
            "render",
        ),
        (r#"(data["j"]["k"] == data["n"]) or (data["p"] in str(data["a"]))"#, "skip"),
        (r#"any(n.get("c")  for n in data["o"])"#, "render"),
        (
            r#"bool(((bool("hello world" == data["f"])) if (1 < data["u"]["x"]["y"][-1] < 3) else ((isinstance(data.get("u", {}).get("enabled"), str)) and ("x".startswith(data["f"])))) and ((data.get("zz")) == ((any([x > 1 for x in data["u"]["x"]["y"]])) and (data["j"].get("c", True) is not None))))"#,
            "skip",
        ),
        (r#"None not in data["u"]["x"]["y"]"#, "render"),
        (
            r#"((any(k.startswith("c") and v is not None for k, v in data["j"].items())) == (data["i"])) and (((data["c"] is not False) == ((1 < data["a"] < 3) and (str(data["a"]) < data["s"].upper()))) or (all(k.startswith("c") and v is not None for k, v in data["j"].items())))"#,
            "skip",
        ),
        (
            r#"((not ((data["o"][1]["name"] not in "x") or (str(data["c"]).endswith(('a', '1'))))) == (True not in data["i"])) and (bool(isinstance(data.get("e"), list)))"#,
            "skip",
        ),
        (
            r#"not (bool(((isinstance(data["c"], float)) or (data.get("zz", "") not in data["s"].lower())) == (bool(any(n.get("c") is False for n in data["o"])))))"#,
            "render",
        ),
        (r#"any([x == 1 for x in data["u"]["x"]["y"]])"#, "render"),
        (r#"data["h"]"#, "render"),
        (r#"(not (bool(bool(all([x == 1 for x in data["u"]["x"]["y"]]))))) and (isinstance(data["j"].get("c", True), str))"#, "skip"),
        (
            r#"(bool(len(data["h"]) < data.get("zz", 0))) or (not (bool((data["s"].upper().startswith(('a', '1'))) and (isinstance(data["c"], float)))))"#,
            "render",
        ),
        (
            r#"("10." in "x") if (-3 != data["a"]) else ((((data["h"] is True) == (data["s"].lower().endswith(('a', '1')))) == ((all(n.get("c") is False for n in data["o"])) or (all([x > 1 for x in data["u"]["x"]["y"]])))) == (data["f"].endswith(('a', '1'))))"#,
            "skip",
        ),
        (r#"(1 < data["a"] < 3) == (any(n.get("c") is True for n in data["o"]))"#, "skip"),
        (
            r#"(any(k.startswith("c") and v is not None for k, v in data["j"].items())) or ((str(data["n"]) in data["s"].upper()) and (not (data["c"] is not None)))"#,
            "render",
        ),
        (r#"not (data.get("c") < int("7"))"#, "skip"),
        (r#"data["i"] is True"#, "skip"),
        (r#"len(data["s"]) >= len(data["s"])"#, "render"),
        (
            r#"(bool(data["m"])) == ((not (bool(isinstance(data["h"], list)))) and (((any(k.startswith("c") and v is not None for k, v in data["j"].items())) and (int("7") in data["m"])) if (bool(bool(data["s"]))) else (bool(any([x < 1 for x in data["u"]["x"]["y"]])))))"#,
            "render",
        ),
        (
            r#"(any(n.get("c") is True for n in data["o"])) or (bool(((data["o"][1]["name"] in data["s"].upper()) and (data["s"].upper().startswith(data["p"][::-1]))) if (str(data["c"]) not in data["f"]) else (data["g"] not in [n.get("name") for n in data["o"]])))"#,
            "render",
        ),
        (r#"1 < (data["j"]["k"] + data["a"]) < 3"#, "render"),
        (
            r#"((((all(k.startswith("c") and v is not None for k, v in data["j"].items())) and (1 < data["n"] < 3)) or (not (any([x > 1 for x in data["u"]["x"]["y"]])))) == (bool(all(n.get("c")  for n in data["o"])))) if (((bool(any(n.get("c")  for n in data["o"]))) == (("a".endswith(('a', '1'))) and (data["s"].upper() not in str(data["c"])))) or (isinstance(data["i"], float))) else (True not in data["h"])"#,
            "skip",
        ),
        (
            r#"not ((bool(bool(data["d"]))) if (bool(str(data["n"]) >= data["o"][1]["name"])) else ((bool(len(data["s"]) != len(data.get("i", [])))) if (not (data["c"])) else (not (isinstance(data["m"], str)))))"#,
            "skip",
        ),
        (
            r#"not (((isinstance(data["j"], list)) and ((data.get("u", {}).get("enabled")) == ((data.get("e") or "") in data["t"][0]))) or (((data["t"][0] >= (data.get("e") or "")) == (data["p"] in data["p"][::-1])) if (("x" not in "a") and (all(n.get("c") is False for n in data["o"]))) else ((1 < data["u"]["x"]["y"][-1] < 3) if (bool(data.get("u", {}).get("enabled"))) else (1 < int("7") < 3))))"#,
            "render",
        ),
        (r#"data["s"][:5].startswith(data["t"][0])"#, "skip"),
        (r#"isinstance(data["j"].get("c", True), list)"#, "skip"),
        (r#"not (bool(data["j"].get("l")))"#, "render"),
        (
            r#"(not (((data["u"]["x"]["y"][-1] > len(data["s"])) and (1 < len(data["h"]) < 3)) and ((1 < data["b"] < 3) and (data["i"] is False)))) == (data["c"])"#,
            "render",
        ),
        (r#"None not in data["u"]["x"]["y"]"#, "render"),
        (r#"bool(any(n.get("c") is False for n in data["o"]))"#, "render"),
        (r#"(bool(all(n.get("c") is None for n in data["o"]))) or (str(data["n"]).endswith(('a', '1')))"#, "skip"),
        (r#"not (not (data.get("u", {}).get("enabled") is None))"#, "skip"),
        (r#"all(n.get("c") is True for n in data["o"])"#, "skip"),
        (r#"all(k.startswith("c") and v is not None for k, v in data["j"].items())"#, "skip"),
        (r#"(data["j"]["k"] >= data["b"]) and (data["p"] == "hello world")"#, "skip"),
        (r#"isinstance(data["j"], bool)"#, "skip"),
        (
            r#"((str(data["c"]).endswith((data.get("e") or ""))) if (((all(n.get("c")  for n in data["o"])) and (data["i"] is True)) == (data["d"])) else (((isinstance(data.get("zz"), dict)) and (isinstance(data.get("u", {}).get("enabled"), (list, tuple)))) if (not (None in data["t"])) else (bool(data["i"])))) or (bool(data.get("zz")))"#,
            "render",
        ),
        (
            r#"(data.get("u", {}).get("enabled")) and (((data["p"][::-1].endswith(data["s"])) or ((" x ".strip() == data["g"]) or (data.get("zz", 0) is True))) and (((str(data["c"]) is False) if (data.get("zz", 0) < len(data["h"])) else (data["g"] >= str(data["c"]))) and ((1 < data["b"] < 3) == (data["d"] is not False))))"#,
            "skip",
        ),
        (r#"data["p"][::-1] in str(data["c"])"#, "skip"),
        (r#"(not ("hello world" not in data["j"].values())) == (not (data["h"]))"#, "render"),
        (r#"not (str(data["a"]) not in str(data["n"]))"#, "skip"),
        (r#"bool((1 < data["b"] < 3) if (None not in data["j"]) else (not ((data["s"].upper() >= "a") == (data.get("zz", "")))))"#, "skip"),
        (
            r#"not ((((str(data["c"]) in data["p"][::-1]) or (1 < data["q"] < 3)) == ((True in {"x", "a"}) and (data["s"].startswith(('a', '1'))))) if (all(k.startswith("c") and v is not None for k, v in data["j"].items())) else ((("10.".endswith(('a', '1'))) if (data.get("zz", "") == data["p"]) else (any(n.get("c")  for n in data["o"]))) and (bool(all([x > 1 for x in data["u"]["x"]["y"]])))))"#,
            "render",
        ),
        (r#"True not in data["i"]"#, "render"),
        (
            r#"((all([x > 1 for x in data["u"]["x"]["y"]])) and (data["s"].upper() >= data["t"][0])) if (bool(bool((all([x < 1 for x in data["u"]["x"]["y"]])) == (bool(data["h"]))))) else (1 < 1 < 3)"#,
            "skip",
        ),
        (
            r#"((data["j"]) if (data["u"]["x"]["y"][-1] != data["q"]) else (not (data.get("zz") is not False))) and ((isinstance(data["j"], list)) or (data["j"]["k"] >= data["j"]["k"]))"#,
            "render",
        ),
        (r#"bool(not (isinstance("a", float)))"#, "render"),
        (r#"data["p"] not in data["f"]"#, "render"),
        (
            r#"(not ((int("7") != data["n"]) or ((1 < len(data["o"]) < 3) or (isinstance(data["h"], float))))) or ((bool(not (len(data["s"]) != data["n"]))) or (((1 < data["j"]["k"] < 3) if (data["p"][::-1].endswith(str(data["c"]))) else (str(data["c"]) not in data["g"])) if ((data["f"].startswith((data.get("e") or ""))) if ((data.get("e") or "") not in "a") else (data["d"])) else (bool(str(data["n"]).startswith(data["t"][0])))))"#,
            "skip",
        ),
        (
            r#"bool(not (((all(k.startswith("c") and v is not None for k, v in data["j"].items())) if (all([x > 1 for x in data["u"]["x"]["y"]])) else (None not in data["j"])) if (any([x == 1 for x in data["u"]["x"]["y"]])) else (" x ".strip() not in "x")))"#,
            "skip",
        ),
        (
            r#"bool((not ((None in data["h"]) if (isinstance(data["n"], list)) else ("hello world" >= data["p"]))) and ((data.get("e") or "") == data.get("zz", "")))"#,
            "skip",
        ),
        (
            r#"((bool(bool(data.get("zz", 0)))) or (not (any(n.get("c")  for n in data["o"])))) or (data["s"].lower().endswith(('a', '1')))"#,
            "skip",
        ),
        (
            r#"(data["m"] is None) or (((not (data["p"].startswith(data["s"].lower()))) or ((all([x == 1 for x in data["u"]["x"]["y"]])) and (1 != len(data["h"])))) == ((not (data["p"][::-1].startswith(data.get("zz", "")))) or ((data["j"] is False) == (data["g"] in data["f"]))))"#,
            "skip",
        ),
        (
            r#"(((not (data["p"] >= str(data["n"]))) if (bool(data["o"][1]["name"].endswith(('a', '1')))) else ((data.get("c") >= data["q"]) if (any([x > 1 for x in data["u"]["x"]["y"]])) else (isinstance(data.get("u", {}).get("enabled"), str)))) if (((data["q"] > data.get("c")) == (isinstance(data["i"], list))) or ((any([x > 1 for x in data["u"]["x"]["y"]])) == (any([x < 1 for x in data["u"]["x"]["y"]])))) else (((any(k.startswith("c") and v is not None for k, v in data["j"].items())) == (all(k.startswith("c") and v is not None for k, v in data["j"].items()))) == ((data["s"] not in "a") or (data["c"] is not None)))) if (all([x < 1 for x in data["u"]["x"]["y"]])) else ((data["s"].lower() == data["t"][0]) if (not (bool(data["i"]))) else (data["f"] < str(data["n"])))"#,
            "skip",
        ),
        (r#"(data.get("e") or "").endswith(('a', '1'))"#, "skip"),
        (
            r#"(((any(k.startswith("c") and v is not None for k, v in data["j"].items())) and ((all(n.get("c") is True for n in data["o"])) or (data["j"].get("l") is True))) == (1 >= len(data["h"]))) and ((data.get("zz") is not None) == ((bool(data["b"])) and ("a" in str(data["a"]))))"#,
            "render",
        ),
        (r#"bool(data["n"] >= -2)"#, "render"),
        (r#"not (bool(isinstance(data["o"][1]["name"], int)))"#, "render"),
        (r#"all([x == 1 for x in data["u"]["x"]["y"]])"#, "skip"),
        (
            r#"(all([x < 1 for x in data["u"]["x"]["y"]])) == (((data["j"].get("c", True)) or (bool(data["a"] == len(data["h"])))) == (((all([x < 1 for x in data["u"]["x"]["y"]])) == (len(data.get("i", [])) == int("7"))) == ((all([x == 1 for x in data["u"]["x"]["y"]])) and ("x".startswith((data.get("e") or ""))))))"#,
            "skip",
        ),
        (r#"not (any(k.startswith("c") and v is not None for k, v in data["j"].items()))"#, "skip"),
        (r#"str(data["a"]).endswith(data["o"][1]["name"])"#, "skip"),
        (
            r#"not ((((bool(data["c"])) or (1 < data["a"] < 3)) and ((len(data["h"])) if (data["h"] is not True) else (all(n.get("c")  for n in data["o"])))) and (bool(data["j"].get("l"))))"#,
            "render",
        ),
        (
            r#"(any(k.startswith("c") and v is not None for k, v in data["j"].items())) if ((any(n.get("c") is True for n in data["o"])) if (bool(bool(data["h"] is False))) else (any([x == 1 for x in data["u"]["x"]["y"]]))) else ((((data["s"] < data["p"][::-1]) or (all(k.startswith("c") and v is not None for k, v in data["j"].items()))) if (data["d"]) else (bool(data["s"].upper() >= str(data["a"])))) and (bool(not (data["g"].startswith("a")))))"#,
            "render",
        ),
        (r#"((bool(data["c"])) == (True in data["j"].keys())) and (not (isinstance(data["d"], bool)))"#, "skip"),
        (r#"all(n.get("c") is None for n in data["o"])"#, "skip"),
        (r#"all([x > 1 for x in data["u"]["x"]["y"]])"#, "skip"),
        (
            r#"(((data["n"] < data["a"]) or (not (None not in data["j"]))) and (bool(data["h"]))) == ((((data["h"]) or (data["g"] == "10.")) if ((bool(0.5)) and (-1.0 >= data["u"]["x"]["y"][-1])) else ((data["s"].startswith(str(data["n"]))) and (data["t"][0].startswith(('a', '1'))))) and (not (str(data["a"]) in " x ".strip())))"#,
            "render",
        ),
        (
            r#"((((bool(data["j"].get("l"))) if (data["s"].lower() >= "10.") else (data.get("c") >= 0.5)) or ((0.5 <= data["u"]["x"]["y"][-1]) and (1 < data["u"]["x"]["y"][-1] < 3))) if ((data.get("e")) and ((data["s"] != data["t"][0]) == ((data.get("e") or {}).get("x") is None))) else (data["f"] not in "hello world")) or (((data.get("e") or "") >= data["p"]) and (data["q"] > data["a"]))"#,
            "render",
        ),
        (r#"(data.get("e") or {}).get("x")"#, "render"),
        (
            r#"(bool(isinstance(data["j"], float))) == (((bool(1 < len([n for n in data["o"] if n.get("c")]) < 3)) and (data["m"])) and (1 < len(data["s"]) < 3))"#,
            "render",
        ),
        (r#"all(k.startswith("c") and v is not None for k, v in data["j"].items())"#, "skip"),
        (r#""x" not in [1, 2, 3]"#, "render"),
        (r#"not (not (all(k.startswith("c") and v is not None for k, v in data["j"].items())))"#, "skip"),
        (r#"isinstance(data["i"], int)"#, "skip"),
        (
            r#"(data["s"].lower() < str(data["c"])) or (((data.get("u", {}).get("enabled") is not True) if ((data["i"]) == (data["m"])) else (len(data["o"]) not in data["j"].keys())) or (bool(bool(str(data["c"]) >= data.get("zz", "")))))"#,
            "render",
        ),
        (r#"data["s"].lower().startswith(data["s"][:5])"#, "skip"),
        (
            r#"(len([n for n in data["o"] if n.get("c")]) <= len(data["o"])) == ((not (not (data["m"]))) if (int("7") < len(data.get("i", []))) else (((1 < len(data["h"]) < 3) == (None not in data["h"])) == (not (data["c"]))))"#,
            "render",
        ),
        (
            r#"(bool(bool((None not in data["j"].keys()) == (1 < len(data.get("i", [])) < 3)))) == (data["s"].upper() in data["o"][1]["name"])"#,
            "render",
        ),
        (r#"(bool(data["h"])) or (data["j"] is not True)"#, "render"),
        (
            r#"(((bool(int("7"))) == ((bool(data["j"].get("c", True))) == (any([x < 1 for x in data["u"]["x"]["y"]])))) == (data["j"] is not False)) and ((data["a"] not in [n.get("name") for n in data["o"]]) == (not ((all(k.startswith("c") and v is not None for k, v in data["j"].items())) == (all([x > 1 for x in data["u"]["x"]["y"]])))))"#,
            "skip",
        ),
        (
            r#"((((data["p"][::-1].startswith(data["f"])) and (data["j"])) if (data["p"] == data["s"][:5]) else ((all(k.startswith("c") and v is not None for k, v in data["j"].items())) and (all(k.startswith("c") and v is not None for k, v in data["j"].items())))) or (((data.get("e") or "") is None) or ((True in data["u"]["x"]["y"]) == (data["d"] is True)))) or ((((1 < (int("7") + int("7")) < 3) or ("hello world" in data["s"].lower())) == ((all(n.get("c") is False for n in data["o"])) and (1 < -1 < 3))) == (((bool(str(data["a"]))) and (data["d"])) if (not (data["p"] in list(data["j"]))) else (data["t"][0] not in data["u"]["x"]["y"])))"#,
            "render",
        ),
        (
            r#"((bool((1 < len(data.get("i", [])) < 3) or (None not in [1, 2, 3]))) if (bool(data.get("u", {}).get("enabled"))) else (((data["g"] in data["m"]) == ((data.get("e") or "") != (data.get("e") or ""))) == ((data["s"][:5] != data["o"][1]["name"]) if (isinstance((data.get("e") or {}).get("x"), str)) else (bool(data["j"].get("l")))))) and ((bool(data["j"])) == (("10." in list(data["j"])) if (not (data["q"] >= len(data["h"]))) else (("a".endswith(('a', '1'))) or (isinstance(data["d"], int)))))"#,
            "skip",
        ),
        (r#"(data.get("e") or "").endswith(('a', '1'))"#, "skip"),
        (r#"bool(data["j"].get("c", True))"#, "skip"),
        (r#"data["i"]"#, "render"),
        (r#"1 < data["a"] < 3"#, "skip"),
    ];

    #[test]
    fn generated_expressions_agree_with_cpython() {
        let data = json(GENERATED_DATA);
        let mut failures = Vec::new();
        for (expr, want) in GENERATED {
            let src = format!("main = lambda data: {expr}");
            let got = match evaluate_filter(&src, &data) {
                FilterOutcome::Render => "render".to_string(),
                FilterOutcome::Skip => "skip".to_string(),
                FilterOutcome::Unknown { reason, .. } => format!("E:{}", reason.split(':').next().unwrap_or("")),
            };
            if got != *want {
                failures.push(format!("{expr}\n    got {got}, CPython {want}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn check_case(i: usize, src: &str, data: &str, want: &str) -> Option<String> {
        let got = evaluate_filter(src, &json(data));
        let ok = match (want, &got) {
            ("render", FilterOutcome::Render) | ("skip", FilterOutcome::Skip) => true,
            (w, FilterOutcome::Unknown { reason, .. }) if w.starts_with("err:") => reason == &w[4..],
            (w, FilterOutcome::Unknown { reason, .. }) if w.starts_with("unsup:") => {
                reason.starts_with("unsupported") && reason.contains(&w[6..])
            }
            (w, FilterOutcome::Unknown { reason, .. }) if w.starts_with("syntax:") => reason.contains(&w[7..]),
            _ => false,
        };
        (!ok).then(|| format!("case {i}: {src:?} with {data}\n    got  {got:?}\n    want {want}"))
    }

    #[test]
    fn table() {
        let failures: Vec<String> = CASES.iter().enumerate().filter_map(|(i, (src, data, want))| check_case(i, src, data, want)).collect();
        assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
    }

    #[test]
    fn truthiness_of_every_type() {
        // (JSON value, Python truthiness)
        let values = [
            ("null", false),
            ("true", true),
            ("false", false),
            ("0", false),
            ("1", true),
            ("-1", true),
            ("0.0", false),
            ("0.5", true),
            ("\"\"", false),
            ("\"0\"", true),
            ("\"False\"", true),
            ("[]", false),
            ("[0]", true),
            ("{}", false),
            ("{\"a\": null}", true),
        ];
        for (v, want) in values {
            let data = json(&format!("{{\"v\": {v}}}"));
            let bool_of = evaluate_filter("main = lambda data: bool(data['v'])", &data);
            assert_eq!(bool_of, if want { FilterOutcome::Render } else { FilterOutcome::Skip }, "bool({v})");
            let not_of = evaluate_filter("main = lambda data: not data['v']", &data);
            assert_eq!(not_of, if want { FilterOutcome::Skip } else { FilterOutcome::Render }, "not {v}");
            // Only the value False itself skips.
            let raw = evaluate_filter("main = lambda data: data['v']", &data);
            let want_raw = if v == "false" { FilterOutcome::Skip } else { FilterOutcome::Render };
            assert_eq!(raw, want_raw, "raw {v}");
            let value = evaluate_filter_value("main = lambda data: data['v']", &data).unwrap();
            assert_eq!(value.truthy, want, "{v}");
        }
        // Dates and other values from YAML.
        let date = node(DataValue::Map(vec![DataEntry {
            key: node(DataValue::Str("d".into())),
            value: node(DataValue::Timestamp("2024-01-02".into())),
        }]));
        assert_eq!(evaluate_filter("main = lambda data: bool(data['d'])", &date), FilterOutcome::Render);
        assert_eq!(evaluate_filter("main = lambda data: str(data['d']) == '2024-01-02'", &date), FilterOutcome::Render);
        assert_eq!(evaluate_filter("main = lambda data: str(data['d']) == 'x'", &date), FilterOutcome::Skip);
        assert_eq!(evaluate_filter("main = lambda data: str([data['d']]) == '[datetime.date(2024, 1, 2)]'", &date), FilterOutcome::Render);
        assert_eq!(evaluate_filter("main = lambda data: data['d'] == '2024-01-02'", &date), FilterOutcome::Skip);
    }

    #[test]
    fn filter_value_reports_repr() {
        let data = json(r#"{"a": [1, "x", null, 1.5, {"k": true}]}"#);
        let v = evaluate_filter_value("main = lambda data: data['a']", &data).unwrap();
        assert_eq!(v, FilterValue { repr: "[1, 'x', None, 1.5, {'k': True}]".into(), truthy: true, is_false: false });
        let v = evaluate_filter_value("main = lambda data: data.get('missing')", &data).unwrap();
        assert_eq!(v, FilterValue { repr: "None".into(), truthy: false, is_false: false });
        let v = evaluate_filter_value("main = lambda data: 1 > 2", &data).unwrap();
        assert_eq!(v, FilterValue { repr: "False".into(), truthy: false, is_false: true });
        let v = evaluate_filter_value("main = lambda data: 'x' * 1000", &data).unwrap();
        assert!(v.repr.chars().count() <= 201 && v.repr.ends_with('…'));
        let v = evaluate_filter_value("main = lambda data: data.keys()", &data).unwrap();
        assert_eq!(v.repr, "dict_keys(['a'])");
    }

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1.5e300, "1.5e+300"),
            (-0.0, "-0.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (1e15, "1000000000000000.0"),
            (100.0, "100.0"),
            (-2.5, "-2.5"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
            (9999999999999998.0, "9999999999999998.0"),
            (0.30000000000000004, "0.30000000000000004"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want);
        }
    }

    #[test]
    fn string_repr_matches_python() {
        let cases = [
            ("it's", "\"it's\""),
            ("a\"b", "'a\"b'"),
            ("'\"", "'\\'\"'"),
            ("\n\t\x01\x7f\u{a0}\u{ad}\u{200b}\u{2028}é", "'\\n\\t\\x01\\x7f\\xa0\\xad\\u200b\\u2028é'"),
            ("back\\slash", "'back\\\\slash'"),
        ];
        for (s, want) in cases {
            let mut out = String::new();
            str_repr(s, &mut out);
            assert_eq!(out, want);
        }
    }

    fn unknown(src: &str, data: &str) -> (String, u32) {
        match evaluate_filter(src, &json(data)) {
            FilterOutcome::Unknown { reason, line } => (reason, line),
            other => panic!("expected Unknown for {src:?}, got {other:?}"),
        }
    }

    #[test]
    fn error_lines_are_zero_based_and_precise() {
        let src = "# header\nfrom typing import Any\n\nmain = lambda data: (\n    data.get('a')\n    and data['missing']\n)\n";
        assert_eq!(unknown(src, r#"{"a": 1}"#), ("KeyError: 'missing'".to_string(), 5));
        let src = "def main(data):\n    x = 1\n    return data['q']\n";
        assert_eq!(unknown(src, "{}").1, 2);
        let src = "x = 1\n\n\nmain = lambda data: data.get('x'\n";
        assert_eq!(unknown(src, "{}"), ("SyntaxError: '(' was never closed".to_string(), 3));
        let src = "x = 1\ns = 'abc\nmain = 1";
        assert_eq!(unknown(src, "{}"), ("SyntaxError: unterminated string literal".to_string(), 1));
        let src = "x = '''a\nb\nc'''\nmain = lambda data: y\n";
        assert_eq!(unknown(src, "{}"), ("NameError: name 'y' is not defined".to_string(), 3));
        let src = "main = lambda data: \\\n  data[\n  'k']";
        assert_eq!(unknown(src, "{}").1, 1);
        let src = "def main(data):\n    return False\n\nwhile True:\n    pass\n";
        assert_eq!(unknown(src, "{}"), ("unsupported: 'while' statement".to_string(), 3));
        let src = "def main(data, extra):\n    return True\n";
        assert_eq!(unknown(src, "{}").1, 0);
        // A problem inside a function that is never called does not matter...
        let src = "def unused(data):\n    while True:\n        pass\n\nmain = lambda data: False\n";
        assert_eq!(evaluate_filter(src, &json("{}")), FilterOutcome::Skip);
        // ...and is reported at its own line when it is.
        let src = "def helper(data):\n    x = 1\n    with open('f') as f:\n        pass\n\nmain = lambda data: helper(data)\n";
        assert_eq!(unknown(src, "{}"), ("unsupported: 'with' statement".to_string(), 2));
    }

    #[test]
    fn garbage_never_panics() {
        let samples = [
            "\0\0\0",
            "main = lambda data:",
            "main = lambda",
            "main =",
            "= 1",
            "def",
            "def main",
            "def main(",
            "def main(data)",
            "def main(data):",
            "if",
            "if x:",
            "lambda data: True",
            "main = lambda data: data[",
            "main = lambda data: data[:",
            "main = lambda data: data[1:2:",
            "main = lambda data: {",
            "main = lambda data: {1:",
            "main = lambda data: {1: 2, 3}",
            "main = lambda data: [x for]",
            "main = lambda data: [x for x]",
            "main = lambda data: [x for x in]",
            "main = lambda data: (x for x in y if)",
            "main = lambda data: data.",
            "main = lambda data: data.1",
            "main = lambda data: 1 if",
            "main = lambda data: not in x",
            "main = lambda data: is None",
            "main = lambda data: a is not",
            "main = lambda data: 0x",
            "main = lambda data: 1e",
            "main = lambda data: 1_",
            "main = lambda data: '\\x4'",
            "main = lambda data: '\\N{DASH}'",
            "main = lambda data: '\\U0011ffff'",
            "main = lambda data: '\\ud800'",
            "main = lambda data: 99999999999999999999999999999999999999999999",
            "main = lambda data: 2 ** 200",
            "main = lambda data: 10 ** 10 ** 10",
            "main = lambda data: [0] * 10 ** 30",
            "main = lambda data: '' * 10 ** 30",
            "main = lambda data: 'x' * 10 ** 30",
            "main = lambda data: -170141183460469231731687303715884105727 - 2",
            "main = lambda data: 1e308 * 10 > 0",
            "main = lambda data: int(1e300)",
            "main = lambda data: int(float('nan'))",
            "main = lambda data: 0 ** -1",
            "main = lambda data: (-8) ** 0.5",
            "main = lambda data: 5 // 0",
            "main = lambda data: 5.0 // 0",
            "main = lambda data: 5.0 % 0",
            "\\",
            "x = \\",
            "'",
            "\"\"\"",
            "main = lambda data: data]",
            "@",
            "@\n",
            "@x\ndef",
            "try:",
            "else:",
            "match x:\n    case 1:\n        pass\nmain = lambda data: False",
            "\t\tmain = 1",
            "if True:\n\tmain = lambda data: False\n        x = 1",
            "main = lambda data: data.get('a', data.get('b', data.get('c')))",
            "main = lambda data: ((((((((((1))))))))))",
            "def main(data):\n    return\\\n",
            "def main(data) -> :\n    return 1",
            "def main(*args):\n    return 1",
            "from . import x\nmain = lambda data: False",
            "from .. import x\nmain = lambda data: False",
            "from ...a.b import (c as d,)\nmain = lambda data: False",
            "import a.b.c as d, e\nmain = lambda data: False",
        ];
        let data = json(CLUSTER);
        for s in samples {
            let _ = evaluate_filter(s, &data);
        }
        // Every prefix and a few mutations of a realistic filter.
        let base = format!("{K3S_WORKERS}\nimport os\ndef helper(data: dict = {{}}) -> bool:\n    \"\"\"doc\"\"\"\n    if data.get('x'):\n        return [n for n in data if n][0:2] == (1, 2)\n    else:\n        return {{'a': 1, 'b': {{1, 2}}}}.get(f'b', -1.5e3) is None\n");
        let chars: Vec<char> = base.chars().collect();
        for i in 0..chars.len() {
            let prefix: String = chars[..i].iter().collect();
            let _ = evaluate_filter(&prefix, &data);
            let mut dropped = chars.clone();
            dropped.remove(i);
            let _ = evaluate_filter(&dropped.iter().collect::<String>(), &data);
            let mut swapped = chars.clone();
            swapped[i] = ['(', ')', ':', '"', '\'', '\n', ' ', '[', '\\', 'x', '#', '*'][i % 12];
            let _ = evaluate_filter(&swapped.iter().collect::<String>(), &data);
        }
        // Pseudo-random byte soup.
        let mut seed: u64 = 0x9E3779B97F4A7C15;
        let alphabet: Vec<char> =
            "main=lambda data:()[]{},.'\"\\#\n\t 0123456789xyz+-*/%<>!=notandorifelseforinis_TrueFalseNone@;`$".chars().collect();
        for _ in 0..3000 {
            let mut s = String::from("main = lambda data: ");
            let len = (seed % 40) as usize;
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let _ = evaluate_filter(&s, &data);
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let data = json("{}");
        for depth in [10usize, 49, 51, 150, 199, 250, 5000] {
            for (open, close) in [("(", ")"), ("[", "]"), ("not ", ""), ("-", ""), ("{1: ", "}")] {
                let src = format!("main = lambda data: {}1{}", open.repeat(depth), close.repeat(depth));
                let out = evaluate_filter(&src, &data);
                if depth <= 49 {
                    assert!(!matches!(out, FilterOutcome::Unknown { .. }) || open == "{1: ", "{open} × {depth}: {out:?}");
                } else {
                    assert!(matches!(out, FilterOutcome::Unknown { .. }), "{open} × {depth}: {out:?}");
                }
            }
        }
        // Left-deep chains that the parser builds without recursion.
        for chain in [" + 1", ".get('x', {})", "[0]", "(1)", " * 1"] {
            let src = format!("main = lambda data: data{}", chain.repeat(10_000));
            let out = evaluate_filter(&src, &data);
            assert!(matches!(out, FilterOutcome::Unknown { ref reason, .. } if reason.contains("nested too deeply")), "{chain}: {out:?}");
        }
        // Wide but flat expressions are fine.
        let src = format!("main = lambda data: {}", vec!["data.get('x')"; 5000].join(" or "));
        assert_eq!(evaluate_filter(&src, &data), FilterOutcome::Render);
        let src = format!("main = lambda data: [{}] == []", vec!["1"; 20_000].join(", "));
        assert_eq!(evaluate_filter(&src, &data), FilterOutcome::Skip);
        // Nested blocks.
        let mut src = String::from("def main(data):\n");
        for i in 0..200 {
            src.push_str(&" ".repeat(4 * (i + 1)));
            src.push_str("if True:\n");
        }
        src.push_str(&" ".repeat(4 * 201));
        src.push_str("return False\n");
        assert!(matches!(evaluate_filter(&src, &data), FilterOutcome::Unknown { .. }));
    }

    #[test]
    fn runs_on_a_small_stack() {
        // The deepest accepted inputs must not overflow a modest thread stack.
        let handle = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                let data = json(CLUSTER);
                let nested = format!("main = lambda data: {}data{}", "(".repeat(49), ")".repeat(49));
                let _ = evaluate_filter(&nested, &data);
                let nots = format!("main = lambda data: {}data", "not ".repeat(49));
                let _ = evaluate_filter(&nots, &data);
                let calls = format!("main = lambda data: {}data{}", "bool(".repeat(49), ")".repeat(49));
                let _ = evaluate_filter(&calls, &data);
                let chain = format!("main = lambda data: 1{}", " + 1".repeat(198));
                assert_eq!(evaluate_filter(&chain, &data), FilterOutcome::Render);
                let gets = format!("main = lambda data: data{}", ".get('x', {})".repeat(98));
                let _ = evaluate_filter(&gets, &data);
                let recursive = "def f(d, n):\n    return f(d, n) if n else f(d, n)\nmain = lambda data: f(data, 1)\n";
                let _ = evaluate_filter(recursive, &data);
                let mut deep_call = String::new();
                for i in 0..40 {
                    deep_call.push_str(&format!("def f{i}(d):\n    return {}f{}(d){}\n", "(".repeat(50), i + 1, ")".repeat(50)));
                }
                deep_call.push_str("def f40(d):\n    return False\nmain = f0\n");
                let _ = evaluate_filter(&deep_call, &data);
                let mut deep_gen = String::new();
                for i in 0..40 {
                    let (open, close) = ("any(x for x in [".repeat(10), "])".repeat(10));
                    deep_gen.push_str(&format!("def f{i}(d):\n    return {open}f{}(d){close}\n", i + 1));
                }
                deep_gen.push_str("def f40(d):\n    return False\nmain = f0\n");
                let _ = evaluate_filter(&deep_gen, &data);
                let gens = format!("main = lambda data: {}1{}", "any(x for x in [".repeat(49), "])".repeat(49));
                let _ = evaluate_filter(&gens, &data);
            })
            .unwrap();
        handle.join().expect("evaluation overflowed a 1 MiB stack");
    }

    #[test]
    fn megabyte_inputs() {
        let data = json(CLUSTER);
        let start = std::time::Instant::now();
        // 1 MB of comments and blank lines around a real filter.
        let mut src = String::new();
        while src.len() < 1_000_000 {
            src.push_str("# padding padding padding padding padding padding padding padding\n\n");
        }
        src.push_str(K3S_WORKERS);
        assert_eq!(evaluate_filter(&src, &data), FilterOutcome::Render);
        // 1 MB of constant assignments.
        let mut src = String::new();
        let mut i = 0;
        while src.len() < 1_000_000 {
            src.push_str(&format!("X{i} = {{'k': [1, 2.5, 'three', None]}}\n"));
            i += 1;
        }
        src.push_str("main = lambda data: X0['k'][0] == 1 and X7['k'][2] == 'three'\n");
        assert_eq!(evaluate_filter(&src, &data), FilterOutcome::Render);
        // A 1 MB string literal and a 1 MB single expression.
        let src = format!("main = lambda data: len('{}') == 1000000", "x".repeat(1_000_000));
        assert_eq!(evaluate_filter(&src, &data), FilterOutcome::Render);
        let src = format!("main = lambda data: {}", vec!["data.get('x')"; 80_000].join(" or "));
        assert_eq!(evaluate_filter(&src, &data), FilterOutcome::Render);
        // 1 MB of garbage, of unclosed brackets, of nothing but newlines.
        let garbage: String = (0..1_000_000u64).map(|i| char::from(b"(]'x\"{ \n\\#"[(i * 7919 % 10) as usize])).collect();
        assert!(matches!(evaluate_filter(&garbage, &data), FilterOutcome::Unknown { .. }));
        let src = "(".repeat(1_000_000);
        assert!(matches!(evaluate_filter(&src, &data), FilterOutcome::Unknown { .. }));
        let src = "\n".repeat(1_000_000);
        assert!(matches!(evaluate_filter(&src, &data), FilterOutcome::Unknown { .. }));
        assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
    }

    #[test]
    fn expensive_evaluation_is_cut_off() {
        let data = json(r#"{"l": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]}"#);
        let src = "main = lambda data: any(a + b + c + d + e + f == -1 for a in data['l'] for b in data['l'] for c in data['l'] for d in data['l'] for e in data['l'] for f in data['l'])";
        match evaluate_filter(src, &data) {
            FilterOutcome::Unknown { reason, .. } => assert!(reason.contains("steps"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let src = "main = lambda data: [0] * 999999 * 2";
        assert!(matches!(evaluate_filter(src, &data), FilterOutcome::Unknown { .. }));
        // Work hidden in comparisons counts too: 5000 keys, each looked up linearly.
        let big = json(&format!("{{{}}}", (0..5000).map(|i| format!("\"k{i}\": {i}")).collect::<Vec<_>>().join(", ")));
        for src in ["main = lambda data: all(k in data for k in data)", "main = lambda data: len(set(data.values())) > 0"] {
            match evaluate_filter(src, &big) {
                FilterOutcome::Unknown { reason, .. } => assert!(reason.contains("steps"), "{reason}"),
                other => panic!("{src}: {other:?}"),
            }
        }
        // ...while ordinary work on the same data is fine.
        assert_eq!(evaluate_filter("main = lambda data: data['k4999'] == 4999 and 'k17' in data", &big), FilterOutcome::Render);
    }

    #[test]
    fn non_map_root_and_odd_keys() {
        let list_root = json("[1, 2]");
        assert_eq!(evaluate_filter("main = lambda data: len(data) == 2", &list_root), FilterOutcome::Render);
        assert_eq!(
            evaluate_filter("main = lambda data: data.get('x')", &list_root),
            FilterOutcome::Unknown { reason: "AttributeError: 'list' object has no attribute 'get'".into(), line: 0 }
        );
        // Integer and boolean keys, as YAML can produce.
        let data = node(DataValue::Map(vec![
            DataEntry { key: node(DataValue::Int(1)), value: node(DataValue::Str("one".into())) },
            DataEntry { key: node(DataValue::Bool(false)), value: node(DataValue::Str("zero".into())) },
        ]));
        assert_eq!(evaluate_filter("main = lambda data: data[True] == 'one' and data[0] == 'zero'", &data), FilterOutcome::Render);
        assert_eq!(evaluate_filter("main = lambda data: data.get(1.0) == 'one'", &data), FilterOutcome::Render);
        assert_eq!(
            evaluate_filter("main = lambda data: data['1']", &data),
            FilterOutcome::Unknown { reason: "KeyError: '1'".into(), line: 0 }
        );
    }
}
