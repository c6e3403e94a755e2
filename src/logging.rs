//! Logs on stderr, as text or JSON: warnings and errors by default, `-v` adds INFO (run and
//! phase lines), `-vv` DEBUG, `-vvv` TRACE, `-q` errors only; `RUST_LOG` wins over all of them.
//! The daemon starts one step up (INFO), so the journal holds each run's start and end.
//! Under systemd (`$JOURNAL_STREAM` set) lines carry no timestamp: the journal stamps them.
//! Lines go through the progress bars' writer, so a bar and a log line never tear each other.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::cli::{GlobalArgs, LogFormat};

/// Libraries whose INFO lines are about their own start-up, not the user's work.
const QUIET_LIBRARIES: &str = "tokio_cron_scheduler=warn";

/// The filter the flags ask for (without `RUST_LOG`).
pub fn default_filter(verbose: u8, quiet: bool) -> String {
    let level = if quiet {
        "error"
    } else {
        match verbose {
            0 => "warn",
            1 => "info",
            2 => "stagesync=debug,info",
            _ => "stagesync=trace,debug",
        }
    };
    format!("{level},{QUIET_LIBRARIES}")
}

/// `service`: a long-running service (the daemon), whose journal should hold one line per run
/// start and end: INFO by default there.
pub fn init(args: &GlobalArgs, service: bool) {
    let verbose = args.verbose.saturating_add(u8::from(service));
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter(verbose, args.quiet)));
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let ansi = !journal && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(BarWriter)
        .with_ansi(ansi)
        .with_target(false);
    // A second init (tests calling into the library twice) is harmless.
    let _ = match (args.log_format, journal) {
        (LogFormat::Text, false) => builder.try_init(),
        (LogFormat::Text, true) => builder.without_time().try_init(),
        (LogFormat::Json, false) => builder.json().flatten_event(true).try_init(),
        (LogFormat::Json, true) => builder.json().flatten_event(true).without_time().try_init(),
    };
}

/// stderr, one whole line at a time, around the progress bars.
struct BarWriter;

/// Collects one event's bytes and writes them at once when dropped.
struct Line(Vec<u8>);

impl std::io::Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            let _ = crate::sync::progress::write_stderr(&self.0);
        }
    }
}

impl<'a> MakeWriter<'a> for BarWriter {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_maps_to_levels_and_the_scheduler_stays_quiet() {
        assert_eq!(default_filter(0, false), "warn,tokio_cron_scheduler=warn");
        assert_eq!(default_filter(1, false), "info,tokio_cron_scheduler=warn");
        assert_eq!(
            default_filter(2, false),
            "stagesync=debug,info,tokio_cron_scheduler=warn"
        );
        assert_eq!(default_filter(0, true), "error,tokio_cron_scheduler=warn");
    }
}
