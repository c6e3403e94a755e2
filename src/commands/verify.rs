//! `stagesync verify`: compare both sides completely; exit 0 only when they match. The
//! comparison goes to stdout (a table and the differences, or JSON with `--json`).

use crate::cli::VerifyArgs;
use crate::config::Config;
use crate::render::sides_table;
use crate::store::{Store, StoreError};

use super::Exit;

/// Differences listed in the text form; `--json` holds them all.
const SHOWN: usize = 200;

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
        super::print_json(serde_json::json!({
            "matches": report.matches(),
            "models": report.models.iter().map(|(model, source, destination)| serde_json::json!({
                "model": model, "source": source, "destination": destination,
            })).collect::<Vec<_>>(),
            "differences": report.differences,
            "not_compared": report.not_compared,
        }))?;
    } else {
        print!("{}", sides_table(&report.models));
        for d in report.differences.iter().take(SHOWN) {
            println!("{} {} [{}]: {}", d.model, d.id, d.stage, d.what);
        }
        if report.differences.len() > SHOWN {
            println!(
                "... and {} more differences (`--json` lists them all)",
                report.differences.len() - SHOWN
            );
        }
        for field in &report.not_compared {
            println!("not compared: {field}");
        }
        if report.matches() {
            println!("verify: source and destination match");
        } else {
            println!("verify: {} differences", report.differences.len());
        }
    }
    Ok(if report.matches() {
        Exit::Ok
    } else {
        Exit::Differences
    })
}
