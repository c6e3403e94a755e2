//! Counters of what one endpoint client sent and received, for run records and benchmarks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// A snapshot of an endpoint client's counters since it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestStats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Request body bytes.
    pub bytes_sent: u64,
    /// Response body bytes.
    pub bytes_received: u64,
    /// Requests sent again after a transient failure.
    pub retries: u64,
    /// Answers with HTTP 429.
    pub rate_limited: u64,
    /// Times the server started rate limiting us after a calm spell.
    pub throttle_episodes: u64,
    /// Requests that got no HTTP answer (connect errors, timeouts, lost connections).
    pub no_answer: u64,
    /// Answers by HTTP status.
    pub by_status: BTreeMap<u16, u64>,
}

#[derive(Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    throttle_episodes: AtomicU64,
    no_answer: AtomicU64,
    by_status: Mutex<BTreeMap<u16, u64>>,
}

impl Counters {
    pub(crate) fn sent(&self, bytes: usize) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn answered(&self, status: u16, bytes: usize) {
        self.bytes_received
            .fetch_add(bytes as u64, Ordering::Relaxed);
        *self
            .by_status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(status)
            .or_default() += 1;
        if status == 429 {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn no_answer(&self) {
        self.no_answer.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn throttle_episode(&self) {
        self.throttle_episodes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> RequestStats {
        RequestStats {
            requests: self.requests.load(Ordering::Relaxed),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            bytes_received: self.bytes_received.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            throttle_episodes: self.throttle_episodes.load(Ordering::Relaxed),
            no_answer: self.no_answer.load(Ordering::Relaxed),
            by_status: self
                .by_status
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}
