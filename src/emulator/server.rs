//! The emulator's HTTP side: routes, bearer auth, body/rate/concurrency limits, fault injection,
//! GraphQL parsing/validation/execution, asset uploads and files, stats, dump and reset.
//!
//! Order of checks on a GraphQL request: auth (401) → body size (413) → rate limit (429) →
//! concurrency cap (429) → injected fault → parse and validate (400) → read-only token on a
//! mutation (403) → execute (200, with `errors` for field errors).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use apollo_compiler::executable::OperationType;
use apollo_compiler::resolvers::Execution;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use crate::model::{AssetSystem, ContentModel};

use super::executor::{root_fields, Ctx, Op, Root};
use super::faults::{FaultKind, FaultSpec};
use super::stats::Stats;
use super::store::{AssetFile, Entry, Store, Version};
use super::{dump, EmulatorError, EmulatorOptions};

type Limiter = governor::DefaultDirectRateLimiter;

pub(crate) struct Shared {
    cm: ContentModel,
    schema: Valid<Schema>,
    pub sdl: String,
    roots: HashMap<String, (Op, usize)>,
    store: Mutex<Store>,
    stats: Mutex<Stats>,
    pub path: String,
    token: Option<String>,
    read_only_token: Option<String>,
    max_body: usize,
    page_cap: usize,
    limiter: Option<Limiter>,
    retry_after: bool,
    in_flight: AtomicUsize,
    max_concurrent: Option<usize>,
    faults: Option<FaultSpec>,
    seen: Mutex<HashMap<blake3::Hash, u64>>,
    asset_base: String,
    http: reqwest::Client,
    /// With `EmulatorOptions::record_documents`: every distinct GraphQL document received.
    documents: Option<Mutex<std::collections::BTreeSet<String>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves consistent data (writes are transactional).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) async fn start(
    opts: EmulatorOptions,
) -> Result<(Arc<Shared>, SocketAddr, tokio::sync::oneshot::Sender<()>), EmulatorError> {
    if !opts.listen.ip().is_loopback() {
        return Err(EmulatorError::NotLoopback(opts.listen));
    }
    if !opts.path.starts_with('/') {
        return Err(EmulatorError::Path(opts.path));
    }
    let sdl = match &opts.schema_sdl {
        Some(sdl) => without_empty_roots(sdl),
        None => super::generate_sdl(&opts.model),
    };
    let schema = Schema::parse_and_validate(sdl.clone(), "schema.graphql").map_err(|e| {
        let errors = e.errors.to_string();
        match opts.schema_sdl {
            Some(_) => EmulatorError::GivenSchema(errors),
            None => EmulatorError::Schema(errors),
        }
    })?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|source| EmulatorError::Bind {
            addr: opts.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            addr: opts.listen,
            source,
        })?;
    let unique_fields = opts
        .model
        .models
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                m.unique_fields()
                    .map(|f| (f.name.clone(), f.localized))
                    .collect(),
            )
        })
        .collect();
    let mut store = Store::new(unique_fields, &opts.model.default_locale);
    store.deterministic_ids = opts.faults.is_some();
    if let Some(seed) = &opts.seed {
        dump::load(&opts.model, &mut store, seed).map_err(EmulatorError::Seed)?;
    }
    let limiter = opts.rate_limit.map(|r| {
        Limiter::direct(governor::Quota::per_second(
            NonZeroU32::new(r.per_second).unwrap_or(NonZeroU32::MIN),
        ))
    });
    let path = if opts.path.len() > 1 {
        opts.path.trim_end_matches('/').to_string()
    } else {
        opts.path.clone()
    };
    let shared = Arc::new(Shared {
        roots: root_fields(&opts.model),
        cm: opts.model,
        schema,
        sdl,
        store: Mutex::new(store),
        stats: Mutex::new(Stats::default()),
        path,
        token: opts.token,
        read_only_token: opts.read_only_token,
        max_body: opts.max_body_bytes.unwrap_or(usize::MAX),
        page_cap: opts.page_cap,
        limiter,
        retry_after: opts.rate_limit.is_some_and(|r| r.retry_after_header),
        in_flight: AtomicUsize::new(0),
        max_concurrent: opts.max_concurrent,
        faults: opts.faults,
        seen: Mutex::new(HashMap::new()),
        asset_base: format!("http://{addr}/__emulator/assets/"),
        http: upload_client()?,
        documents: opts
            .record_documents
            .then(|| Mutex::new(Default::default())),
    });
    let app = Router::new().fallback(route).with_state(shared.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    Ok((shared, addr, tx))
}

