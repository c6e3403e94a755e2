//! The `stagesync` binary: parse the command line, set up logging, run, map the outcome to an
//! exit code (see `stagesync::commands::Exit`).

use std::process::ExitCode;

use clap::Parser;
use stagesync::cli::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    stagesync::logging::init(&cli.global);
    match stagesync::commands::run(cli.command) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(stagesync::commands::exit_code_for(&err) as u8)
        }
    }
}
