//! The `stagesync` binary: parse the command line, set up logging, run, map the outcome to an
//! exit code (see `stagesync::commands::Exit`). Errors are printed once, each cause once.

use std::process::ExitCode;

use clap::Parser;
use stagesync::cli::{Cli, Command};
use stagesync::commands::{self, Output};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    let service = matches!(cli.command, Command::Daemon(_));
    stagesync::logging::init(&cli.global, service);
    match commands::run(cli.command, Output::from_args(&cli.global)) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(err) => {
            eprintln!("error: {}", commands::error_text(&err));
            ExitCode::from(commands::exit_code_for(&err) as u8)
        }
    }
}