/// `sdl` without root operation types that have no fields (`type Mutation` exported with a
/// read-only token): GraphQL forbids an empty type, and such a schema serves no mutations. Any
/// other SDL is served as given, byte for byte.
fn without_empty_roots(sdl: &str) -> String {
    use apollo_compiler::ast::{Definition, Document};
    let Ok(mut doc) = Document::parse(sdl, "schema.graphql") else {
        // Syntax errors are reported by the validation that follows, on the text as given.
        return sdl.to_owned();
    };
    let explicit: Vec<(OperationType, String)> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::SchemaDefinition(s) => Some(s),
            _ => None,
        })
        .flat_map(|s| s.root_operations.iter())
        .map(|op| (op.0, op.1.to_string()))
        .collect();
    let root_name = |op: OperationType| {
        explicit
            .iter()
            .find(|(o, _)| *o == op)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| op.default_type_name().to_string())
    };
    let candidates = [
        root_name(OperationType::Mutation),
        root_name(OperationType::Subscription),
    ];
    let extended: Vec<String> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::ObjectTypeExtension(e) if !e.fields.is_empty() => Some(e.name.to_string()),
            _ => None,
        })
        .collect();
    let empty: Vec<String> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::ObjectTypeDefinition(o)
                if o.fields.is_empty()
                    && candidates.iter().any(|c| o.name == c.as_str())
                    && !extended.iter().any(|e| o.name == e.as_str()) =>
            {
                Some(o.name.to_string())
            }
            _ => None,
        })
        .collect();
    if empty.is_empty() {
        return sdl.to_owned();
    }
    doc.definitions.retain(|d| match d {
        Definition::ObjectTypeDefinition(o) => !empty.iter().any(|e| o.name == e.as_str()),
        _ => true,
    });
    for d in &mut doc.definitions {
        if let Definition::SchemaDefinition(s) = d {
            s.make_mut()
                .root_operations
                .retain(|op| !empty.iter().any(|e| op.1 == e.as_str()));
        }
    }
    doc.to_string()
}

impl Shared {
    pub fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    pub fn reset_stats(&self) {
        *lock(&self.stats) = Stats::default();
        lock(&self.seen).clear();
        if let Some(documents) = &self.documents {
            lock(documents).clear();
        }
    }

