//! Rendering through minijinja, configured the way makejinja configures Jinja2.
//!
//! One [`Renderer`] serves one immutable project snapshot: the CLI's `render` and the
//! server's previews both go through [`Renderer::render`], so the golden tests cover both.

use super::budget;
use super::filters;
use super::linemap;
use super::plugins::{self, PluginDeclarations, PluginFlavor, PluginInputs};
use super::prepare::{prepare, PreparedSource};
use super::pyvalue::write_str;
use super::syntax::{LineIndex, TemplateSyntax};
use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// makejinja's `undefined` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UndefinedMode {
    /// Jinja's `Undefined`: prints empty, attribute access on it fails.
    #[default]
    Default,
    /// `ChainableUndefined`: `a.b.c` of a missing `a` prints empty.
    Chainable,
    /// `DebugUndefined`: treated like `Default` (it only changes what is printed).
    Debug,
    /// `StrictUndefined`: any use of a missing name is an error.
    Strict,
}

impl UndefinedMode {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "default" => Self::Default,
            "chainable" => Self::Chainable,
            "debug" => Self::Debug,
            "strict" => Self::Strict,
            _ => return None,
        })
    }

    fn behavior(self) -> UndefinedBehavior {
        match self {
            Self::Default | Self::Debug => UndefinedBehavior::Lenient,
            Self::Chainable => UndefinedBehavior::Chainable,
            Self::Strict => UndefinedBehavior::Strict,
        }
    }
}

/// Where templates come from: the project's inputs, in order, with unsaved editor text
/// laid over them. `name` is a template name relative to the inputs (`a/b.yaml.j2`),
/// already checked to stay inside them.
pub trait TemplateLoader: Send + Sync {
    fn load(&self, name: &str) -> Result<Option<String>, String>;
}

/// Everything that configures rendering for one project.
#[derive(Clone)]
pub struct RenderSettings {
    pub syntax: TemplateSyntax,
    pub undefined: UndefinedMode,
    /// `None` when the project has no plugin (no emulated names are registered).
    pub plugin_flavor: Option<PluginFlavor>,
    pub declared: PluginDeclarations,
    pub plugin_inputs: Arc<PluginInputs>,
    /// The plugin running for real; when set, it replaces the emulation.
    pub live: Option<Arc<super::live::LivePlugin>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RenderErrorKind {
    Syntax,
    UndefinedVariable,
    MissingInclude,
    UnknownFilter,
    UnknownFunction,
    UnknownTest,
    /// An include path that leaves the inputs (`../`), refused without reading.
    IncludeEscape,
    Runtime,
}

/// A template that failed to render, positioned in the template that caused it (which may
/// be an included partial rather than the one rendered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    pub kind: RenderErrorKind,
    pub message: String,
    /// Template name where the error is; the rendered one when unknown.
    pub template: String,
    /// 0-based line and column (chars) in that template's original source.
    pub line: Option<u32>,
    pub col: Option<u32>,
    /// Byte range in the original source, when minijinja knows it.
    pub range: Option<std::ops::Range<usize>>,
}

