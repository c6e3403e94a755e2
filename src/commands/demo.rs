//! `stagesync demo`: the main job on an embedded default (see `demo::tour`). With `--keep`, the
//! emulators serve until Ctrl-C, and the hint printed names files that exist until then.

use crate::cli::DemoArgs;
use crate::demo::tour::{self, DemoOptions};

use super::{Exit, Output};

pub fn run(args: DemoArgs, output: Output) -> anyhow::Result<Exit> {
    let runtime = super::runtime()?;
    let tour = runtime.block_on(tour::run(DemoOptions {
        entries: args.entries,
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
