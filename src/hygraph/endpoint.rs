//! The settings of one Content API endpoint: where it is, its token, and how hard to push it.

use std::time::Duration;

use secrecy::SecretString;

/// The default of [`EndpointConfig::give_up_after`]: a run gives up on a dead endpoint within
/// two minutes, with room for the attempt in flight.
pub const GIVE_UP_SECS: u64 = 100;

/// How stagesync talks to one Hygraph endpoint. The token never reaches `Debug` output.
#[derive(Clone)]
pub struct EndpointConfig {
    /// `source` or `destination`: named in every log line and error.
    pub name: String,
    pub url: url::Url,
    /// Sent as `Authorization: Bearer …`; `None` for public endpoints.
    pub token: Option<SecretString>,
    /// Steady request rate, shared by reads and writes; set it to the plan's limit or below.
    pub requests_per_second: u32,
    /// Requests that may go out back to back after a quiet spell. Kept small: the server's own
    /// limiter may tolerate less burst than ours.
    pub burst: u32,
    /// Requests on the wire at once (Hygraph also limits concurrent operations).
    pub max_in_flight: usize,
    pub connect_timeout: Duration,
    /// Longest silence while waiting for or reading an answer.
    pub read_timeout: Duration,
    /// Longest time for one request from connect to the last byte.
    pub request_timeout: Duration,
    /// Longest time one request may take over all its attempts and the waits between them,
    /// counted from its first send; also, how long the endpoint may go without answering at all
    /// before every request to it fails at once. Bounds how long a run waits on a dead endpoint.
    pub give_up_after: Duration,
    /// Retries of transient failures (5xx, timeouts, lost connections, 429, garbled answers).
    pub max_retries: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// After a 429 the rate is halved; each quiet spell this long without one doubles it back,
    /// up to `requests_per_second`.
    pub throttle_recovery: Duration,
    /// Largest request body of a read (Hygraph's plans limit a query's size: Hobby 10 KB,
    /// Growth 15 KB, Enterprise 20 KB). A model whose page query is larger is read in parts.
    pub max_query_bytes: usize,
}

impl EndpointConfig {
    /// Settings that suit a Hygraph plan allowing 25 requests per second.
    pub fn new(name: impl Into<String>, url: url::Url) -> EndpointConfig {
        EndpointConfig {
            name: name.into(),
            url,
            token: None,
            requests_per_second: 25,
            burst: 10,
            max_in_flight: 8,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(120),
            give_up_after: Duration::from_secs(GIVE_UP_SECS),
            max_retries: 12,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            throttle_recovery: Duration::from_secs(10),
            max_query_bytes: crate::sync::read::DEFAULT_QUERY_BYTES,
        }
    }

    /// The longest one request can take from its first send to its final error, from these
    /// settings: every attempt timing out and every wait at its longest, cut at `give_up_after`.
    pub fn give_up_bound(&self) -> Duration {
        let attempts = self
            .request_timeout
            .saturating_mul(self.max_retries.saturating_add(1));
        // The retry backoff waits at most `base · 2^retry`, capped at `backoff_max`.
        let waits = (0..self.max_retries).fold(Duration::ZERO, |sum, retry| {
            let ceiling = self
                .backoff_base
                .saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
                .min(self.backoff_max);
            sum.saturating_add(ceiling)
        });
        attempts.saturating_add(waits).min(self.give_up_after)
    }

    /// The same settings with a token.
    pub fn with_token(mut self, token: impl Into<String>) -> EndpointConfig {
        self.token = Some(SecretString::from(token.into()));
        self
    }
}

impl std::fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointConfig")
            .field("name", &self.name)
            .field("url", &self.url.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("requests_per_second", &self.requests_per_second)
            .field("burst", &self.burst)
            .field("max_in_flight", &self.max_in_flight)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("give_up_after", &self.give_up_after)
            .field("max_retries", &self.max_retries)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("throttle_recovery", &self.throttle_recovery)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_default_a_dead_endpoint_is_given_up_within_two_minutes() {
        let cfg = EndpointConfig::new("source", url::Url::parse("http://127.0.0.1:9/").unwrap());
        assert!(cfg.give_up_bound() <= Duration::from_secs(120), "{cfg:?}");
        // Retries alone (9 attempts of up to 120 s) would take far longer: the cut decides.
        assert_eq!(cfg.give_up_bound(), cfg.give_up_after);
        let mut quick = cfg.clone();
        quick.request_timeout = Duration::from_secs(1);
        quick.max_retries = 2;
        quick.backoff_base = Duration::from_millis(100);
        assert_eq!(quick.give_up_bound(), Duration::from_millis(3_300));
    }
}