impl RenderError {
    /// Stopped by the wall clock or a cancellation, not by the template: not worth
    /// caching, and a later render of the same text may well succeed.
    pub fn stopped_by_clock(&self) -> bool {
        budget::is_time_stop(&self.message)
    }
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.template)?;
        if let Some(l) = self.line {
            write!(f, ":{}", l + 1)?;
            if let Some(c) = self.col {
                write!(f, ":{}", c + 1)?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// For each output line, the template and 0-based line that produced it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceLineMap {
    pub lines: Vec<Option<(Arc<str>, u32)>>,
}

impl SourceLineMap {
    pub fn origin(&self, output_line: usize) -> Option<(&str, u32)> {
        self.lines.get(output_line)?.as_ref().map(|(n, l)| (&**n, *l))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub line_map: Option<SourceLineMap>,
}

/// The prepared sources one environment compiled, kept to map error offsets back.
#[derive(Default)]
struct SourceTable {
    prepared: HashMap<String, (Arc<str>, PreparedSource)>,
    /// Template ids for line-map markers (index = id).
    names: Vec<Arc<str>>,
    /// Templates refused as too complex to parse, with the tag's range in the source.
    too_complex: HashMap<String, std::ops::Range<usize>>,
}

impl SourceTable {
    fn id_of(&mut self, name: &str) -> u32 {
        if let Some(i) = self.names.iter().position(|n| &**n == name) {
            return i as u32;
        }
        self.names.push(Arc::from(name));
        (self.names.len() - 1) as u32
    }
}

pub struct Renderer {
    plain: Environment<'static>,
    instrumented: Environment<'static>,
    plain_sources: Arc<Mutex<SourceTable>>,
    instrumented_sources: Arc<Mutex<SourceTable>>,
    context: Value,
    /// The data's string values, longest first, built at the first error (see
    /// [`Renderer::mask_values`]).
    data_strings: std::sync::OnceLock<Vec<String>>,
}

/// Shortest data value an error message has masked: shorter ones (`true`, `main`, `10.0`)
/// would mask words of the message itself, and are no credentials.
const MIN_MASKED_VALUE: usize = 6;

/// Every string leaf of `v` (map values and list items; keys are names, not values).
fn string_leaves(v: &Value, out: &mut Vec<String>, budget: &mut usize) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    match v.kind() {
        minijinja::value::ValueKind::Map => {
            for k in v.try_iter().into_iter().flatten() {
                string_leaves(&v.get_item(&k).unwrap_or_default(), out, budget);
            }
        }
        minijinja::value::ValueKind::Seq => {
            for item in v.try_iter().into_iter().flatten() {
                string_leaves(&item, out, budget);
            }
        }
        minijinja::value::ValueKind::String => {
            if let Some(s) = v.as_str().filter(|s| s.chars().count() >= MIN_MASKED_VALUE) {
                out.push(s.to_string());
            }
        }
        _ => {}
    }
}

/// Checks an include/template name: relative, `/`-separated, no `..`, no empty parts.
pub fn validate_template_name(name: &str) -> Result<(), String> {
    if name.starts_with('/') || name.contains('\\') || name.contains('\0') {
        return Err(format!("template path '{name}' must be relative to the template inputs"));
    }
    for part in name.split('/') {
        if part == ".." {
            return Err(format!("template path '{name}' escapes the template inputs ('..' is not allowed)"));
        }
    }
    Ok(())
}

fn lock(table: &Mutex<SourceTable>) -> std::sync::MutexGuard<'_, SourceTable> {
    table.lock().unwrap_or_else(|e| e.into_inner())
}

impl Renderer {
    /// `context` is the merged data (plus plugin defaults), a map value.
    pub fn new(settings: &RenderSettings, loader: Arc<dyn TemplateLoader>, context: Value) -> Self {
        let plain_sources = Arc::new(Mutex::new(SourceTable::default()));
        let instrumented_sources = Arc::new(Mutex::new(SourceTable::default()));
        let plain = build_env(settings, loader.clone(), plain_sources.clone(), false);
        let instrumented = build_env(settings, loader, instrumented_sources.clone(), true);
        Self { plain, instrumented, plain_sources, instrumented_sources, context, data_strings: Default::default() }
    }

    /// `message` with every data value in it replaced by `••••••••`: an error raised on a
    /// value (`int('<token>')`, an include of a name read from the data) must not carry it
    /// into diagnostics, logs or the terminal, whatever key it sits under.
    pub fn mask_values(&self, message: String) -> String {
        let values = self.data_strings.get_or_init(|| {
            let mut out = Vec::new();
            string_leaves(&self.context, &mut out, &mut 200_000);
            out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
            out.dedup();
            out
        });
        let mut message = message;
        for v in values {
            if message.contains(v.as_str()) {
                message = message.replace(v.as_str(), "••••••••");
            }
        }
        message
    }

    /// Renders a template exactly as makejinja would.
    pub fn render(&self, name: &str) -> Result<String, RenderError> {
        self.render_within_budget(&self.plain, &self.plain_sources, name, budget::MAX_OUTPUT_BYTES)
    }

    /// The fuel a plain render of `name` consumes (None when it fails): the budget's
    /// headroom over real templates is measured with it.
    pub fn fuel_used(&self, name: &str) -> Option<u64> {
        let mut out = budget::OutputBudget::new(budget::MAX_OUTPUT_BYTES);
        let captured = self.plain.get_template(name).ok()?.render_captured_to(self.context.clone(), &mut out).ok()?;
        let levels = captured.state().fuel_levels();
        levels.map(|(used, _)| used)
    }

