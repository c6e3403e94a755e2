//! An in-memory Hygraph Content API emulator for tests, benchmarks and the demo.
//!
//! Started from a real Hygraph schema ([`EmulatorOptions::from_schema`]: SDL or introspection
//! JSON) it serves that schema itself; started from a hand-written content model, the schema
//! Hygraph would generate for it ([`generate_sdl`]). Either way it serves over real HTTP on
//! 127.0.0.1, validates every operation against it, and executes it against an
//! in-memory store with Hygraph's semantics: stages and publishing, localizations, relations seen
//! from both sides with positions, unions, unique and required fields, assets, page-size caps,
//! bearer-token auth, request-rate and concurrency limits, body-size limits, and seeded,
//! reproducible faults. It is a peer that rejects what Hygraph would reject, not a mock.
//!
//! Endpoints: GraphQL `POST <path>` (default `/`; any `/v2/<project>/<environment>` too),
//! legacy upload `POST <path>/upload` (`url=` form field), `GET /schema.graphql`,
//! `GET /__emulator/stats`, `GET /__emulator/dump`, `POST /__emulator/reset` (`?content=1` also
//! empties the content), and asset files at `GET /__emulator/assets/<handle>`.

mod components;
mod context;
mod dump;
mod executor;
mod faults;
mod filter;
mod introspection_sdl;
mod scalars;
mod schema_gen;
mod server;
mod stats;
mod store;
mod views;

pub use faults::{FaultKind, FaultSpec};
pub use introspection_sdl::introspection_to_sdl;
pub use schema_gen::{
    generate_schema, generate_sdl, generate_sdl_with, SchemaGenError, SdlOptions,
};
pub use stats::Stats;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::model::ContentModel;

/// A requests-per-second limit, as Hygraph's plans have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    /// Send `Retry-After: 1` with 429 answers (Hygraph does not always).
    pub retry_after_header: bool,
}

/// How to run an emulator. [`EmulatorOptions::new`] gives Hygraph-like defaults.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    pub model: ContentModel,
    /// Required bearer token (`None`: no auth).
    pub token: Option<String>,
    /// A token that may query but not mutate.
    pub read_only_token: Option<String>,
    pub rate_limit: Option<RateLimit>,
    /// Concurrent operations beyond this answer 429.
    pub max_concurrent: Option<usize>,
    /// Request bodies above this answer 413 (Hygraph's smallest mutation limit is ~30 KB).
    pub max_body_bytes: Option<usize>,
    /// Largest `first`/`last` (Hygraph: 100).
    pub page_cap: usize,
    pub faults: Option<FaultSpec>,
    /// Content to load at start, in the dump form.
    pub seed: Option<serde_json::Value>,
    /// GraphQL path, default `/`.
    pub path: String,
    /// Where to listen; must be a loopback address. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Serve this SDL instead of the one generated from the model (it must describe the same
    /// content model, e.g. the real schema the model was derived from). A root type without
    /// fields (the empty `type Mutation` of a read-only export) is left out: nothing is served
    /// for it. [`EmulatorOptions::from_schema`] sets both from a real schema.
    pub schema_sdl: Option<String>,
    /// Keep every distinct GraphQL document received, valid or not ([`Emulator::documents`]):
    /// tests check what a client sent against a schema of their own.
    pub record_documents: bool,
}

impl EmulatorOptions {
    pub fn new(model: ContentModel) -> Self {
        EmulatorOptions {
            model,
            token: None,
            read_only_token: None,
            rate_limit: None,
            max_concurrent: None,
            max_body_bytes: Some(DEFAULT_MAX_BODY_BYTES),
            page_cap: 100,
            faults: None,
            seed: None,
            path: "/".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            schema_sdl: None,
            record_documents: false,
        }
    }

