//! The command line: clap definitions only. Raw flags are turned into typed requests here and
//! handed to `commands`, so nothing deeper looks at command-line strings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "stagesync",
    version,
    about = "Keeps one Hygraph environment in sync with another."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes: how logs and progress look on stderr. What a command produces
/// (tables, plans, reports, JSON) always goes to stdout.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// More log output on stderr: -v INFO (run and phase lines), -vv DEBUG. Default: warnings
    /// and errors (the daemon: INFO). `RUST_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Progress bars on stderr: `auto` draws them when stderr is a terminal.
    #[arg(long, global = true, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    Auto,
    Always,
    Never,
}

impl ProgressMode {
    /// Whether bars are drawn in this process.
    pub fn bars(self) -> bool {
        match self {
            ProgressMode::Auto => std::io::IsTerminal::is_terminal(&std::io::stderr()),
            ProgressMode::Always => true,
            ProgressMode::Never => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the config file is; shared by every command that reads it.
#[derive(Debug, Args, Clone)]
pub struct ConfigArgs {
    /// The TOML config file.
    #[arg(
        long,
        short = 'c',
        global = true,
        default_value = "stagesync.toml",
        env = "STAGESYNC_CONFIG"
    )]
    pub config: PathBuf,
    /// Overrides the config's `state_dir`.
    #[arg(long, global = true)]
    pub state_dir: Option<PathBuf>,
}

/// The commands, in the order a user meets them.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Two emulated environments and a real sync between them, on an embedded default project.
    #[cfg(feature = "emulator")]
    Demo(DemoArgs),
    /// Run one sync: read the source, write what changed to the destination.
    Sync(SyncArgs),
    /// Print what a sync would write, without writing (same as `sync --dry-run`).
    Plan(PlanArgs),
    /// Compare source and destination completely and report every difference.
    Verify(VerifyArgs),
    /// Run syncs on the configured cron schedule (the systemd service).
    Daemon(DaemonArgs),
    /// Show the daemon's state, current run and last runs.
    Status(StatusArgs),
    /// Ask the running daemon to start a run now.
    Trigger(TriggerArgs),
    /// Inspect stored runs, models and entries.
    Checkpoints(CheckpointsArgs),
    /// Forget stored state (all of it, or one model's).
    Reset(ResetArgs),
    /// Print the content model derived from a schema file (SDL or introspection JSON), a model
    /// file (TOML), or a live endpoint URL.
    Schema(SchemaArgs),
    /// Serve an in-memory Hygraph Content API emulator on 127.0.0.1.
    #[cfg(feature = "emulator")]
    Emulator(EmulatorArgs),
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// A `.graphql` SDL file, a `.json` introspection answer, a `.toml` model file, or an
    /// `http(s)://` endpoint.
    pub source: String,
    /// Environment variable holding the token for an endpoint URL.
    #[arg(long)]
    pub token_env: Option<String>,
    /// Print the content model as JSON on stdout (`{"version": 1, ...}`) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// A stagesync config file whose `[relations]` table is applied (nothing else of it is
    /// read: no tokens needed).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
}

#[cfg(feature = "emulator")]
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// A content-model file (TOML): serve the schema Hygraph would generate for it.
    #[arg(long, conflicts_with = "schema", required_unless_present = "schema")]
    pub model: Option<PathBuf>,
    /// A real Hygraph schema, SDL or introspection JSON (with or without `{"data": ...}`):
    /// serve that schema itself.
    #[arg(long, alias = "sdl")]
    pub schema: Option<PathBuf>,
    /// Address to listen on; loopback only.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Bearer token required on every request.
    #[arg(long, env = "STAGESYNC_EMULATOR_TOKEN")]
    pub token: Option<String>,
    /// A second token that may read but not write.
    #[arg(long)]
    pub read_only_token: Option<String>,
    /// Content to load at start (the `/__emulator/dump` form).
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Requests per second before answering 429.
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// Fault injection, e.g. `rate=0.2,seed=7,kinds=500+502+503+delay+drop-after`.
    #[arg(long)]
    pub faults: Option<String>,
    /// Request body limit in bytes (413 above it).
    #[arg(long)]
    pub max_body_bytes: Option<usize>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Ignore acknowledged hashes: rewrite every entry, edge and publication state (with
    /// --dry-run: plan that full pass).
    #[arg(long)]
    pub full: bool,
    /// Read the destination completely, rewrite the acknowledgements from what it holds, and
    /// write exactly what differs (after a lost store, an interruption, an edit there).
    #[arg(long, conflicts_with_all = ["full", "dry_run"])]
    pub repair: bool,
    /// Plan only: read the source, print the plan, write nothing to the destination.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: list the changed fields of each entry.
    #[arg(long, requires = "dry_run")]
    pub explain: bool,
    /// Allow deletions beyond the configured maximum for this run.
    #[arg(long, conflicts_with = "dry_run")]
    pub allow_mass_delete: bool,
    /// Print the run report (or, with --dry-run, the plan) as JSON on stdout instead of a
    /// table (`{"version": 1, ...}`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Plan a full pass (as `sync --full` would write), ignoring acknowledged hashes.
    #[arg(long)]
    pub full: bool,
    /// List the changed fields of each entry.
    #[arg(long)]
    pub explain: bool,
    /// Print the plan as JSON on stdout instead of a table (`{"version": 1, ...}`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Print the comparison as JSON on stdout (`{"version": 1, ...}`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Print the status as JSON on stdout (`{"version": 1, ...}`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TriggerArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Force a full resync.
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Args)]
pub struct CheckpointsArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Print the view as JSON on stdout (`{"version": 1, ...}`).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub view: Option<CheckpointsView>,
}

#[derive(Debug, Subcommand)]
pub enum CheckpointsView {
    /// Stored runs (the default).
    List,
    /// One run in detail.
    Show { run: u64 },
    /// Per model: entries tracked, last acknowledged run, pending entries.
    Models,
    /// One entry: ids, hashes seen and acknowledged.
    Entry { model: String, id: String },
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Forget only this model.
    #[arg(long)]
    pub model: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

#[cfg(feature = "emulator")]
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Entries to seed the source with (spread over the models; at least one per model).
    #[arg(long, default_value_t = 2000)]
    pub entries: usize,
    /// Run the demo on this Hygraph schema instead of the built-in conference model: a schema
    /// exported from a project, as SDL or as the JSON answer of the introspection query (with or
    /// without `{"data": ...}`). Both emulators serve it; the source is filled with generated
    /// content for every model.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Seed of the generated content (the same seed gives the same project).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Keep the emulators running at the end (until Ctrl-C) and print how to reach them.
    #[arg(long)]
    pub keep: bool,
    /// Keep the state here instead of in a temporary directory removed at the end; the demo
    /// closes with the commands that inspect it.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}