    /// The distinct documents received so far (empty unless recording).
    pub fn documents(&self) -> Vec<String> {
        self.documents
            .as_ref()
            .map(|d| lock(d).iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn dump(&self) -> Value {
        dump::dump(&self.cm, &lock(&self.store))
    }

    pub fn load(&self, value: &Value) -> Result<(), EmulatorError> {
        dump::load(&self.cm, &mut lock(&self.store), value).map_err(EmulatorError::Seed)
    }

    fn is_graphql_path(&self, path: &str) -> bool {
        let path = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        path == self.path || (path.starts_with("/v2/") && path.matches('/').count() == 3)
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn error_body(message: &str, code: &str) -> Value {
    json!({"errors": [{"message": message, "extensions": {"code": code}}]})
}

/// A response whose body fails mid-way: the client sees a broken connection.
fn dropped_response() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other(
            "connection dropped by fault injection",
        ))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_LENGTH,
        header::HeaderValue::from_static("1024"),
    );
    response
}

async fn route(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    match (method, path.as_str()) {
        (Method::GET, "/schema.graphql") => (
            [(header::CONTENT_TYPE, "application/graphql; charset=utf-8")],
            shared.sdl.clone(),
        )
            .into_response(),
        (Method::GET, "/__emulator/stats") => json_response(
            StatusCode::OK,
            serde_json::to_value(shared.stats()).unwrap_or_default(),
        ),
        (Method::GET, "/__emulator/dump") => json_response(StatusCode::OK, shared.dump()),
        (Method::POST, "/__emulator/reset") => {
            shared.reset_stats();
            if query
                .split('&')
                .any(|p| p == "content=1" || p == "content=true")
            {
                lock(&shared.store).clear();
            }
            json_response(StatusCode::OK, json!({"reset": true}))
        }
        (Method::GET, p) if p.starts_with("/__emulator/assets/") => {
            let handle = &p["/__emulator/assets/".len()..];
            let file = lock(&shared.store).files.get(handle).cloned();
            match file {
                Some(f) => ([(header::CONTENT_TYPE, f.mime_type)], f.bytes).into_response(),
                None => json_response(
                    StatusCode::NOT_FOUND,
                    error_body(&format!("no file for asset handle `{handle}`"), "NOT_FOUND"),
                ),
            }
        }
        (Method::POST, p) if shared.is_graphql_path(p) => {
            guarded(
                shared,
                req.headers().clone(),
                req.into_body(),
                Endpoint::GraphQl,
            )
            .await
        }
        (Method::POST, p)
            if p.strip_suffix("/upload").is_some_and(|base| {
                shared.is_graphql_path(if base.is_empty() { "/" } else { base })
            }) =>
        {
            guarded(
                shared,
                req.headers().clone(),
                req.into_body(),
                Endpoint::Upload,
            )
            .await
        }
        (_, p) => json_response(
            StatusCode::NOT_FOUND,
            error_body(
                &format!(
                    "nothing here at {p}: GraphQL is served with POST at {}",
                    shared.path
                ),
                "NOT_FOUND",
            ),
        ),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    GraphQl,
    Upload,
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn guarded(
    shared: Arc<Shared>,
    headers: HeaderMap,
    body: Body,
    endpoint: Endpoint,
) -> Response {
    lock(&shared.stats).requests += 1;
    let reject = |status: StatusCode, message: &str, code: &str| {
        lock(&shared.stats).rejected += 1;
        json_response(status, error_body(message, code))
    };
    // Auth.
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let read_only = match (&shared.token, &shared.read_only_token, bearer) {
        (_, Some(ro), Some(b)) if b == ro => true,
        (Some(t), _, Some(b)) if b == t => false,
        (None, _, _) => false,
        (Some(_), _, None) => {
            return reject(
                StatusCode::UNAUTHORIZED,
                "missing `Authorization: Bearer <token>` header: this endpoint needs a permanent auth token",
                "UNAUTHORIZED",
            )
        }
        (Some(_), _, Some(_)) => {
            return reject(
                StatusCode::UNAUTHORIZED,
                "the bearer token is not valid for this environment: check the token",
                "UNAUTHORIZED",
            )
        }
    };
    // Body size.
    let bytes = match axum::body::to_bytes(body, shared.max_body).await {
        Ok(b) => b,
        Err(_) => {
            return reject(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "request body is larger than the limit of {} bytes: send smaller batches",
                    shared.max_body
                ),
                "PAYLOAD_TOO_LARGE",
            )
        }
    };
    lock(&shared.stats).bytes_in += bytes.len() as u64;
    // Limits.
    let too_many = |message: &str| {
        lock(&shared.stats).rate_limited += 1;
        let mut response = json_response(
            StatusCode::TOO_MANY_REQUESTS,
            error_body(message, "TOO_MANY_REQUESTS"),
        );
        if shared.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    };
    if let Some(limiter) = &shared.limiter {
        if limiter.check().is_err() {
            return too_many(
                "too many requests: the rate limit of this plan was exceeded, retry later",
            );
        }
    }
    let previous = shared.in_flight.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight(&shared.in_flight);
    if shared.max_concurrent.is_some_and(|max| previous >= max) {
        return too_many("too many concurrent operations: wait for running requests to finish");
    }
    // Faults.
    let mut fault = None;
    let injected = || lock(&shared.stats).faults.values().sum::<u64>();
    if let Some(spec) = shared
        .faults
        .as_ref()
        .filter(|spec| spec.applies_to(&bytes, injected()))
    {
        let hash = blake3::hash(&bytes);
        let seen = {
            let mut seen = lock(&shared.seen);
            let n = seen.entry(hash).or_insert(0);
            *n += 1;
            *n - 1
        };
        fault = spec.decide(&hash, seen);
        if let Some(kind) = fault {
            *lock(&shared.stats)
                .faults
                .entry(kind.to_string())
                .or_default() += 1;
        }
        match fault {
            Some(FaultKind::Status(code)) => {
                let status =
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return json_response(
                    status,
                    error_body("injected server error", &code.to_string()),
                );
            }
            Some(FaultKind::Delay) => {
                tokio::time::sleep(Duration::from_millis(spec.delay_ms)).await
            }
            Some(FaultKind::DropBefore) => return dropped_response(),
            _ => {}
        }
    }
    let response = match endpoint {
        Endpoint::GraphQl => graphql(&shared, &bytes, read_only),
        Endpoint::Upload => upload(&shared, &bytes, read_only).await,
    };
    if fault == Some(FaultKind::DropAfter) {
        return dropped_response();
    }
    response
}

fn graphql(shared: &Arc<Shared>, bytes: &[u8], read_only: bool) -> Response {
    let (status, body, uploads) = execute(shared, bytes, read_only);
    if status != StatusCode::OK {
        lock(&shared.stats).rejected += 1;
    }
    for (id, url) in uploads {
        let shared = shared.clone();
        tokio::spawn(async move { complete_upload(shared, id, url).await });
    }
    let text = body.to_string();
    lock(&shared.stats).bytes_out += text.len() as u64;
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn execute(
    shared: &Shared,
    bytes: &[u8],
    read_only: bool,
) -> (StatusCode, Value, Vec<(String, String)>) {
    let bad = |message: String| {
        (
            StatusCode::BAD_REQUEST,
            error_body(&message, "BAD_REQUEST"),
            Vec::new(),
        )
    };
    let request: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return bad(format!("the request body is not JSON: {e}")),
    };
    let Some(query) = request.get("query").and_then(Value::as_str) else {
        return bad("the request has no `query` string".into());
    };
    if let Some(documents) = &shared.documents {
        lock(documents).insert(query.to_owned());
    }
    let document =
        match ExecutableDocument::parse_and_validate(&shared.schema, query, "request.graphql") {
            Ok(d) => d,
            Err(with_errors) => {
                let errors: Vec<Value> = with_errors
                    .errors
                    .iter()
                    .map(|d| {
                        let mut e = serde_json::to_value(d.to_json()).unwrap_or_default();
                        e["extensions"] = json!({"code": "GRAPHQL_VALIDATION_FAILED"});
                        e
                    })
                    .collect();
                return (
                    StatusCode::BAD_REQUEST,
                    json!({ "errors": errors }),
                    Vec::new(),
                );
            }
        };
    let operation_name = request.get("operationName").and_then(Value::as_str);
    let operation = match document.operations.get(operation_name) {
        Ok(op) => op,
        Err(e) => return bad(e.message().to_string()),
    };
    let is_mutation = operation.operation_type == OperationType::Mutation;
    {
        let mut stats = lock(&shared.stats);
        let largest = if is_mutation {
            &mut stats.largest_mutation
        } else {
            &mut stats.largest_query
        };
        *largest = (*largest).max(bytes.len() as u64);
        if is_mutation {
            stats.largest_mutation_document =
                stats.largest_mutation_document.max(query.len() as u64);
        }
    }
    if is_mutation && read_only {
        return (
            StatusCode::FORBIDDEN,
            error_body(
                "the token is read-only: mutations need a token with write permissions",
                "FORBIDDEN",
            ),
            Vec::new(),
        );
    }
    let variables: apollo_compiler::response::JsonMap = match request.get("variables") {
        Some(v @ Value::Object(_)) => match apollo_compiler::response::JsonValue::from(v.clone()) {
            apollo_compiler::response::JsonValue::Object(m) => m,
            _ => Default::default(),
        },
        _ => Default::default(),
    };
    let root_type = match operation.operation_type {
        OperationType::Mutation => shared.schema.schema_definition.mutation.as_ref(),
        _ => shared.schema.schema_definition.query.as_ref(),
    }
    .map(|n| n.to_string())
    .unwrap_or_default();

    let mut store = lock(&shared.store);
    let ctx = Ctx {
        cm: &shared.cm,
        roots: &shared.roots,
        store: std::cell::RefCell::new(&mut store),
        asset_base: &shared.asset_base,
        page_cap: shared.page_cap,
        codes: Default::default(),
        uploads: Default::default(),
        mutation_fields: Default::default(),
    };
    let root = Root {
        ctx: &ctx,
        type_name: root_type,
    };
    let result = Execution::new(&shared.schema, &document)
        .operation(operation)
        .raw_variable_values(&variables)
        .enable_schema_introspection(true)
        .execute_sync(&root);
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            let mut err =
                serde_json::to_value(e.to_graphql_error(&document.sources)).unwrap_or_default();
            err["extensions"] = json!({"code": "BAD_USER_INPUT"});
            return (
                StatusCode::BAD_REQUEST,
                json!({ "errors": [err] }),
                Vec::new(),
            );
        }
    };
    let codes = ctx.codes.take();
    let uploads = ctx.uploads.take();
    let fields = ctx.mutation_fields.take();
    drop(root);
    drop(ctx);
    drop(store);
    {
        let mut stats = lock(&shared.stats);
        if is_mutation {
            stats.mutations += 1;
            stats.mutation_fields += fields.len() as u64;
            for f in fields {
                *stats.by_field.entry(f).or_default() += 1;
            }
        } else {
            stats.queries += 1;
        }
    }
    let mut body = serde_json::Map::new();
    if !response.errors.is_empty() {
        let errors: Vec<Value> = response
            .errors
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap_or_default();
                // apollo-compiler prefixes resolver errors; Hygraph's messages have no prefix.
                let message = e
                    .message
                    .strip_prefix("resolver error: ")
                    .unwrap_or(&e.message);
                v["message"] = json!(message);
                let code = codes
                    .get(message)
                    .map_or("INTERNAL_SERVER_ERROR", String::as_str);
                v["extensions"] = json!({ "code": code });
                v
            })
            .collect();
        body.insert("errors".into(), Value::Array(errors));
    }
    body.insert(
        "data".into(),
        response
            .data
            .map(|d| serde_json::to_value(d).unwrap_or_default())
            .unwrap_or(Value::Null),
    );
    (StatusCode::OK, Value::Object(body), uploads)
}