    /// Options for an emulator of a real Hygraph schema: `text` is SDL, or the JSON answer of
    /// the introspection query (with or without `{"data": ...}`), as exported from a project.
    /// The emulator serves that schema itself (introspection JSON converted to SDL faithfully)
    /// and implements Hygraph's semantics over the content model derived from it; whatever it
    /// does not implement answers an error naming the field. `origin` names the file in errors.
    pub fn from_schema(text: &str, origin: &str) -> Result<EmulatorOptions, EmulatorError> {
        let invalid = |reason: String| EmulatorError::RealSchema {
            origin: origin.to_owned(),
            reason,
        };
        let (model, sdl) = if text.trim_start().starts_with('{') {
            let json: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| invalid(format!("it starts like JSON but is not JSON ({e})")))?;
            let sdl = introspection_to_sdl(&json).map_err(invalid)?;
            let model = crate::model::from_introspection(&json, origin)
                .map_err(|e| invalid(e.to_string()))?;
            (model, sdl)
        } else {
            let model = crate::model::from_sdl(text, origin).map_err(|e| invalid(e.to_string()))?;
            (model, text.to_owned())
        };
        let mut options = EmulatorOptions::new(model);
        options.schema_sdl = Some(sdl);
        Ok(options)
    }
}

/// Default request body limit: Hygraph's smallest per-request mutation limit (30–80 KB by plan),
/// so a client that batches within it is safe on every plan.
pub const DEFAULT_MAX_BODY_BYTES: usize = 30 * 1024;

/// Why an emulator could not start or load content.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("the emulator's schema is invalid: {0}; check the content model (names must be GraphQL names)")]
    Schema(String),
    #[error("the schema given to the emulator is not valid GraphQL: {0}; export it again from the project (SDL, or the JSON answer of the introspection query)")]
    GivenSchema(String),
    #[error("cannot serve the schema {origin}: {reason}; pass a Hygraph schema exported as SDL or as the JSON answer of the introspection query")]
    RealSchema { origin: String, reason: String },
    #[error("the emulator may only listen on a loopback address, not {0}; use 127.0.0.1:<port>")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}; pick another port (or 0 for any)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid emulator path `{0}`: it must start with `/`")]
    Path(String),
    #[error("invalid seed/dump content: {0}; it must be in the `/__emulator/dump` form")]
    Seed(String),
    #[error("invalid fault spec `{spec}`: {reason}; expected e.g. `rate=0.2,seed=7,kinds=500+502+503+delay+drop-before+drop-after,delay-ms=50`")]
    Faults { spec: String, reason: String },
    #[error("cannot build the emulator's HTTP client for uploadUrl fetches: {0}")]
    HttpClient(String),
}

/// A running emulator. It stops serving when dropped.
pub struct Emulator {
    shared: Arc<server::Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Emulator {
    /// Starts serving on `opts.listen` (default 127.0.0.1, any port). Needs a tokio runtime.
    pub async fn start(opts: EmulatorOptions) -> Result<Emulator, EmulatorError> {
        let (shared, addr, shutdown) = server::start(opts).await?;
        Ok(Emulator {
            shared,
            addr,
            shutdown: Some(shutdown),
        })
    }

    /// The GraphQL endpoint URL.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.shared.path)
    }

    /// `http://127.0.0.1:PORT`, without the GraphQL path.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The SDL being served (also at `GET /schema.graphql`).
    pub fn sdl(&self) -> &str {
        &self.shared.sdl
    }

    /// Same as `GET /__emulator/stats`.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Resets the counters (and the recorded documents).
    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// The distinct GraphQL documents received, sorted; empty unless
    /// [`EmulatorOptions::record_documents`] is set.
    pub fn documents(&self) -> Vec<String> {
        self.shared.documents()
    }

    /// Same as `GET /__emulator/dump`.
    pub fn dump(&self) -> serde_json::Value {
        self.shared.dump()
    }

    /// Replaces the whole content with `dump` (the `/__emulator/dump` form).
    pub fn load(&self, dump: &serde_json::Value) -> Result<(), EmulatorError> {
        self.shared.load(dump)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
