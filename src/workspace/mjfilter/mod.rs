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
//!
//! Layout: `tokenizer` → `expr` / `stmt` (parsers) → `ast` → `interp`, with Python's value
//! semantics in `value`; the limits and the error type are here.

use crate::workspace::data::{DataEntry, DataNode, DataValue};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

mod ast;
mod expr;
mod interp;
mod stmt;
#[cfg(test)]
mod tests;
mod tokenizer;
mod value;

use ast::*;
use expr::*;
use interp::*;
use stmt::*;
use tokenizer::*;
use value::*;

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