/// Fetches an `uploadUrl` and moves the asset to `ASSET_UPLOAD_COMPLETE` or `ASSET_ERROR_UPLOAD`.
async fn complete_upload(shared: Arc<Shared>, id: String, url: String) {
    let fetched = fetch(&shared.http, &url).await;
    let Some(model) = shared.cm.asset_model() else {
        return;
    };
    let mut store = lock(&shared.store);
    let Some(mut entry) = store.entry(&model.name, &id).cloned() else {
        return;
    };
    let draft = shared.cm.draft_stage().to_string();
    let Some(version) = entry.stages.get_mut(&draft) else {
        return;
    };
    match fetched {
        Ok((mime_type, bytes)) => {
            version.fields.insert("mimeType".into(), json!(mime_type));
            version
                .fields
                .insert("size".into(), json!(bytes.len() as f64));
            version.fields.insert(
                "upload".into(),
                json!({"status": "ASSET_UPLOAD_COMPLETE", "error": null, "expiresAt": null, "requestPostData": null}),
            );
            store
                .files
                .insert(id.clone(), AssetFile { mime_type, bytes });
        }
        Err(message) => {
            version.fields.insert(
                "upload".into(),
                json!({"status": "ASSET_ERROR_UPLOAD", "error": {"code": "FETCH_FAILED", "message": message}, "expiresAt": null, "requestPostData": null}),
            );
        }
    }
    store.begin();
    store.put_entry(&model.name, &id, Some(entry));
    store.commit();
}

