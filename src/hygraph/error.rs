//! Errors from talking to one Hygraph endpoint: each variant names the endpoint (never the token),
//! the failing thing, and what to check.

/// A request to a Content API endpoint that did not produce a usable answer.
///
/// `endpoint` is the configured endpoint name (`source`, `destination`), so a message always says
/// which side failed. `attempts` counts requests actually sent for the failing call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("endpoint `{endpoint}`: invalid client settings: {detail}")]
    InvalidConfig { endpoint: String, detail: String },

    #[error("endpoint `{endpoint}`: `{url}` is not a usable URL ({detail})")]
    InvalidUrl {
        endpoint: String,
        url: String,
        detail: String,
    },

    #[error(
        "endpoint `{endpoint}`: cannot resolve host `{host}` ({detail}) after {attempts} attempt(s); \
         check the host name in the endpoint URL and the machine's DNS"
    )]
    Dns {
        endpoint: String,
        host: String,
        detail: String,
        attempts: u32,
    },

    #[error(
        "endpoint `{endpoint}`: TLS handshake with `{host}` failed ({detail}); check the URL \
         scheme and that the server's certificate is valid for this host"
    )]
    Tls {
        endpoint: String,
        host: String,
        detail: String,
    },

    #[error(
        "endpoint `{endpoint}`: connection to {address} refused after {attempts} attempt(s); \
         check the host and port in the endpoint URL and that the server is running"
    )]
    ConnectionRefused {
        endpoint: String,
        address: String,
        attempts: u32,
    },

    #[error(
        "endpoint `{endpoint}`: cannot connect to {address} ({detail}) after {attempts} \
         attempt(s); check the network path to the endpoint"
    )]
    Connect {
        endpoint: String,
        address: String,
        detail: String,
        attempts: u32,
    },

    #[error(
        "endpoint `{endpoint}`: timed out {phase} after {attempts} attempt(s); the server is \
         slow or unreachable — retry later or raise this endpoint's timeouts"
    )]
    Timeout {
        endpoint: String,
        phase: TimeoutPhase,
        attempts: u32,
    },

    #[error(
        "endpoint `{endpoint}` ({url}): no usable answer within {secs} s ({attempts} \
         attempt(s); last: {last}); the endpoint is down, unreachable or too slow — check the \
         URL and the service, or raise `give_up_secs` for this endpoint"
    )]
    GaveUp {
        endpoint: String,
        url: String,
        secs: u64,
        attempts: u32,
        /// What the last attempt met.
        last: String,
    },

    #[error(
        "endpoint `{endpoint}`: connection lost before the answer arrived ({detail}) after \
         {attempts} attempt(s); retry later"
    )]
    ConnectionLost {
        endpoint: String,
        detail: String,
        attempts: u32,
    },

    #[error(
        "endpoint `{endpoint}`: server error HTTP {status} after {attempts} attempt(s): \
         {excerpt}; Hygraph is having trouble — retry later"
    )]
    Server {
        endpoint: String,
        status: u16,
        excerpt: String,
        attempts: u32,
    },

    #[error(
        "endpoint `{endpoint}`: still rate limited (HTTP 429) after {attempts} attempt(s); \
         lower `requests_per_second` for this endpoint to your plan's limit"
    )]
    RateLimited { endpoint: String, attempts: u32 },

    #[error(
        "endpoint `{endpoint}`: request of {bytes} bytes is too large (HTTP 413); send smaller \
         batches"
    )]
    TooLarge { endpoint: String, bytes: usize },

    #[error("endpoint `{endpoint}`: query too complex ({message}); send smaller batches")]
    TooComplex { endpoint: String, message: String },

    #[error(
        "endpoint `{endpoint}`: unauthorized (HTTP {status}); check that the token configured \
         for `{endpoint}` is valid and has access to this environment"
    )]
    Unauthorized { endpoint: String, status: u16 },

    #[error(
        "endpoint `{endpoint}`: {url} not found (HTTP 404); check the endpoint URL \
         (project region, id and environment)"
    )]
    UnknownEndpoint { endpoint: String, url: String },

    #[error("endpoint `{endpoint}`: unexpected HTTP {status}: {excerpt}")]
    HttpStatus {
        endpoint: String,
        status: u16,
        excerpt: String,
    },

    #[error(
        "endpoint `{endpoint}`: the answer is not a GraphQL response ({detail}) after \
         {attempts} attempt(s); check that the URL points at a Hygraph Content API endpoint"
    )]
    InvalidResponse {
        endpoint: String,
        detail: String,
        attempts: u32,
    },

    #[error(
        "endpoint `{endpoint}`: introspection failed: {message}; check that the token may read \
         the schema of this environment"
    )]
    Introspection { endpoint: String, message: String },
}

/// Which timeout expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Establishing the TCP (and TLS) connection: the request never reached the server.
    Connect,
    /// Waiting for or reading the answer (`read_timeout` or `request_timeout`).
    Response,
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connecting",
            TimeoutPhase::Response => "waiting for the answer",
        })
    }
}

