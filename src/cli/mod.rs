//! The command-line front end: `render`, `check` and `rules`; `usage` checks arguments.

pub mod check;
pub mod diff;
pub mod plugins;
pub mod render;
pub mod schemas;
pub mod usage;