/// The client that fetches `uploadUrl`s. Without the system's CA certificates (a minimal
/// system) it still serves, fetching http:// URLs only: the tests and the demo need no more.
fn upload_client() -> Result<reqwest::Client, EmulatorError> {
    let builder = || reqwest::Client::builder().timeout(Duration::from_secs(30));
    builder().build().or_else(|e| {
        tracing::warn!(
            "the emulator cannot verify https uploadUrls ({e}: {}); only http:// uploads will work",
            std::error::Error::source(&e).map_or_else(String::new, |c| c.to_string())
        );
        builder()
            .tls_certs_only(Vec::new())
            .build()
            .map_err(|e| EmulatorError::HttpClient(e.to_string()))
    })
}

async fn fetch(http: &reqwest::Client, url: &str) -> Result<(String, Vec<u8>), String> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("cannot fetch {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("fetching {url} answered {}", response.status()));
    }
    let mime = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("cannot read {url}: {e}"))?;
    Ok((mime, bytes.to_vec()))
}

/// Legacy `POST <endpoint>/upload` with a `url=` form field: fetches the file and creates an
/// asset (in DRAFT) whose handle serves it.
async fn upload(shared: &Arc<Shared>, bytes: &[u8], read_only: bool) -> Response {
    let reject = |status: StatusCode, message: String, code: &str| {
        lock(&shared.stats).rejected += 1;
        json_response(status, error_body(&message, code))
    };
    if read_only {
        return reject(
            StatusCode::FORBIDDEN,
            "the token is read-only: uploads need write permissions".into(),
            "FORBIDDEN",
        );
    }
    let Some(model) = shared
        .cm
        .asset_model()
        .filter(|m| m.asset == Some(AssetSystem::Legacy))
    else {
        return reject(
            StatusCode::NOT_FOUND,
            "this project has no legacy asset system: create assets with `createAsset(data: { uploadUrl })`".into(),
            "NOT_FOUND",
        );
    };
    let Some(url) = url::form_urlencoded::parse(bytes)
        .find(|(k, _)| k == "url")
        .map(|(_, v)| v.to_string())
    else {
        return reject(
            StatusCode::BAD_REQUEST,
            "the upload needs a `url` form field".into(),
            "BAD_REQUEST",
        );
    };
    let (mime_type, file) = match fetch(&shared.http, &url).await {
        Ok(f) => f,
        Err(message) => return reject(StatusCode::BAD_REQUEST, message, "BAD_REQUEST"),
    };
    let file_name = url
        .split(['?', '#'])
        .next()
        .and_then(|u| u.rsplit('/').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("file")
        .to_string();
    let mut store = lock(&shared.store);
    let id = store.new_id();
    let handle = format!("h{}", &id[1..]);
    let now = store.now();
    let draft = shared.cm.draft_stage().to_string();
    let mut version = Version {
        updated_at: now.clone(),
        ..Version::default()
    };
    let mut fields = super::store::Fields::new();
    fields.insert("handle".into(), json!(handle));
    fields.insert("fileName".into(), json!(file_name));
    fields.insert("mimeType".into(), json!(mime_type));
    fields.insert("size".into(), json!(file.len() as f64));
    for (k, v) in fields {
        let localized = model.field(&k).is_some_and(|f| f.localized);
        if localized {
            version
                .localizations
                .entry(shared.cm.default_locale.clone())
                .or_default()
                .insert(k, v);
        } else {
            version.fields.insert(k, v);
        }
    }
    if model.has_localized_fields() {
        version
            .localizations
            .entry(shared.cm.default_locale.clone())
            .or_default();
    }
    let entry = Entry {
        id: id.clone(),
        created_at: now.clone(),
        stages: [(draft, version)].into_iter().collect(),
    };
    store.begin();
    store.put_entry(&model.name, &id, Some(entry));
    store.commit();
    store.files.insert(
        handle.clone(),
        AssetFile {
            mime_type: mime_type.clone(),
            bytes: file.clone(),
        },
    );
    drop(store);
    lock(&shared.stats).uploads += 1;
    json_response(
        StatusCode::OK,
        json!({
            "id": id,
            "handle": handle,
            "fileName": file_name,
            "mimeType": mime_type,
            "size": file.len(),
            "url": format!("{}{}", shared.asset_base, handle),
            "createdAt": now,
            "updatedAt": now,
        }),
    )
}