impl ClientError {
    /// Whether the same request may succeed if sent again later (network, server, rate limit),
    /// as opposed to a problem the user or the caller must fix first.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ClientError::Dns { .. }
                | ClientError::ConnectionRefused { .. }
                | ClientError::Connect { .. }
                | ClientError::Timeout { .. }
                | ClientError::GaveUp { .. }
                | ClientError::ConnectionLost { .. }
                | ClientError::Server { .. }
                | ClientError::RateLimited { .. }
                | ClientError::InvalidResponse { .. }
        )
    }

    /// Whether a write that failed this way may nonetheless have been applied by the server
    /// (the request reached it but the answer was lost), so the caller must re-read before
    /// assuming either outcome.
    pub fn write_may_have_applied(&self) -> bool {
        matches!(
            self,
            ClientError::Timeout {
                phase: TimeoutPhase::Response,
                ..
            } | ClientError::GaveUp { .. }
                | ClientError::ConnectionLost { .. }
                | ClientError::Server { .. }
                | ClientError::InvalidResponse { .. }
                | ClientError::HttpStatus { .. }
        )
    }

    /// One sentence telling the user what to do about this error.
    pub fn hint(&self) -> &'static str {
        match self {
            ClientError::InvalidConfig { .. } => {
                "fix the endpoint settings in the config file (rates, limits and timeouts must be positive)"
            }
            ClientError::InvalidUrl { .. } => "check the URL: it must be absolute http(s)",
            ClientError::Dns { .. } => {
                "check the host name in the endpoint URL and that this machine can resolve it"
            }
            ClientError::Tls { .. } => {
                "check that the URL uses https with the right host, and the system clock and CA certificates"
            }
            ClientError::ConnectionRefused { .. } | ClientError::Connect { .. } => {
                "check the host and port in the endpoint URL, firewalls and proxies"
            }
            ClientError::Timeout { .. } => {
                "the server answered too slowly; retry later, or raise the timeouts for this endpoint"
            }
            ClientError::GaveUp { .. } => {
                "check that the endpoint URL is right and the service is up; retry later"
            }
            ClientError::ConnectionLost { .. } | ClientError::Server { .. } => {
                "a transient failure on the server or network; the next run will retry"
            }
            ClientError::RateLimited { .. } => {
                "lower requests_per_second for this endpoint to your Hygraph plan's limit"
            }
            ClientError::TooLarge { .. } | ClientError::TooComplex { .. } => {
                "lower the batch size for this endpoint"
            }
            ClientError::Unauthorized { .. } => {
                "check that the token is valid and its permissions cover this environment and stage"
            }
            ClientError::UnknownEndpoint { .. } => {
                "check the endpoint URL: region, project id and environment name"
            }
            ClientError::HttpStatus { .. } | ClientError::InvalidResponse { .. } => {
                "check that the URL is a Hygraph Content API endpoint (it ends in /master or your environment name)"
            }
            ClientError::Introspection { .. } => {
                "check that the token may read the schema (introspection) of this environment"
            }
        }
    }

    /// The endpoint name this error is about.
    pub fn endpoint(&self) -> &str {
        match self {
            ClientError::InvalidConfig { endpoint, .. }
            | ClientError::InvalidUrl { endpoint, .. }
            | ClientError::Dns { endpoint, .. }
            | ClientError::Tls { endpoint, .. }
            | ClientError::ConnectionRefused { endpoint, .. }
            | ClientError::Connect { endpoint, .. }
            | ClientError::Timeout { endpoint, .. }
            | ClientError::GaveUp { endpoint, .. }
            | ClientError::ConnectionLost { endpoint, .. }
            | ClientError::Server { endpoint, .. }
            | ClientError::RateLimited { endpoint, .. }
            | ClientError::TooLarge { endpoint, .. }
            | ClientError::TooComplex { endpoint, .. }
            | ClientError::Unauthorized { endpoint, .. }
            | ClientError::UnknownEndpoint { endpoint, .. }
            | ClientError::HttpStatus { endpoint, .. }
            | ClientError::InvalidResponse { endpoint, .. }
            | ClientError::Introspection { endpoint, .. } => endpoint,
        }
    }

    /// Records how many requests were sent before giving up.
    pub(crate) fn with_attempts(mut self, n: u32) -> Self {
        match &mut self {
            ClientError::Dns { attempts, .. }
            | ClientError::ConnectionRefused { attempts, .. }
            | ClientError::Connect { attempts, .. }
            | ClientError::Timeout { attempts, .. }
            | ClientError::GaveUp { attempts, .. }
            | ClientError::ConnectionLost { attempts, .. }
            | ClientError::Server { attempts, .. }
            | ClientError::RateLimited { attempts, .. }
            | ClientError::InvalidResponse { attempts, .. } => *attempts = n,
            _ => {}
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_errors_are_told_apart_from_ones_to_fix() {
        let e = ClientError::Server {
            endpoint: "source".into(),
            status: 503,
            excerpt: String::new(),
            attempts: 1,
        };
        assert!(e.is_transient());
        assert!(e.write_may_have_applied());
        let e = ClientError::Unauthorized {
            endpoint: "destination".into(),
            status: 401,
        };
        assert!(!e.is_transient());
        assert!(e.to_string().contains("destination"));
        assert!(e.hint().contains("token"));
    }

    #[test]
    fn attempts_are_recorded_on_transient_errors() {
        let e = ClientError::RateLimited {
            endpoint: "source".into(),
            attempts: 1,
        }
        .with_attempts(9);
        assert!(e.to_string().contains("after 9 attempt(s)"), "{e}");
    }
}
