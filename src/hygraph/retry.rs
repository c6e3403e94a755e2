//! Retry timing: exponential backoff with jitter, and the server's `Retry-After`. The one
//! backoff of the program: the transport waits by it between request retries, the daemon
//! (through [`Backoff`]) between failed runs.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

/// A server asking for longer than this is more likely confused than right; we cap the wait so
/// a daemon run cannot hang on one header.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(300);

/// The wait before retry number `retry` (0-based): `base · 2^retry`, capped at `max`, of which
/// the upper half is random so that clients that failed together do not retry together.
pub fn backoff(retry: u32, base: Duration, max: Duration) -> Duration {
    let ceiling = base
        .checked_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
        .unwrap_or(max)
        .min(max);
    let half = ceiling / 2;
    half + half.mul_f64(random_fraction())
}

/// Consecutive failures and the wait after each: [`backoff`] with a memory, for a loop that
/// retries until it succeeds (the daemon after failed runs).
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
            failures: 0,
        }
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a failure and returns how long to wait before the retry.
    pub fn next_delay(&mut self) -> Duration {
        let delay = backoff(self.failures, self.initial, self.max);
        self.failures = self.failures.saturating_add(1);
        delay
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// A uniform number in `[0, 1)`; the standard library's per-process random hash keys are
/// random enough for jitter and spare a dependency.
fn random_fraction() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// `Retry-After` as delta-seconds or an HTTP date; `None` when absent or unreadable.
pub(crate) fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else if let Ok(seconds) = value.parse::<f64>() {
        Duration::try_from_secs_f64(seconds).ok()?
    } else {
        let at: SystemTime = chrono::DateTime::parse_from_rfc2822(value).ok()?.into();
        // A date in the past means "now".
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(RETRY_AFTER_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        for _ in 0..50 {
            let first = backoff(0, base, max);
            assert!(
                first >= Duration::from_millis(50) && first <= base,
                "{first:?}"
            );
            let third = backoff(2, base, max);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            assert!(backoff(40, base, max) <= max);
        }
    }

    #[test]
    fn run_backoff_grows_then_stays_under_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        let delays: Vec<Duration> = (0..8).map(|_| b.next_delay()).collect();
        let ceilings = [1, 2, 4, 8, 10, 10, 10, 10];
        for (d, c) in delays.iter().zip(ceilings) {
            let c = Duration::from_secs(c);
            assert!(
                *d >= c / 2 && *d <= c,
                "{d:?} not within [{:?}, {c:?}]",
                c / 2
            );
        }
        assert_eq!(b.failures(), 8);
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(1));
    }

    #[test]
    fn jitter_varies() {
        let seen: std::collections::BTreeSet<u128> = (0..20)
            .map(|_| backoff(0, Duration::from_secs(100), Duration::from_secs(100)).as_millis())
            .collect();
        assert!(seen.len() > 1, "no jitter: {seen:?}");
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 06 Nov 1994 08:49:37
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("999999", now), Some(RETRY_AFTER_MAX));
    }
}
