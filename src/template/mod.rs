//! makejinja-flavoured Jinja: lexing with the configured delimiters, rendering through
//! minijinja with makejinja's settings, plugin emulation and the output-to-source line map.

pub mod budget;
pub mod builtins;
pub mod expr;
pub mod filters;
pub mod linemap;
pub mod live;
pub mod plugins;
pub mod prepare;
pub mod pyvalue;
pub mod render;
pub mod syntax;

pub use render::{RenderError, RenderErrorKind, RenderSettings, Rendered, Renderer, SourceLineMap, TemplateLoader, UndefinedMode};
pub use syntax::{lex, TemplateSyntax, Token, TokenKind};
