//! `--plugins auto|python|emulate` and `--python`: whether the CLI runs the project's
//! plugins for real (like makejinja, in the user's own repo) or uses the emulation.

use crate::bridge::{self, Bridge, LoadOutcome};
use crate::workspace::Project;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PluginMode {
    /// Run the plugins when a Python with makejinja is found, else emulate.
    #[default]
    Auto,
    /// Run the plugins; fail when no Python with makejinja is found.
    Python,
    /// Never run Python: the built-in emulation only.
    Emulate,
}

/// The plugin options of `render` and `check`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PluginArgs {
    /// Run the repo's makejinja plugins in Python (auto: when a Python with makejinja is found).
    #[arg(long, value_enum, default_value = "auto")]
    pub plugins: PluginMode,
    /// The Python to run plugins with (default: $HOMELAB_LSP_PYTHON, .venv, $VIRTUAL_ENV, pipx, python3).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
}

/// The project with its plugins' real results laid over it, and one line saying how the
/// plugins were handled. `Err` when `--plugins python` cannot be honoured.
pub fn prepare(project: Project, args: &PluginArgs) -> Result<(Project, Option<String>), String> {
    if !bridge::runs_plugins(&project) {
        return Ok((project, None));
    }
    let names = project.config.plugins.join(", ");
    if args.plugins == PluginMode::Emulate {
        return Ok((project, Some(format!("plugins: {names} emulated (--plugins emulate)"))));
    }
    if args.plugins == PluginMode::Auto && project.plugin.file.is_none() {
        // makejinja could not import it either; keep the emulation answering as before.
        return Ok((project, Some(format!("plugins: {names} emulated (not found in import_paths)"))));
    }
    let python = match bridge::find_python(&project.config.root, args.python.as_deref()) {
        Ok(p) => p,
        Err(e) if args.plugins == PluginMode::Auto && args.python.is_none() => {
            return Ok((project, Some(format!("plugins: {names} emulated ({e})"))));
        }
        Err(e) => return Err(e),
    };
    let bridge = Bridge::new(&project.config.root, python, false);
    let outcome = bridge.load(&Default::default());
    let line = match &outcome {
        LoadOutcome::Live(live) => format!("plugins: {names} run with {}", live.python),
        LoadOutcome::Raised(e) => {
            format!("plugins: {names} raised {} with {}; emulated instead", e.summary(&project.config.root), bridge.python())
        }
        LoadOutcome::Unavailable(e) => format!("plugins: {names} emulated ({e})"),
    };
    if args.plugins == PluginMode::Python {
        if let LoadOutcome::Unavailable(e) = &outcome {
            return Err(e.clone());
        }
    }
    Ok((bridge::apply(project, &outcome), Some(line)))
}

/// Prints the line of [`prepare`] on stderr.
pub fn note(line: &Option<String>) {
    if let Some(l) = line {
        eprintln!("{l}");
    }
}

/// [`super::render::load_project`], then [`prepare`]; prints the plugin line and errors.
pub fn load_project(root: Option<&Path>, hint: Option<&Path>, args: &PluginArgs) -> Option<Project> {
    let project = super::render::load_project(root, hint)?;
    with_plugins(project, args)
}

/// [`prepare`], printing the plugin line or the error.
pub fn with_plugins(project: Project, args: &PluginArgs) -> Option<Project> {
    match prepare(project, args) {
        Ok((project, line)) => {
            note(&line);
            Some(project)
        }
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}
