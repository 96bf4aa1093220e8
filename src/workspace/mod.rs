//! The project model: `makejinja.toml`, the inputs-to-output mapping, data files with
//! positions, plugin emulation setup and the template inventory.

pub mod config;
pub mod data;
pub mod fresh_clone;
pub mod git;
pub mod inventory;
pub mod invocations;
pub mod mjfilter;
pub mod project;
pub mod purepath;
pub mod vfs;

pub use config::{ConfigError, Layout, ProjectConfig};
pub use inventory::{EntryKind, Inventory, InventoryEntry};
pub use project::{Project, ProjectProblem, RenderOutcome, Severity};
pub use vfs::{DiskVfs, Vfs};
