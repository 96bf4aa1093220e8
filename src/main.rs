//! `homelab-lsp`: the language server (default) and its CLI jobs.

use clap::{Parser, Subcommand};
use homelab_lsp::cli;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "homelab-lsp", version, about = "Language server and CLI for makejinja-templated homelab Kubernetes repos")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Accepted for clients that pass it (VS Code); stdio is the only transport.
    #[arg(long, global = true, hide = true)]
    stdio: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Speak the Language Server Protocol on stdin/stdout (the default with no command).
    Serve {
        /// Accepted for clients that pass it (VS Code); stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Run every rule over the whole repo (for CI).
    Check {
        /// The project root; default: found from the current directory.
        #[arg(long)]
        root: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: cli::check::Format,
        /// Exit 1 when anything at or above this severity is found.
        #[arg(long, value_enum, default_value = "error")]
        fail_on: cli::check::FailOn,
        /// Override a rule's severity: CODE=error|warning|info|hint|off (repeatable).
        #[arg(long = "rule", value_name = "CODE=LEVEL")]
        rules: Vec<String>,
        #[command(flatten)]
        plugins: cli::plugins::PluginArgs,
    },
    /// Render templates as makejinja would: the whole tree into --output, or one FILE to stdout.
    Render {
        /// The project root (a directory with makejinja.toml); default: found from the current directory.
        #[arg(long)]
        root: Option<PathBuf>,
        /// Write the whole rendered tree into this directory (never into the repo unless it points there).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Render only this template and print it to stdout.
        file: Option<PathBuf>,
        #[command(flatten)]
        plugins: cli::plugins::PluginArgs,
    },
}

fn main() {
    let args = Args::parse();
    let code = match args.command {
        Some(Command::Render { root, output, file, plugins }) => match (output, file) {
            (Some(out), None) => cli::render::render_tree(root.as_deref(), &out, &plugins),
            (None, Some(file)) => cli::render::render_one(root.as_deref(), &file, &plugins),
            (Some(_), Some(_)) => {
                eprintln!("error: give either --output DIR (whole tree) or FILE (one template), not both");
                2
            }
            (None, None) => {
                eprintln!("error: give --output DIR to render the whole tree, or a FILE to render one template");
                2
            }
        },
        Some(Command::Check { root, format, fail_on, rules, plugins }) => {
            cli::check::run(root.as_deref(), format, fail_on, &rules, &plugins)
        }
        None | Some(Command::Serve { .. }) => homelab_lsp::server::run_stdio(),
    };
    std::process::exit(code);
}
