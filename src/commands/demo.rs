//! `stagesync demo`: the main job on an embedded default, or on a given real schema with
//! `--schema` (see `demo::tour`). With `--keep`, the
//! emulators serve until Ctrl-C, and the hint printed names files that exist until then.

use crate::cli::DemoArgs;
use crate::demo::tour::{self, DemoOptions, DemoSchema};

use super::{Exit, Output, UsageError};

pub fn run(args: DemoArgs, output: Output) -> anyhow::Result<Exit> {
    // A schema that cannot be served is the user's to fix: exit 2, naming the file.
    let schema = match &args.schema {
        Some(path) => {
            Some(DemoSchema::load(path).map_err(|e| UsageError(format!("demo --schema: {e}")))?)
        }
        None => None,
    };
    if args.entries == 0 {
        return Err(UsageError("demo: --entries must be at least 1".into()).into());
    }
    let runtime = super::runtime()?;
    let tour = runtime.block_on(tour::run(DemoOptions {
        entries: args.entries,
        schema,
        seed: args.seed,
        keep: args.keep,
        state_dir: args.state_dir,
        progress: output.progress,
    }))?;
    if let Some(running) = &tour.running {
        println!(
            "\n--keep: the emulators keep running until Ctrl-C. Point stagesync or curl at them:\n   stagesync sync --config {}\n   curl -H \"Authorization: Bearer $(cat {})\" {}/__emulator/stats\n   (tokens are in files, never printed; both are removed at Ctrl-C)",
            running.config.display(),
            running.source_token_file.display(),
            running.source_url,
        );
        runtime.block_on(super::shutdown_signal());
    }
    Ok(if tour.matched {
        Exit::Ok
    } else {
        Exit::Differences
    })
}
