//! The command-line front end: `render` (and later `check` and `serve`).

pub mod check;
pub mod plugins;
pub mod render;
