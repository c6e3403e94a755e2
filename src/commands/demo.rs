//! `stagesync demo`: the main job on an embedded default (see `demo::tour`).

use crate::cli::DemoArgs;
use crate::demo::tour::{self, DemoOptions};

use super::Exit;

pub fn run(args: DemoArgs) -> anyhow::Result<Exit> {
    let runtime = super::runtime()?;
    let matched = runtime.block_on(tour::run(DemoOptions {
        entries: args.entries,
        keep: args.keep,
        state_dir: args.state_dir,
    }))?;
    Ok(if matched { Exit::Ok } else { Exit::Differences })
}
