//! The Hygraph Content API client: one [`Client`] per endpoint doing GraphQL over HTTP with
//! auth, timeouts, a shared rate limiter, retries and error mapping. Query and mutation
//! builders generated from the content model sit on top of it.

mod endpoint;
mod error;
mod limiter;
mod response;
pub mod retry;
mod stats;
mod transport;

pub use crate::model::introspection::INTROSPECTION_QUERY;
pub use endpoint::{EndpointConfig, GIVE_UP_SECS};
pub use error::{ClientError, TimeoutPhase};
pub use response::{GraphqlError, Response};
pub use stats::RequestStats;
pub use transport::{Client, Idempotency};