    /// Renders `name` into an output buffer that enforces the output and time budgets;
    /// an error raised by a budget keeps its own `stopped after …` message.
    fn render_within_budget(
        &self,
        env: &Environment<'static>,
        table: &Mutex<SourceTable>,
        name: &str,
        cap: usize,
    ) -> Result<String, RenderError> {
        let _clock = budget::RenderClock::start();
        let mut out = budget::OutputBudget::new(cap);
        let result = env.get_template(name).and_then(|t| t.render_captured_to(self.context.clone(), &mut out).map(drop));
        match result {
            Ok(()) => String::from_utf8(out.buf).map_err(|_| RenderError {
                kind: RenderErrorKind::Runtime,
                message: "the render wrote text that is not UTF-8".to_string(),
                template: name.to_string(),
                line: None,
                col: None,
                range: None,
            }),
            Err(e) => {
                let time_stop = budget::take_time_stop();
                let mut error = self.convert_error(e, name, table);
                if let Some(stop) = out.stop.take() {
                    error.kind = RenderErrorKind::Runtime;
                    error.message = stop.detail().unwrap_or("stopped after the output budget").to_string();
                } else if let Some(message) = time_stop {
                    // Where the clock strikes depends on the machine: no position.
                    (error.kind, error.message) = (RenderErrorKind::Runtime, message);
                    (error.line, error.col, error.range) = (None, None, None);
                }
                Err(error)
            }
        }
    }

    /// Renders a template and traces every output line to the template line behind it.
    pub fn render_with_line_map(&self, name: &str) -> Result<Rendered, RenderError> {
        // The line markers take room too: twice the plain output's cap.
        let instrumented = self.render_within_budget(&self.instrumented, &self.instrumented_sources, name, 2 * budget::MAX_OUTPUT_BYTES)?;
        let (text, map) = linemap::extract(&instrumented);
        let names = lock(&self.instrumented_sources).names.clone();
        let lines = map.lines.iter().map(|o| o.and_then(|o| names.get(o.template as usize).map(|n| (n.clone(), o.line)))).collect();
        Ok(Rendered { text, line_map: Some(SourceLineMap { lines }) })
    }

    /// Evaluates one expression against the data (for hovers on `if`/`for`). Names bound
    /// inside the template (loop variables) are unknown here and evaluate as undefined.
    pub fn eval_expression(&self, expr: &str) -> Result<Value, String> {
        screen_expression(expr)?;
        let source = super::prepare::rewrite_expression_text(expr);
        let compiled = self.plain.compile_expression_owned(source).map_err(|e| e.to_string())?;
        compiled.eval(&self.context).map_err(|e| self.mask_values(e.to_string()))
    }

    /// Evaluates one expression with `names` (a map: loop variables and the like) laid over
    /// the data.
    pub fn eval_expression_with(&self, expr: &str, names: Value) -> Result<Value, String> {
        screen_expression(expr)?;
        let source = super::prepare::rewrite_expression_text(expr);
        let compiled = self.plain.compile_expression_owned(source).map_err(|e| e.to_string())?;
        compiled.eval(minijinja::value::merge_maps([names, self.context.clone()])).map_err(|e| self.mask_values(e.to_string()))
    }

    /// The context the templates see (for hover and completion).
    pub fn context(&self) -> &Value {
        &self.context
    }

