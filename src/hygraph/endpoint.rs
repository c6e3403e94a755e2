//! The settings of one Content API endpoint: where it is, its token, and how hard to push it.

use std::time::Duration;

use secrecy::SecretString;

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
    /// Retries of transient failures (5xx, timeouts, lost connections, 429, garbled answers).
    pub max_retries: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// After a 429 the rate is halved; each quiet spell this long without one doubles it back,
    /// up to `requests_per_second`.
    pub throttle_recovery: Duration,
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
            max_retries: 8,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            throttle_recovery: Duration::from_secs(10),
        }
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
            .field("max_retries", &self.max_retries)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("throttle_recovery", &self.throttle_recovery)
            .finish()
    }
}
