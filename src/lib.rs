//! homelab-lsp: a language server and CLI for makejinja-templated homelab Kubernetes repos.
//!
//! Layers, data flowing down only: `server` (LSP glue) → `ide` (features over a snapshot)
//! → `workspace` (the project model) → `template` (makejinja-flavoured Jinja).

pub mod bridge;
pub mod cli;
pub mod flux;
pub mod ide;
pub mod panics;
pub mod parallel;
pub mod pyfmt;
pub mod rules;
pub mod schema;
pub mod server;
pub mod template;
pub mod workspace;
pub mod yaml;