    fn convert_error(&self, err: Error, rendered: &str, table: &Mutex<SourceTable>) -> RenderError {
        let template = err.name().unwrap_or(rendered).to_string();
        let kind = match err.kind() {
            ErrorKind::SyntaxError | ErrorKind::BadEscape => RenderErrorKind::Syntax,
            ErrorKind::UndefinedError => RenderErrorKind::UndefinedVariable,
            ErrorKind::TemplateNotFound => {
                let detail = err.detail().unwrap_or_default();
                let quoted = detail.split('\'').nth(1).unwrap_or_default();
                if detail.contains("escapes the template inputs")
                    || detail.contains("must be relative")
                    || validate_template_name(quoted).is_err()
                {
                    RenderErrorKind::IncludeEscape
                } else {
                    RenderErrorKind::MissingInclude
                }
            }
            ErrorKind::UnknownFilter => RenderErrorKind::UnknownFilter,
            ErrorKind::UnknownFunction => RenderErrorKind::UnknownFunction,
            ErrorKind::UnknownTest => RenderErrorKind::UnknownTest,
            _ => RenderErrorKind::Runtime,
        };
        let mut message = match err.detail() {
            _ if err.kind() == ErrorKind::OutOfFuel => format!(
                "stopped after {} million steps, the budget of one render (a loop, range or repetition too big to preview?)",
                budget::RENDER_FUEL / 1_000_000
            ),
            Some(d)
                if d.starts_with("cannot read template") || d.starts_with("stopped after") || d.starts_with("expression too complex") =>
            {
                d.to_string()
            }
            _ if kind == RenderErrorKind::IncludeEscape => {
                let detail = err.detail().unwrap_or_default();
                let quoted = detail.split('\'').nth(1).unwrap_or(detail);
                format!("include path '{quoted}' escapes the template inputs ('..' and absolute paths are refused without reading)")
            }
            Some(d) => format!("{}: {d}", kind_label(&err)),
            None => kind_label(&err),
        };
        // Errors raised inside filters carry their cause's text in the source chain.
        if let Some(src) = std::error::Error::source(&err) {
            message.push_str(&format!(" ({src})"));
        }
        let table = lock(table);
        let (mut line, mut col, mut range) = (err.line().map(|l| l.saturating_sub(1) as u32), None, None);
        if let Some((original, prepared)) = table.prepared.get(&template) {
            let refused = table.too_complex.get(&template).filter(|_| kind == RenderErrorKind::Syntax && err.range().is_none());
            if let Some(r) = refused {
                let idx = LineIndex::new(original);
                let (l, c) = idx.line_col(original, r.start);
                (line, col, range) = (Some(l as u32), Some(c as u32), Some(r.clone()));
            } else if let Some(r) = err.range() {
                let start = prepared.original_offset(r.start).min(original.len());
                let end = prepared.original_offset(r.end).clamp(start, original.len());
                let idx = LineIndex::new(original);
                let (l, c) = idx.line_col(original, start);
                line = Some(l as u32);
                col = Some(c as u32);
                range = Some(start..end);
            }
        }
        let message = self.mask_values(message);
        RenderError { kind, message, template, line, col, range }
    }
}

/// Refuses an expression minijinja's parser would recurse too deeply on.
fn screen_expression(expr: &str) -> Result<(), String> {
    match budget::too_complex(expr, 0..expr.len()) {
        Some((_, message)) => Err(message),
        None => Ok(()),
    }
}

fn kind_label(err: &Error) -> String {
    err.kind().to_string()
}

