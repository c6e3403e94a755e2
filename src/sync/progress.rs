//! Progress bars on stderr, and the one way to write a log line while a bar is drawn.
//!
//! Whether bars are drawn is decided by the caller (`--progress auto|always|never`: auto means
//! "when stderr is a terminal"); here they are drawn where asked. Every bar belongs to one
//! process-wide [`MultiProgress`]; [`write_stderr`] (the log writer) clears the bars, writes the
//! line and redraws them, so log lines and bars never tear each other.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

fn bars() -> &'static MultiProgress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    BARS.get_or_init(|| {
        MultiProgress::with_draw_target(if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr_with_hz(10)
        } else {
            ProgressDrawTarget::term_like_with_hz(Box::new(Stderr), 10)
        })
    })
}

/// Writes `bytes` to stderr with the progress bars (if any) cleared around it.
pub fn write_stderr(bytes: &[u8]) -> std::io::Result<()> {
    match BARS_USED.get() {
        Some(()) => bars().suspend(|| std::io::stderr().write_all(bytes)),
        None => std::io::stderr().write_all(bytes),
    }
}

static BARS_USED: OnceLock<()> = OnceLock::new();

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar over `len` items (`None`: a counter of unknown length), drawn if `enabled`.
    pub fn new(enabled: bool, len: Option<u64>, label: &str) -> Progress {
        if !enabled {
            return Progress { bar: None };
        }
        // Rates as whole numbers: "2,409/s", not "2,409.1433/s".
        let rate = |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", state.per_sec());
        };
        let bar = match len {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template(
                    "{prefix:>12} [{bar:30}] {pos}/{len} {rate} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key("rate", rate)
                .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{prefix:>12} {spinner} {pos} entries {rate}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner())
                    .with_key("rate", rate),
            ),
        };
        bar.set_prefix(label.to_owned());
        let _ = BARS_USED.set(());
        let bar = bars().add(bar);
        Progress { bar: Some(bar) }
    }

    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            bars().remove(bar);
        }
    }
}

/// stderr as indicatif's terminal when it is not one (`--progress always` into a pipe or a
/// file), 100 columns wide unless `$COLUMNS` says otherwise.
#[derive(Debug)]
struct Stderr;

impl Stderr {
    fn put(&self, s: &str) -> std::io::Result<()> {
        std::io::stderr().write_all(s.as_bytes())
    }

    /// Moves the cursor `n` cells (ANSI `CSI n A|B|C|D`).
    fn cursor(&self, n: usize, direction: char) -> std::io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.put(&format!("\x1b[{n}{direction}"))
    }
}

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100)
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'A')
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'B')
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'C')
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'D')
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.put(&format!("{s}\n"))
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.put(s)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.put("\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
