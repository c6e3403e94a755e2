//! Tracing to stderr, as text or JSON. `RUST_LOG` wins over `--verbose`/`--quiet`.

use tracing_subscriber::EnvFilter;

use crate::cli::{GlobalArgs, LogFormat};

pub fn init(args: &GlobalArgs) {
    let default = if args.quiet {
        "warn"
    } else {
        match args.verbose {
            0 => "info",
            1 => "stagesync=debug,info",
            _ => "stagesync=trace,debug",
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    // A second init (tests calling into the library twice) is harmless.
    let _ = match args.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