fn build_env(
    settings: &RenderSettings,
    loader: Arc<dyn TemplateLoader>,
    table: Arc<Mutex<SourceTable>>,
    instrument: bool,
) -> Environment<'static> {
    let mut env = Environment::new();
    let syntax = &settings.syntax;
    let mut builder = minijinja::syntax::SyntaxConfig::builder();
    builder
        .block_delimiters(syntax.block_start.clone(), syntax.block_end.clone())
        .variable_delimiters(syntax.variable_start.clone(), syntax.variable_end.clone())
        .comment_delimiters(syntax.comment_start.clone(), syntax.comment_end.clone())
        .trim_blocks(syntax.trim_blocks)
        .lstrip_blocks(syntax.lstrip_blocks)
        .keep_trailing_newline(syntax.keep_trailing_newline);
    if let Some(p) = &syntax.line_statement_prefix {
        builder.line_statement_prefix(p.clone());
    }
    if let Some(p) = &syntax.line_comment_prefix {
        builder.line_comment_prefix(p.clone());
    }
    match builder.build() {
        Ok(cfg) => env.set_syntax(cfg),
        Err(e) => {
            // Invalid delimiters: keep the defaults; every template will then report this.
            let msg = format!("invalid delimiters in makejinja.toml: {e}");
            env.set_loader(move |_name| -> Result<Option<String>, Error> { Err(Error::new(ErrorKind::SyntaxError, msg.clone())) });
            return env;
        }
    }
    env.set_undefined_behavior(settings.undefined.behavior());
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_fuel(Some(budget::RENDER_FUEL));
    env.set_formatter(|out, _state, value| {
        budget::check_time()?;
        let mut s = String::new();
        write_str(&mut s, value);
        budget::check_text_len(s.len())?;
        out.write_str(&s).map_err(|_| Error::new(ErrorKind::WriteFailure, "write failed"))
    });
    env.set_unknown_method_callback(|state, value, method, args| {
        // `str.format` pads without asking the fuel: bound its widths first.
        if method == "format" {
            if let Some(fmt) = value.as_str() {
                budget::check_str_format_spec(fmt)?;
            }
        }
        minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
    });
    filters::register(&mut env);
    // Each `range()` of a nested loop asks the clock: a loop whose body prints nothing
    // never reaches the output budget's checks.
    env.add_function("range", |lower: isize, upper: Option<isize>, step: Option<isize>| {
        budget::check_time()?;
        minijinja::functions::range(lower, upper, step)
    });
    if let Some(live) = &settings.live {
        super::live::register(&mut env, live, !settings.plugin_inputs.real_encrypt);
    } else if let Some(flavor) = settings.plugin_flavor {
        plugins::register(&mut env, flavor, settings.plugin_inputs.clone(), &settings.declared);
    }
    let syntax = settings.syntax.clone();
    env.set_loader(move |name| {
        validate_template_name(name).map_err(|m| Error::new(ErrorKind::TemplateNotFound, m))?;
        let source = match loader.load(name) {
            Ok(Some(s)) => s,
            Ok(None) => return Ok(None),
            Err(e) => return Err(Error::new(ErrorKind::TemplateNotFound, format!("cannot read template '{name}': {e}"))),
        };
        // Jinja2 turns every newline style into `newline_sequence` (`\n`).
        let source = if source.contains('\r') { source.replace("\r\n", "\n").replace('\r', "\n") } else { source };
        let mut t = lock(&table);
        let id = if instrument { Some(t.id_of(name)) } else { None };
        let prepared = prepare(&source, &syntax, id);
        let text = prepared.text.clone();
        let refused = prepared.too_complex.clone();
        t.prepared.insert(name.to_string(), (Arc::from(source.as_str()), prepared));
        if let Some((range, message)) = refused {
            t.too_complex.insert(name.to_string(), range);
            return Err(Error::new(ErrorKind::SyntaxError, message));
        }
        Ok(Some(text))
    });
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct MapLoader(BTreeMap<String, String>);
    impl TemplateLoader for MapLoader {
        fn load(&self, name: &str) -> Result<Option<String>, String> {
            Ok(self.0.get(name).cloned())
        }
    }

    fn renderer(files: &[(&str, &str)], ctx: Value, undefined: UndefinedMode) -> Renderer {
        let settings = RenderSettings {
            syntax: TemplateSyntax::hash_style(),
            undefined,
            plugin_flavor: Some(PluginFlavor::Bootstrap),
            declared: PluginDeclarations::default(),
            plugin_inputs: Arc::new(PluginInputs::default()),
            live: None,
        };
        let loader = MapLoader(files.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect());
        Renderer::new(&settings, Arc::new(loader), ctx)
    }

    /// Found by homelab-fuzz: `#% include cloudflare_token %#` put the token into a
    /// `missing-include` diagnostic ("tried to include non-existing template '<token>'").
    #[test]
    fn error_messages_never_carry_data_values() {
        let token = "tok3n-Zx81-secret-value";
        let ctx =
            Value::from_pairs([("nested", Value::from_pairs([("cloudflare_token", Value::from(token))])), ("n", Value::from("short"))]);
        for t in
            ["#% include nested.cloudflare_token %#", "#{ nested.cloudflare_token | int + 1 }#", "#{ range(nested.cloudflare_token) }#"]
        {
            let r = renderer(&[("t.j2", t)], ctx.clone(), UndefinedMode::Chainable);
            let e = r.render("t.j2").expect_err(t);
            assert!(!e.message.contains(token), "{t}: {}", e.message);
            let e = r.eval_expression("nested.cloudflare_token | int + 1").expect_err(t);
            assert!(!e.contains(token), "{e}");
        }
        // Words of the message itself are never masked (values under 6 characters are left).
        let r = renderer(&[("t.j2", "#{ n + 1 }#")], ctx, UndefinedMode::Chainable);
        assert!(!r.render("t.j2").unwrap_err().message.contains("••"));
    }

    #[test]
    fn renders_python_style_values() {
        let ctx = Value::from_pairs([("flag", Value::from(true)), ("xs", Value::from(vec!["a", "b"]))]);
        let r = renderer(&[("t.j2", "f: #{ flag }#\nxs: #{ xs }#\n")], ctx, UndefinedMode::Chainable);
        assert_eq!(r.render("t.j2").unwrap(), "f: True\nxs: ['a', 'b']\n");
    }

    #[test]
    fn trim_and_lstrip_blocks_are_on() {
        let r = renderer(&[("t.j2", "a:\n  #% if true %#\n  b: 1\n  #% endif %#\nc: 2\n")], Value::from(()), UndefinedMode::Chainable);
        assert_eq!(r.render("t.j2").unwrap(), "a:\n  b: 1\nc: 2\n");
    }

    #[test]
    fn include_escape_is_refused() {
        let r = renderer(&[("t.j2", "#% include '../secret' %#")], Value::from(()), UndefinedMode::Chainable);
        let err = r.render("t.j2").unwrap_err();
        assert_eq!(err.kind, RenderErrorKind::IncludeEscape, "{err}");
    }

    #[test]
    fn strict_undefined_errors_chainable_does_not() {
        let files = [("t.j2", "x: #{ missing.a.b }#\n")];
        let r = renderer(&files, Value::from(()), UndefinedMode::Chainable);
        assert_eq!(r.render("t.j2").unwrap(), "x: \n");
        let r = renderer(&files, Value::from(()), UndefinedMode::Strict);
        let err = r.render("t.j2").unwrap_err();
        assert_eq!(err.kind, RenderErrorKind::UndefinedVariable);
        assert_eq!(err.line, Some(0));
    }

    #[test]
    fn syntax_error_has_position() {
        let r = renderer(&[("t.j2", "ok\n#{ a + }#\n")], Value::from(()), UndefinedMode::Chainable);
        let err = r.render("t.j2").unwrap_err();
        assert_eq!(err.kind, RenderErrorKind::Syntax);
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn line_map_through_loop_and_filter_include() {
        let files = [
            ("t.j2", "head\n#% for i in [1, 2] %#\nitem: #{ i }#\n#% endfor %#\nparent:\n  #% filter indent(2) %#\n  #% include 'p.j2' %#\n  #% endfilter %#\ntail\n"),
            ("p.j2", "x: 1\ny: 2\n"),
        ];
        let r = renderer(&files, Value::from(()), UndefinedMode::Chainable);
        let plain = r.render("t.j2").unwrap();
        let traced = r.render_with_line_map("t.j2").unwrap();
        assert_eq!(plain, traced.text);
        let map = traced.line_map.unwrap();
        let origins: Vec<_> = (0..plain.lines().count()).map(|i| map.origin(i)).collect();
        assert_eq!(
            origins,
            vec![
                Some(("t.j2", 0)),
                Some(("t.j2", 2)),
                Some(("t.j2", 2)),
                Some(("t.j2", 4)),
                Some(("p.j2", 0)),
                Some(("p.j2", 1)),
                Some(("t.j2", 8)),
            ],
            "{plain}"
        );
    }

    /// Every runaway one-liner ends in a clear error within the budget.
    #[test]
    fn runaway_templates_stop_with_a_clear_error() {
        let deep_not = format!("#{{ {}x }}#", "not ".repeat(5000));
        let deep_neg = format!("#{{ {}1 }}#", "-".repeat(5000));
        let long_sum = format!("#{{ {}1 }}#", "1 + ".repeat(20000));
        let cases: Vec<(&str, String, &str)> = vec![
            ("printf width", "#{'%999999999999d' % 1}#".into(), "stopped after a format width"),
            ("printf precision", "#{'%.70000f' % 0}#".into(), "stopped after a format width"),
            ("str.format width", "#{'{0:>999999999}'.format(1) }#".into(), "stopped after a format width"),
            ("repeated lists", "#{ [[1] * 10000] * 10000 }#".into(), "stopped after"),
            ("string repetition", "#{ 'x' * 50000000 }#".into(), "stopped after"),
            ("huge string repetition", "#{ 'x' * 1000000000 }#".into(), "stopped after"),
            ("nested ranges", "#% for i in range(10000) %##% for j in range(10000) %#x#% endfor %##% endfor %#".into(), "stopped after"),
            ("not chain", deep_not, "expression too complex"),
            ("minus chain", deep_neg, "expression too complex"),
            ("long sum", long_sum, "expression too complex"),
            ("joined repetition", "#{ (['abc'] * 100000000) | join(',') }#".into(), "stopped after"),
            ("indent of a huge text", "#{ ('x\n' * 3000000) | indent(10000) }#".into(), "stopped after"),
        ];
        for (what, src, expect) in cases {
            let r = renderer(&[("t.j2", &src)], Value::from(()), UndefinedMode::Chainable);
            let started = std::time::Instant::now();
            let err = r.render("t.j2").expect_err(what);
            assert!(err.message.contains(expect), "{what}: {err}");
            assert!(started.elapsed().as_secs() < 20, "{what} took {:?}", started.elapsed());
            let err = r.render_with_line_map("t.j2").expect_err(what);
            assert!(err.message.contains(expect), "{what} (line map): {err}");
        }
    }

    /// Raw text in a loop costs fuel per byte only, so fuel let one render write ~2 GB
    /// (and several run at once): the output stops at its own cap.
    #[test]
    fn output_stops_at_its_cap() {
        let line = "y".repeat(1000);
        let src = format!("#% for i in range(100000) %#{line}\n#% endfor %#");
        let r = renderer(&[("t.j2", &src)], Value::from(()), UndefinedMode::Chainable);
        let err = r.render("t.j2").unwrap_err();
        assert_eq!(err.kind, RenderErrorKind::Runtime, "{err}");
        assert!(err.message.starts_with("stopped after 32 MB of output"), "{err}");
        let err = r.render_with_line_map("t.j2").unwrap_err();
        assert!(err.message.starts_with("stopped after 64 MB of output"), "{err}");
        // Under the cap the same loop renders.
        let src = format!("#% for i in range(1000) %#{line}\n#% endfor %#");
        let r = renderer(&[("t.j2", &src)], Value::from(()), UndefinedMode::Chainable);
        assert_eq!(r.render("t.j2").unwrap().len(), 1001 * 1000);
    }

    /// A cancelled request's render stops at its next write or `range()`, with a message
    /// and no position (where it stops depends on timing); other renders are unaffected.
    #[test]
    fn a_cancelled_job_stops_its_render() {
        use std::sync::atomic::AtomicBool;
        let files = [("t.j2", "a: 1\n#% for i in range(10) %#b: #{ i }#\n#% endfor %#\n")];
        let r = renderer(&files, Value::from(()), UndefinedMode::Chainable);
        let cancelled = Arc::new(AtomicBool::new(true));
        let limits = budget::JobLimits { cancelled: Some(cancelled), ..Default::default() };
        let err = budget::with_job(limits, || r.render("t.j2")).unwrap_err();
        assert_eq!(err.message, "stopped after the request was cancelled", "{err}");
        assert!(err.stopped_by_clock());
        assert_eq!((err.line, err.range), (None, None));
        assert!(r.render("t.j2").unwrap().starts_with("a: 1\nb: 0\n"));
        // A job past its deadline stops too, also in `range()` of a loop that prints nothing.
        let files = [("t.j2", "#% for i in range(10) %##% endfor %#done")];
        let r = renderer(&files, Value::from(()), UndefinedMode::Chainable);
        let limits = budget::JobLimits { deadline: Some(std::time::Instant::now()), ..Default::default() };
        let err = budget::with_job(limits, || r.render_with_line_map("t.j2")).unwrap_err();
        assert!(err.message.contains("time budget of the request"), "{err}");
        assert_eq!(r.render("t.j2").unwrap(), "done");
    }

    #[test]
    fn include_cycles_stop() {
        let files =
            [("a.j2", "a\n#% include 'b.j2' %#\n#% include 'b.j2' %#\n"), ("b.j2", "b\n#% include 'a.j2' %#\n#% include 'a.j2' %#\n")];
        let r = renderer(&files, Value::from(()), UndefinedMode::Chainable);
        let err = r.render("a.j2").unwrap_err();
        assert_eq!(err.kind, RenderErrorKind::Runtime, "{err}");
    }

    #[test]
    fn too_complex_tag_is_placed_on_its_line() {
        let src = format!("ok: 1\nbad: #{{ {}x }}#\n", "not ".repeat(3000));
        let r = renderer(&[("t.j2", &src)], Value::from(()), UndefinedMode::Chainable);
        let err = r.render("t.j2").unwrap_err();
        assert_eq!((err.kind, err.line), (RenderErrorKind::Syntax, Some(1)), "{err}");
        assert!(r.eval_expression(&"not ".repeat(3000)).is_err());
    }
}
