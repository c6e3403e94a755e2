//! GraphQL over HTTP to one Hygraph endpoint: auth, timeouts, the shared rate limiter and
//! in-flight cap, retries of transient failures, and the mapping of HTTP outcomes to
//! [`ClientError`]s. It knows nothing of content models; the query builders sit on top.
//!
//! Retry policy. A [`Idempotency::Safe`] request (a read, or a write the caller made idempotent)
//! is retried on every transient failure, a lost answer included. An [`Idempotency::Unsafe`]
//! one is retried only when the server provably did not act on it: the connection was never
//! made, or the answer was 429 (Hygraph's limiter rejects before executing). A 5xx, a timeout
//! after the request left, a dropped connection or a garbled answer may hide an applied write,
//! so those come back to the caller (see [`ClientError::write_may_have_applied`]).
//!
//! Deadlines. Each attempt has a total timeout that includes reading the body (a server that
//! trickles its answer fails like one that never answers). One request, all attempts and waits
//! included, ends within `give_up_after` of its first send; and once the endpoint has gone that
//! long without completing any answer, every request to it fails at once. So a run gives up on
//! a dead endpoint within `give_up_after` (default 100 s), with [`ClientError::GaveUp`] naming
//! it, however many requests were queued.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::endpoint::EndpointConfig;
use super::error::{ClientError, TimeoutPhase};
use super::limiter::Limiter;
use super::response::{excerpt, Response};
use super::retry::{backoff, retry_after};
use super::stats::{Counters, RequestStats};
use crate::model::introspection::INTROSPECTION_QUERY;

/// A refused connection or unknown host is rarely fixed by waiting long: retry it this often at
/// most, so a wrong URL fails in about a second instead of a minute.
const CONNECT_RETRIES: u32 = 2;

/// Whether a request may be sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, and writes that have the same effect when applied twice (upserts by a unique key,
    /// `set` of a relation, publish).
    Safe,
    /// Writes that would be duplicated if applied twice (`create…`, uploads).
    Unsafe,
}

/// A client for one endpoint. Cheap to clone: clones share the limiter, connections and stats.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: EndpointConfig,
    /// `Bearer …`, marked sensitive so `http` never prints it.
    authorization: Option<HeaderValue>,
    http: reqwest::Client,
    limiter: Limiter,
    in_flight: Semaphore,
    counters: Counters,
    /// When the first attempt to the endpoint that got no complete answer started, since its
    /// last complete answer; `None` while the endpoint answers.
    silent_since: Mutex<Option<Instant>>,
}

/// What one HTTP request is, for the retry loop.
struct Request {
    method: Method,
    url: url::Url,
    body: Option<(Vec<u8>, &'static str)>,
    /// Sent to the endpoint itself (token, rate limit, 404 means a wrong endpoint URL), rather
    /// than to an asset host elsewhere.
    to_endpoint: bool,
    idempotency: Idempotency,
}

/// An HTTP answer read to the end.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// Why one attempt did not produce a result.
enum Failure {
    /// Sending again will not help.
    Fatal(ClientError),
    Transient {
        error: ClientError,
        /// The server may have acted on the request.
        reached_server: bool,
        /// A wait the server asked for.
        wait: Option<Duration>,
        /// Retried at most [`CONNECT_RETRIES`] times.
        connect: bool,
    },
    /// The request's time (`give_up_after`) ran out before this attempt could be sent.
    OutOfTime,
}

impl Failure {
    fn transient(error: ClientError, reached_server: bool) -> Failure {
        Failure::Transient {
            error,
            reached_server,
            wait: None,
            connect: false,
        }
    }

