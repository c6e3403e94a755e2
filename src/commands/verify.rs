//! `stagesync verify`: compare both sides completely; exit 0 only when they match.

use crate::cli::VerifyArgs;
use crate::config::Config;
use crate::store::{Store, StoreError};

use super::Exit;

pub fn run(args: VerifyArgs) -> anyhow::Result<Exit> {
    let config = Config::load(&args.config.config, args.config.state_dir.as_deref())?;
    // The store maps ids for models matched by `id`; a daemon holding it is not an error, a
    // damaged one is (its mapping cannot be trusted).
    let store = match Store::open(&config.state_dir) {
        Ok(store) => Some(store),
        Err(e @ StoreError::Damaged { .. }) => return Err(e.into()),
        Err(_) => None,
    };
    let runtime = super::runtime()?;
    let report = runtime.block_on(crate::sync::verify(&config, store.as_ref()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for (model, source, dest) in &report.models {
            eprintln!("{model:<24} source {source:>8}  destination {dest:>8}");
        }
        for d in report.differences.iter().take(200) {
            eprintln!("{} {} [{}]: {}", d.model, d.id, d.stage, d.what);
        }
        if report.differences.len() > 200 {
            eprintln!(
                "... and {} more differences",
                report.differences.len() - 200
            );
        }
        if report.matches() {
            eprintln!("verify: source and destination match");
        } else {
            eprintln!("verify: {} differences", report.differences.len());
        }
    }
    Ok(if report.matches() {
        Exit::Ok
    } else {
        Exit::Differences
    })
}
