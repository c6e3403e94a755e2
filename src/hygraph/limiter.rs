//! The request-rate limiter of one endpoint, shared by reads and writes: a GCRA at the configured
//! rate, slowed down adaptively while the server answers 429.
//!
//! Throttling works in episodes. The first 429 after a calm spell starts one (one `warn` line),
//! halves the rate and pauses every request for the server's `Retry-After` (or a backoff). Each
//! further 429 halves the rate again; each quiet `throttle_recovery` doubles it back. The episode
//! ends (one `info` line) when the configured rate is reached again.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// The slowest we go, however often the server says 429: one request every four seconds.
const MIN_RATE: f64 = 0.25;
/// Requests failing together report one 429 each; within this window they count as one.
const SAME_THROTTLE: Duration = Duration::from_secs(1);

pub(crate) struct Limiter {
    endpoint: String,
    rate: u32,
    steady: DefaultDirectRateLimiter,
    recovery: Duration,
    throttle: Mutex<Throttle>,
}

#[derive(Default)]
struct Throttle {
    /// 0: full rate; n: the rate halved n times.
    level: u32,
    slow: Option<Arc<DefaultDirectRateLimiter>>,
    /// Last 429 or last recovery step, whichever is later.
    last_change: Option<Instant>,
    pause_until: Option<Instant>,
}

impl Limiter {
    /// `None` when `rate` or `burst` is zero.
    pub(crate) fn new(
        endpoint: &str,
        rate: u32,
        burst: u32,
        recovery: Duration,
    ) -> Option<Limiter> {
        let quota = Quota::per_second(NonZeroU32::new(rate)?).allow_burst(NonZeroU32::new(burst)?);
        Some(Limiter {
            endpoint: endpoint.to_owned(),
            rate,
            steady: RateLimiter::direct(quota),
            recovery,
            throttle: Mutex::new(Throttle::default()),
        })
    }

    /// Waits until one more request may be sent.
    pub(crate) async fn acquire(&self) {
        loop {
            let (pause, slow) = {
                let mut throttle = self.lock();
                self.recover(&mut throttle, Instant::now());
                (throttle.pause_until, throttle.slow.clone())
            };
            if let Some(until) = pause.filter(|until| *until > Instant::now()) {
                tokio::time::sleep_until(until).await;
                // Another 429 may have extended the pause meanwhile.
                continue;
            }
            self.steady.until_ready().await;
            if let Some(slow) = slow {
                slow.until_ready().await;
            }
            return;
        }
    }

    /// Records a 429: every request waits `pause`, and the rate drops. Returns whether this
    /// started a new throttling episode.
    pub(crate) fn throttled(&self, pause: Duration) -> bool {
        self.throttled_at(pause, Instant::now())
    }

    fn throttled_at(&self, pause: Duration, now: Instant) -> bool {
        let mut throttle = self.lock();
        let until = now + pause;
        throttle.pause_until = Some(throttle.pause_until.map_or(until, |p| p.max(until)));
        let new_episode = throttle.level == 0;
        let recent = throttle
            .last_change
            .is_some_and(|at| now.duration_since(at) < SAME_THROTTLE);
        if (new_episode || !recent) && self.rate_at(throttle.level) > MIN_RATE {
            throttle.level += 1;
            throttle.slow = self.slow_limiter(throttle.level);
        }
        throttle.last_change = Some(now);
        if new_episode {
            tracing::warn!(
                endpoint = %self.endpoint,
                "endpoint `{}` is rate limiting us (HTTP 429); slowing down to {:.2} requests/s until it stops",
                self.endpoint,
                self.rate_at(throttle.level)
            );
        } else {
            tracing::debug!(
                endpoint = %self.endpoint,
                rate = self.rate_at(throttle.level),
                "still rate limited"
            );
        }
        new_episode
    }

    /// The rate requests currently go out at, in requests per second.
    pub(crate) fn current_rate(&self) -> f64 {
        self.rate_at(self.lock().level)
    }

    fn recover(&self, throttle: &mut Throttle, now: Instant) {
        let Some(last) = throttle.last_change else {
            return;
        };
        if throttle.level == 0 || now.duration_since(last) < self.recovery {
            return;
        }
        throttle.level -= 1;
        throttle.last_change = Some(now);
        throttle.slow = self.slow_limiter(throttle.level);
        if throttle.level == 0 {
            tracing::info!(
                endpoint = %self.endpoint,
                "endpoint `{}` stopped rate limiting; back to {} requests/s",
                self.endpoint,
                self.rate
            );
        } else {
            tracing::debug!(endpoint = %self.endpoint, rate = self.rate_at(throttle.level), "speeding up");
        }
    }

    fn rate_at(&self, level: u32) -> f64 {
        (f64::from(self.rate) / 2f64.powi(level.min(64) as i32)).max(MIN_RATE)
    }

    /// A limiter with no burst at the reduced rate: a fresh one would otherwise let a burst out
    /// right after the server complained.
    fn slow_limiter(&self, level: u32) -> Option<Arc<DefaultDirectRateLimiter>> {
        if level == 0 {
            return None;
        }
        let period = Duration::from_secs_f64(1.0 / self.rate_at(level));
        let quota = Quota::with_period(period)?.allow_burst(NonZeroU32::MIN);
        Some(Arc::new(RateLimiter::direct(quota)))
    }

    fn lock(&self) -> MutexGuard<'_, Throttle> {
        // The state stays consistent even if a holder panicked: every update is one assignment.
        self.throttle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_halves_the_rate_and_quiet_spells_restore_it() {
        let limiter = Limiter::new("source", 20, 2, Duration::from_secs(5)).unwrap();
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let recover_at = |now: Instant| limiter.recover(&mut limiter.lock(), now);
        assert_eq!(limiter.current_rate(), 20.0);
        assert!(limiter.throttled_at(Duration::ZERO, at(0)));
        assert_eq!(limiter.current_rate(), 10.0);
        // A second 429 from a request sent at the same time is the same complaint.
        assert!(!limiter.throttled_at(Duration::ZERO, at(0)));
        assert_eq!(limiter.current_rate(), 10.0);
        assert!(!limiter.throttled_at(Duration::ZERO, at(2)));
        assert_eq!(limiter.current_rate(), 5.0);
        recover_at(at(4));
        assert_eq!(limiter.current_rate(), 5.0, "not quiet long enough");
        recover_at(at(8));
        assert_eq!(limiter.current_rate(), 10.0);
        recover_at(at(14));
        assert_eq!(limiter.current_rate(), 20.0);
        // Calm again: the next 429 starts a new episode.
        assert!(limiter.throttled_at(Duration::ZERO, at(15)));
    }

    #[test]
    fn the_rate_never_drops_below_the_floor() {
        let limiter = Limiter::new("source", 4, 1, Duration::from_secs(5)).unwrap();
        let start = Instant::now();
        for i in 0..20 {
            limiter.throttled_at(Duration::ZERO, start + Duration::from_secs(2 * i));
        }
        assert_eq!(limiter.current_rate(), MIN_RATE);
        // Recovery starts from the floor, not from twenty halvings below it.
        limiter.recover(&mut limiter.lock(), start + Duration::from_secs(60));
        assert_eq!(limiter.current_rate(), 2.0 * MIN_RATE);
    }

    #[test]
    fn zero_rate_or_burst_is_refused() {
        assert!(Limiter::new("source", 0, 1, Duration::from_secs(1)).is_none());
        assert!(Limiter::new("source", 1, 0, Duration::from_secs(1)).is_none());
    }
}