    fn connect(error: ClientError) -> Failure {
        Failure::Transient {
            error,
            reached_server: false,
            wait: None,
            connect: true,
        }
    }
}

impl Client {
    /// Checks the settings and builds the HTTP client; no request is sent.
    pub fn new(cfg: EndpointConfig) -> Result<Client, ClientError> {
        let invalid = |detail: &str| ClientError::InvalidConfig {
            endpoint: cfg.name.clone(),
            detail: detail.to_owned(),
        };
        if !matches!(cfg.url.scheme(), "http" | "https") || cfg.url.host().is_none() {
            return Err(ClientError::InvalidUrl {
                endpoint: cfg.name.clone(),
                url: cfg.url.to_string(),
                detail: "expected an http:// or https:// URL with a host".into(),
            });
        }
        let limiter = Limiter::new(
            &cfg.name,
            cfg.requests_per_second,
            cfg.burst,
            cfg.throttle_recovery,
        )
        .ok_or_else(|| invalid("requests_per_second and burst must be at least 1"))?;
        if cfg.max_in_flight == 0 {
            return Err(invalid("max_in_flight must be at least 1"));
        }
        if [
            cfg.connect_timeout,
            cfg.read_timeout,
            cfg.request_timeout,
            cfg.give_up_after,
        ]
        .contains(&Duration::ZERO)
        {
            return Err(invalid("timeouts must be longer than zero"));
        }
        let authorization = match &cfg.token {
            None => None,
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                    .map_err(|_| {
                        invalid("the token contains characters not allowed in an HTTP header")
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("stagesync/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(cfg.connect_timeout)
            .read_timeout(cfg.read_timeout)
            .timeout(cfg.request_timeout)
            .build()
            .map_err(|e| {
                // In practice TLS set-up: rustls reads the system's CA certificates here.
                let cause = cause_chain(&e);
                let fix = if cause.contains("CA certificates") {
                    "; install the system's CA certificates (Debian/Ubuntu: `apt-get install \
                     ca-certificates`) or set SSL_CERT_FILE to a PEM bundle"
                } else {
                    ""
                };
                invalid(&format!("cannot build the HTTP client: {cause}{fix}"))
            })?;
        let in_flight = Semaphore::new(cfg.max_in_flight.min(Semaphore::MAX_PERMITS));
        Ok(Client {
            inner: Arc::new(Inner {
                cfg,
                authorization,
                http,
                limiter,
                in_flight,
                counters: Counters::default(),
                silent_since: Mutex::new(None),
            }),
        })
    }

    /// The endpoint's name (`source`, `destination`).
    pub fn name(&self) -> &str {
        &self.inner.cfg.name
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &url::Url {
        &self.inner.cfg.url
    }

    /// How many times a failed request is retried (`max_retries`): also the budget of the
    /// callers that retry a write after looking up whether its lost answer hid a success.
    pub fn max_retries(&self) -> u32 {
        self.inner.cfg.max_retries
    }

    /// Counters since this client was created.
    pub fn stats(&self) -> RequestStats {
        self.inner.counters.snapshot()
    }

    /// The rate requests currently go out at: the configured one, or less while throttled.
    pub fn current_rate(&self) -> f64 {
        self.inner.limiter.current_rate()
    }

    /// Sends one GraphQL request. GraphQL errors come back in the [`Response`], whether tied to
    /// aliases or to the whole request (validation): the caller decides. Only a query-complexity
    /// rejection becomes [`ClientError::TooComplex`], so the caller can split the batch.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        idempotency: Idempotency,
    ) -> Result<Response, ClientError> {
        self.graphql_as(query, variables, idempotency).await
    }

    /// [`Client::graphql`] with `data` decoded as `D` instead of a [`Value`]: a
    /// `Box<serde_json::value::RawValue>` keeps it as the bytes sent, for a caller that decodes
    /// only what it needs. Same limits, retries and errors.
    pub async fn graphql_as<D: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
        idempotency: Idempotency,
    ) -> Result<Response<D>, ClientError> {
        let mut payload = serde_json::Map::new();
        payload.insert("query".into(), Value::String(query.to_owned()));
        if !variables.is_null() {
            payload.insert("variables".into(), variables);
        }
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        let request = Request {
            method: Method::POST,
            url: self.inner.cfg.url.clone(),
            body: Some((body, "application/json")),
            to_endpoint: true,
            idempotency,
        };
        let response = self
            .execute(&request, |answer| self.decode_graphql(answer))
            .await?;
        if let Some(error) = response.complexity_error() {
            return Err(ClientError::TooComplex {
                endpoint: self.name().to_owned(),
                message: error.message.clone(),
            });
        }
        Ok(response)
    }

    /// The endpoint's schema: the `data` of the standard introspection query,
    /// `{"__schema": {...}}`.
    pub async fn introspect(&self) -> Result<Value, ClientError> {
        let response = self
            .graphql(INTROSPECTION_QUERY, Value::Null, Idempotency::Safe)
            .await?;
        let failed = |message: String| ClientError::Introspection {
            endpoint: self.name().to_owned(),
            message,
        };
        match response.data {
            Some(data) if data.get("__schema").is_some_and(Value::is_object) => Ok(data),
            Some(_) => Err(failed("the answer has no `__schema` object".into())),
            None => Err(failed(
                response
                    .errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
        }
    }

    /// Downloads a file (an asset's bytes). The token and the rate limit apply only when `url`
    /// is on the endpoint's own host: asset CDNs need neither, and must never see the token.
    pub async fn get_bytes(&self, url: &str) -> Result<Vec<u8>, ClientError> {
        let url = url::Url::parse(url).map_err(|e| ClientError::InvalidUrl {
            endpoint: self.name().to_owned(),
            url: url.to_owned(),
            detail: e.to_string(),
        })?;
        let request = Request {
            to_endpoint: url.origin() == self.inner.cfg.url.origin(),
            method: Method::GET,
            url,
            body: None,
            idempotency: Idempotency::Safe,
        };
        self.execute(&request, |answer| {
            if answer.status.is_success() {
                Ok(answer.body.clone())
            } else {
                Err(Failure::Fatal(self.unexpected_status(answer)))
            }
        })
        .await
    }

    /// Posts a form to `<endpoint URL>/<path_suffix>`, e.g. the legacy asset upload
    /// (`upload` with `url=`), and returns the JSON answer. Never retried once it may have
    /// reached the server: an upload creates an asset each time.
    pub async fn post_form(
        &self,
        path_suffix: &str,
        form: &[(&str, &str)],
    ) -> Result<Value, ClientError> {
        let mut url = self.inner.cfg.url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend(path_suffix.split('/').filter(|s| !s.is_empty()));
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let request = Request {
            method: Method::POST,
            url,
            body: Some((body.into_bytes(), "application/x-www-form-urlencoded")),
            to_endpoint: true,
            idempotency: Idempotency::Unsafe,
        };
        self.execute(&request, |answer| {
            if !answer.status.is_success() {
                return Err(Failure::Fatal(self.unexpected_status(answer)));
            }
            serde_json::from_slice(&answer.body).map_err(|e| {
                Failure::transient(
                    self.invalid_response(format!("not JSON ({e}): {}", excerpt(&answer.body))),
                    true,
                )
            })
        })
        .await
    }

    /// Sends `request` until it succeeds, fails for good, runs out of retries or of time.
    async fn execute<T>(
        &self,
        request: &Request,
        decode: impl Fn(&Answer) -> Result<T, Failure>,
    ) -> Result<T, ClientError> {
        let cfg = &self.inner.cfg;
        let mut attempts = 0u32;
        let mut first_sent: Option<Instant> = None;
        let mut last: Option<ClientError> = None;
        loop {
            attempts += 1;
            let result = match self.attempt(request, attempts, &mut first_sent).await {
                Ok(answer) => decode(&answer),
                Err(failure) => Err(failure),
            };
            let (error, reached_server, wait, connect) = match result {
                Ok(value) => return Ok(value),
                Err(Failure::Fatal(error)) => return Err(error.with_attempts(attempts)),
                Err(Failure::OutOfTime) => return Err(self.gave_up(attempts - 1, last)),
                Err(Failure::Transient {
                    error,
                    reached_server,
                    wait,
                    connect,
                }) => (error, reached_server, wait, connect),
            };
            let retries = if connect {
                cfg.max_retries.min(CONNECT_RETRIES)
            } else {
                cfg.max_retries
            };
            let may_resend = request.idempotency == Idempotency::Safe || !reached_server;
            if !may_resend || attempts > retries {
                return Err(error.with_attempts(attempts));
            }
            let delay =
                wait.unwrap_or_else(|| backoff(attempts - 1, cfg.backoff_base, cfg.backoff_max));
            if Instant::now() + delay >= self.deadline(request, first_sent) {
                return Err(self.gave_up(attempts, Some(error)));
            }
            self.inner.counters.retry();
            tracing::debug!(
                endpoint = %cfg.name,
                attempt = attempts,
                delay_ms = delay.as_millis() as u64,
                "retrying after: {error}"
            );
            last = Some(error);
            tokio::time::sleep(delay).await;
        }
    }

    /// When a request first sent at `first_sent` (not yet: now) must have ended.
    fn deadline(&self, request: &Request, first_sent: Option<Instant>) -> Instant {
        let give_up = self.inner.cfg.give_up_after;
        let own = first_sent.unwrap_or_else(Instant::now) + give_up;
        match *lock(&self.inner.silent_since) {
            Some(silent) if request.to_endpoint => own.min(silent + give_up),
            _ => own,
        }
    }

    fn gave_up(&self, attempts: u32, last: Option<ClientError>) -> ClientError {
        ClientError::GaveUp {
            endpoint: self.name().to_owned(),
            url: without_query(&self.inner.cfg.url),
            secs: self.inner.cfg.give_up_after.as_secs(),
            attempts,
            last: last.map_or_else(
                || "the endpoint has not answered for that long".to_owned(),
                |e| e.to_string(),
            ),
        }
    }

    /// Sends once, within the in-flight cap, the rate limit and the deadline, and reads the whole
    /// answer.
    async fn attempt(
        &self,
        request: &Request,
        attempt: u32,
        first_sent: &mut Option<Instant>,
    ) -> Result<Answer, Failure> {
        let inner = &self.inner;
        // The semaphore is never closed, so this cannot fail; without a permit we would still
        // be correct, only less polite.
        let _permit = inner.in_flight.acquire().await.ok();
        if request.to_endpoint {
            inner.limiter.acquire().await;
        }
        let start = Instant::now();
        let left = self
            .deadline(request, *first_sent)
            .saturating_duration_since(start);
        if left.is_zero() {
            return Err(Failure::OutOfTime);
        }
        first_sent.get_or_insert(start);
        let mut builder = inner
            .http
            .request(request.method.clone(), request.url.clone())
            .header(header::ACCEPT, "application/json")
            // Includes reading the body: a trickling answer times out too.
            .timeout(inner.cfg.request_timeout.min(left));
        if request.to_endpoint {
            if let Some(authorization) = &inner.authorization {
                builder = builder.header(header::AUTHORIZATION, authorization.clone());
            }
        }
        let sent = match &request.body {
            Some((body, content_type)) => {
                builder = builder
                    .header(header::CONTENT_TYPE, *content_type)
                    .body(body.clone());
                body.len()
            }
            None => 0,
        };
        inner.counters.sent(sent);
        let response = match builder.send().await {
            Ok(response) => response,
            Err(error) => {
                inner.counters.no_answer();
                self.silent(request, start);
                return Err(self.send_failure(&error, &request.url));
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(body) => body.to_vec(),
            Err(error) => {
                inner.counters.no_answer();
                self.silent(request, start);
                return Err(self.send_failure(&error, &request.url));
            }
        };
        if request.to_endpoint {
            *lock(&inner.silent_since) = None;
        }
        inner.counters.answered(status.as_u16(), body.len());
        let answer = Answer {
            status,
            headers,
            body,
        };
        self.check_status(request, answer, sent, attempt)
    }

    /// Records an attempt started at `start` that got no complete answer (from the endpoint
    /// itself: an asset host elsewhere says nothing about it).
    fn silent(&self, request: &Request, start: Instant) {
        if !request.to_endpoint {
            return;
        }
        let mut since = lock(&self.inner.silent_since);
        if since.is_none_or(|t| start < t) {
            *since = Some(start);
        }
    }

    /// The statuses that mean the same for every kind of request.
    fn check_status(
        &self,
        request: &Request,
        answer: Answer,
        sent: usize,
        attempt: u32,
    ) -> Result<Answer, Failure> {
        let endpoint = self.name().to_owned();
        match answer.status.as_u16() {
            429 => {
                let cfg = &self.inner.cfg;
                let wait = answer
                    .headers
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v, SystemTime::now()))
                    .unwrap_or_else(|| backoff(attempt - 1, cfg.backoff_base, cfg.backoff_max));
                if request.to_endpoint && self.inner.limiter.throttled(wait) {
                    self.inner.counters.throttle_episode();
                }
                Err(Failure::Transient {
                    error: ClientError::RateLimited {
                        endpoint,
                        attempts: attempt,
                    },
                    reached_server: false,
                    wait: Some(wait),
                    connect: false,
                })
            }
            413 => Err(Failure::Fatal(ClientError::TooLarge {
                endpoint,
                bytes: sent,
            })),
            401 | 403 if request.to_endpoint => Err(Failure::Fatal(ClientError::Unauthorized {
                endpoint,
                status: answer.status.as_u16(),
            })),
            404 if request.to_endpoint => Err(Failure::Fatal(ClientError::UnknownEndpoint {
                endpoint,
                url: without_query(&request.url),
            })),
            408 | 500..=599 => Err(Failure::transient(
                ClientError::Server {
                    endpoint,
                    status: answer.status.as_u16(),
                    excerpt: excerpt(&answer.body),
                    attempts: attempt,
                },
                true,
            )),
            _ => Ok(answer),
        }
    }

    fn decode_graphql<D: DeserializeOwned>(&self, answer: &Answer) -> Result<Response<D>, Failure> {
        let status = answer.status.as_u16();
        // Validation errors come as 400 (sometimes 422) with a regular GraphQL body.
        if !(answer.status.is_success() || status == 400 || status == 422) {
            return Err(Failure::Fatal(self.unexpected_status(answer)));
        }
        match Response::parse(&answer.body) {
            Ok(response) => Ok(response),
            Err(detail) if answer.status.is_success() => {
                Err(Failure::transient(self.invalid_response(detail), true))
            }
            Err(_) => Err(Failure::Fatal(self.unexpected_status(answer))),
        }
    }

    fn invalid_response(&self, detail: String) -> ClientError {
        ClientError::InvalidResponse {
            endpoint: self.name().to_owned(),
            detail,
            attempts: 1,
        }
    }

    fn unexpected_status(&self, answer: &Answer) -> ClientError {
        ClientError::HttpStatus {
            endpoint: self.name().to_owned(),
            status: answer.status.as_u16(),
            excerpt: excerpt(&answer.body),
        }
    }

    /// Classifies a request that got no complete HTTP answer.
    fn send_failure(&self, error: &reqwest::Error, url: &url::Url) -> Failure {
        let endpoint = self.name().to_owned();
        let address = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        );
        let detail = cause_chain(error);
        let lower = detail.to_ascii_lowercase();
        if error.is_timeout() {
            let phase = if error.is_connect() {
                TimeoutPhase::Connect
            } else {
                TimeoutPhase::Response
            };
            let error = ClientError::Timeout {
                endpoint,
                phase,
                attempts: 1,
            };
            return Failure::transient(error, phase == TimeoutPhase::Response);
        }
        if has_io_error(error, std::io::ErrorKind::ConnectionRefused) {
            return Failure::connect(ClientError::ConnectionRefused {
                endpoint,
                address,
                attempts: 1,
            });
        }
        if error.is_connect() {
            if lower.contains("dns error") || lower.contains("failed to lookup address") {
                return Failure::connect(ClientError::Dns {
                    endpoint,
                    host: url.host_str().unwrap_or_default().to_owned(),
                    detail,
                    attempts: 1,
                });
            }
            if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
            {
                return Failure::Fatal(ClientError::Tls {
                    endpoint,
                    host: url.host_str().unwrap_or_default().to_owned(),
                    detail,
                });
            }
            return Failure::connect(ClientError::Connect {
                endpoint,
                address,
                detail,
                attempts: 1,
            });
        }
        Failure::transient(
            ClientError::ConnectionLost {
                endpoint,
                detail,
                attempts: 1,
            },
            true,
        )
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.cfg)
            .field("current_rate", &self.current_rate())
            .finish_non_exhaustive()
    }
}

/// A poisoned lock only means another request panicked; the `Option` inside is still valid.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The causes under reqwest's own "error sending request for url (…)", innermost last.
fn cause_chain(error: &reqwest::Error) -> String {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !causes.contains(&text) {
            causes.push(text);
        }
        source = cause.source();
    }
    if causes.is_empty() {
        error.to_string()
    } else {
        causes.join(": ")
    }
}

fn has_io_error(error: &reqwest::Error, kind: std::io::ErrorKind) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == kind)
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// A URL for messages: query strings may carry secrets, so they are left out.
fn without_query(url: &url::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    let _ = url.set_password(None);
    url.to_string()
}
