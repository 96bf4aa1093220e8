//! `homelab-lsp`: the language server (default) and its CLI jobs.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use homelab_lsp::cli;
use homelab_lsp::cli::usage::EXIT_USAGE;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "homelab-lsp", version, about = "Language server and CLI for makejinja-templated homelab Kubernetes repos")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Speak LSP on stdin/stdout (what editors pass; stdio is the only transport and the default).
    #[arg(long)]
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
        /// Override a rule's severity: CODE=error|warning|info|hint|off (repeatable; codes below).
        #[arg(long = "rule", value_name = "CODE=LEVEL")]
        rules: Vec<String>,
        #[command(flatten)]
        plugins: cli::plugins::PluginArgs,
        #[command(flatten)]
        schemas: cli::schemas::SchemaArgs,
    },
    /// JSON schemas: `pull` fetches every schema the project uses into the cache (for CI
    /// and air-gapped machines).
    Schemas {
        #[command(subcommand)]
        action: SchemasAction,
    },
    /// Render templates as makejinja would: the whole tree into --output, one FILE to stdout,
    /// or --diff against the files on disk.
    Render {
        /// The project root (a directory with makejinja.toml); default: found from the current directory.
        #[arg(long)]
        root: Option<PathBuf>,
        /// Write the whole rendered tree into this directory (never into the repo unless it points there).
        #[arg(long, short, conflicts_with_all = ["file", "diff"])]
        output: Option<PathBuf>,
        /// Print a unified diff of every generated file against the one on disk (new, changed,
        /// removed); exit 1 when anything differs. Writes nothing.
        #[arg(long, conflicts_with = "file")]
        diff: bool,
        /// Render only this template and print it to stdout (relative to --root when given).
        file: Option<PathBuf>,
        #[command(flatten)]
        plugins: cli::plugins::PluginArgs,
    },
    /// List every diagnostic rule: code, default severity, what it reports.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: RulesFormat,
    },
}

#[derive(Subcommand)]
enum SchemasAction {
    /// Fetch the schemas of every document (modelines, [[schemas]] globs, apiVersion/kind)
    /// and their remote $refs into the cache.
    Pull {
        /// The project root; default: found from the current directory.
        #[arg(long)]
        root: Option<PathBuf>,
        #[command(flatten)]
        plugins: cli::plugins::PluginArgs,
        #[command(flatten)]
        schemas: cli::schemas::SchemaArgs,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RulesFormat {
    Text,
    Json,
    Markdown,
}

/// `check --help` ends with the rule codes, from the rule table.
fn command() -> clap::Command {
    let codes = homelab_lsp::rules::text_listing();
    Args::command().mut_subcommand("check", |c| c.after_help(format!("Rules (CODE, default severity, what it reports):\n{codes}")))
}

fn main() {
    homelab_lsp::panics::install_hook();
    let args = match Args::from_arg_matches(&command().get_matches()) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    std::process::exit(run(args));
}

fn usage_error(message: &str) -> i32 {
    eprintln!("error: {message}");
    EXIT_USAGE
}

fn run(args: Args) -> i32 {
    match args.command {
        Some(Command::Render { root, output, diff, file, plugins }) => {
            if let Err(e) = cli::usage::check_root(root.as_deref()) {
                return usage_error(&e);
            }
            match (output, file, diff) {
                (Some(out), None, false) => cli::render::render_tree(root.as_deref(), &out, &plugins),
                (None, Some(file), false) => cli::render::render_one(root.as_deref(), &file, &plugins),
                (None, None, true) => cli::render::render_diff(root.as_deref(), &plugins),
                _ => usage_error("give --output DIR to render the whole tree, a FILE to render one template, or --diff"),
            }
        }
        Some(Command::Check { root, format, fail_on, rules, plugins, schemas }) => {
            if let Err(e) = cli::usage::check_root(root.as_deref()) {
                return usage_error(&e);
            }
            if let Err(e) = schemas.overrides() {
                return usage_error(&e);
            }
            match homelab_lsp::rules::parse_overrides(&rules) {
                Ok(rules) => cli::check::run(root.as_deref(), format, fail_on, &rules, &plugins, &schemas),
                Err(e) => usage_error(&e),
            }
        }
        Some(Command::Schemas { action: SchemasAction::Pull { root, plugins, schemas } }) => {
            if let Err(e) = cli::usage::check_root(root.as_deref()) {
                return usage_error(&e);
            }
            if let Err(e) = schemas.overrides() {
                return usage_error(&e);
            }
            cli::schemas::pull(root.as_deref(), &schemas, &plugins)
        }
        Some(Command::Rules { format }) => {
            match format {
                RulesFormat::Text => print!("{}", homelab_lsp::rules::text_listing()),
                RulesFormat::Json => println!("{}", serde_json::to_string_pretty(&homelab_lsp::rules::json_listing()).unwrap_or_default()),
                RulesFormat::Markdown => print!("{}", homelab_lsp::rules::markdown_table()),
            }
            0
        }
        None | Some(Command::Serve { .. }) => homelab_lsp::server::run_stdio(),
    }
}
