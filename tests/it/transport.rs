//! Integration tests: the Content API transport against a scripted server on 127.0.0.1 that
//! answers each request from a list (429s, 5xx, HTML, truncated JSON, dropped connections, 413,
//! 401, slow answers, GraphQL errors), counting what it receives.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response as HttpResponse;
use axum::Router;
use serde_json::{json, Value};
use stagesync::hygraph::{
    Client, ClientError, EndpointConfig, Idempotency, TimeoutPhase, INTROSPECTION_QUERY,
};

const TOKEN: &str = "sk-test-7f3a9c-never-print-me";

/// One scripted answer.
#[derive(Clone)]
enum Step {
    Json(u16, Value),
    /// Status, extra headers, content type, body.
    Raw(u16, Vec<(&'static str, String)>, &'static str, Vec<u8>),
    /// Sends a 200 head, then breaks the connection instead of a body.
    Drop,
    /// Answers `ok` after a pause.
    Slow(Duration),
}

fn ok() -> Step {
    Step::Json(200, json!({"data": {"ok": true}}))
}

fn status(code: u16) -> Step {
    Step::Raw(
        code,
        vec![],
        "text/plain",
        format!("status {code}").into_bytes(),
    )
}

/// What the server saw.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    authorization: Option<String>,
    body: String,
}

struct Script {
    steps: Mutex<VecDeque<Step>>,
    /// Answer once the script has run out.
    then: Step,
    hits: AtomicUsize,
    seen: Mutex<Vec<Seen>>,
}

struct Server {
    url: url::Url,
    script: Arc<Script>,
}

impl Server {
    async fn start(steps: Vec<Step>, then: Step) -> Server {
        let script = Arc::new(Script {
            steps: Mutex::new(steps.into()),
            then,
            hits: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(scripted).with_state(script.clone());
        let url = serve(app).await;
        Server { url, script }
    }

    fn hits(&self) -> usize {
        self.script.hits.load(Ordering::SeqCst)
    }

    fn seen(&self) -> Vec<Seen> {
        self.script.seen.lock().unwrap().clone()
    }
}

async fn serve(app: Router) -> url::Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}/v2/project/master").parse().unwrap()
}

async fn scripted(State(script): State<Arc<Script>>, request: Request) -> HttpResponse {
    script.hits.fetch_add(1, Ordering::SeqCst);
    let path = request.uri().path().to_owned();
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap();
    script.seen.lock().unwrap().push(Seen {
        path,
        authorization,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let step = script
        .steps
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| script.then.clone());
    answer(step).await
}

async fn answer(step: Step) -> HttpResponse {
    match step {
        Step::Json(code, value) => HttpResponse::builder()
            .status(code)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(value.to_string()))
            .unwrap(),
        Step::Raw(code, headers, content_type, body) => {
            let mut builder = HttpResponse::builder()
                .status(code)
                .header(header::CONTENT_TYPE, content_type);
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            builder.body(Body::from(body)).unwrap()
        }
        Step::Drop => {
            let broken = futures::stream::once(async {
                Err::<Vec<u8>, _>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "scripted drop",
                ))
            });
            HttpResponse::builder()
                .status(StatusCode::OK)
                .body(Body::from_stream(broken))
                .unwrap()
        }
        Step::Slow(pause) => {
            tokio::time::sleep(pause).await;
            Box::pin(answer(ok())).await
        }
    }
}

/// Settings for tests: fast backoff, short timeouts, a generous rate.
fn config(url: &url::Url) -> EndpointConfig {
    let mut cfg = EndpointConfig::new("destination", url.clone()).with_token(TOKEN);
    cfg.requests_per_second = 1000;
    cfg.burst = 100;
    cfg.connect_timeout = Duration::from_secs(2);
    cfg.read_timeout = Duration::from_secs(5);
    cfg.request_timeout = Duration::from_secs(10);
    cfg.max_retries = 3;
    cfg.backoff_base = Duration::from_millis(5);
    cfg.backoff_max = Duration::from_millis(20);
    cfg
}

fn client(server: &Server) -> Client {
    Client::new(config(&server.url)).unwrap()
}

const QUERY: &str = "{ posts(first: 1, stage: DRAFT) { id } }";

async fn read(client: &Client) -> Result<stagesync::hygraph::Response, ClientError> {
    client.graphql(QUERY, Value::Null, Idempotency::Safe).await
}

async fn write(client: &Client) -> Result<stagesync::hygraph::Response, ClientError> {
    client
        .graphql(
            "mutation($d: PostCreateInput!) { a0: createPost(data: $d) { id } }",
            json!({"d": {"title": "x"}}),
            Idempotency::Unsafe,
        )
        .await
}

fn assert_no_token(text: &str) {
    assert!(!text.contains(TOKEN), "token leaked into: {text}");
    assert!(
        !text.contains("7f3a9c"),
        "part of the token leaked into: {text}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_until_an_answer_comes() {
    let server = Server::start(vec![status(500), status(502), status(503)], ok()).await;
    let client = client(&server);
    let response = read(&client).await.unwrap();
    assert_eq!(response.data.unwrap()["ok"], true);
    assert_eq!(server.hits(), 4);
    let stats = client.stats();
    assert_eq!(stats.requests, 4);
    assert_eq!(stats.retries, 3);
    assert_eq!(stats.by_status.get(&502), Some(&1));
    assert_eq!(stats.by_status.get(&200), Some(&1));
    assert!(stats.bytes_sent > 0 && stats.bytes_received > 0);
}

#[tokio::test]
async fn persistent_server_errors_end_in_an_error_naming_the_endpoint() {
    let server = Server::start(vec![], status(502)).await;
    let client = client(&server);
    let error = read(&client).await.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Server {
                status: 502,
                attempts: 4,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert!(error.to_string().contains("`destination`"), "{error}");
    assert_eq!(server.hits(), 4, "one request and max_retries retries");
}

#[tokio::test]
async fn unsafe_writes_are_not_resent_after_a_server_error() {
    let server = Server::start(vec![status(503)], ok()).await;
    let client = client(&server);
    let error = write(&client).await.unwrap_err();
    assert!(
        matches!(error, ClientError::Server { status: 503, .. }),
        "{error:?}"
    );
    assert!(error.write_may_have_applied());
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn unsafe_writes_are_resent_after_a_429() {
    let server = Server::start(vec![status(429)], ok()).await;
    let client = client(&server);
    write(&client).await.unwrap();
    assert_eq!(server.hits(), 2);
    assert_eq!(client.stats().rate_limited, 1);
}

#[tokio::test]
async fn retry_after_in_seconds_is_honoured() {
    let retry_after = Step::Raw(429, vec![("retry-after", "1".into())], "text/plain", vec![]);
    let server = Server::start(vec![retry_after], ok()).await;
    let client = client(&server);
    let started = Instant::now();
    read(&client).await.unwrap();
    assert_eq!(server.hits(), 2);
    // A lower bound only: the backoff alone is at most 20 ms.
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(client.current_rate() < 1000.0, "the limiter slowed down");
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let retry_after = Step::Raw(429, vec![("retry-after", date)], "text/plain", vec![]);
    let server = Server::start(vec![retry_after], ok()).await;
    let client = client(&server);
    let started = Instant::now();
    read(&client).await.unwrap();
    assert_eq!(server.hits(), 2);
    // The date has one-second resolution, so at least one second is left of the two.
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn persistent_429s_end_in_rate_limited() {
    let server = Server::start(vec![], status(429)).await;
    let client = client(&server);
    let error = read(&client).await.unwrap_err();
    assert!(
        matches!(error, ClientError::RateLimited { attempts: 4, .. }),
        "{error:?}"
    );
    assert_eq!(server.hits(), 4);
    assert_eq!(client.stats().rate_limited, 4);
}

/// Collects log output of the current thread.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// A current-thread runtime (the default for tokio::test) so the thread-local subscriber sees
// every event of the client.
#[tokio::test]
async fn a_throttling_episode_logs_one_warning() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = Server::start(vec![status(429), status(429), status(429)], ok()).await;
    let client = client(&server);
    read(&client).await.unwrap();
    for _ in 0..3 {
        read(&client).await.unwrap();
    }
    let stats = client.stats();
    assert_eq!(stats.rate_limited, 3);
    assert_eq!(stats.throttle_episodes, 1);
    assert_eq!(server.hits(), 7);

    let text = logs.text();
    let warnings: Vec<&str> = text.lines().filter(|l| l.contains(" WARN ")).collect();
    assert_eq!(warnings.len(), 1, "one warning per episode, got:\n{text}");
    assert!(warnings[0].contains("destination"), "{}", warnings[0]);
    assert!(
        text.lines().filter(|l| l.contains("retrying")).count() >= 3,
        "retries are logged at debug:\n{text}"
    );
    assert_no_token(&text);
}

#[tokio::test]
async fn an_html_page_is_retried_then_reported_with_an_excerpt() {
    let html = Step::Raw(
        200,
        vec![],
        "text/html",
        b"<html><body>Service maintenance</body></html>".to_vec(),
    );
    let server = Server::start(vec![], html).await;
    let client = client(&server);
    let error = read(&client).await.unwrap_err();
    let ClientError::InvalidResponse {
        endpoint,
        detail,
        attempts,
    } = &error
    else {
        panic!("expected InvalidResponse, got {error:?}");
    };
    assert_eq!(endpoint, "destination");
    assert!(
        detail.contains("<html><body>Service maintenance"),
        "{detail}"
    );
    assert_eq!(*attempts, 4);
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn truncated_json_is_retried() {
    let truncated = Step::Raw(
        200,
        vec![],
        "application/json",
        br#"{"data": {"posts": [{"id": "ck"#.to_vec(),
    );
    let server = Server::start(vec![truncated], ok()).await;
    let client = client(&server);
    read(&client).await.unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_dropped_connection_is_retried_for_reads_only() {
    let server = Server::start(vec![Step::Drop], ok()).await;
    let client = client(&server);
    read(&client).await.unwrap();
    assert_eq!(server.hits(), 2);

    let server = Server::start(vec![Step::Drop], ok()).await;
    let client = self::client(&server);
    let error = write(&client).await.unwrap_err();
    assert!(
        matches!(error, ClientError::ConnectionLost { .. }),
        "{error:?}"
    );
    assert!(error.write_may_have_applied());
    assert_eq!(
        server.hits(),
        1,
        "a write whose answer was lost is not resent"
    );
}

#[tokio::test]
async fn too_large_is_reported_at_once() {
    let server = Server::start(vec![status(413)], ok()).await;
    let client = client(&server);
    let error = write(&client).await.unwrap_err();
    assert!(
        matches!(error, ClientError::TooLarge { bytes, .. } if bytes > 0),
        "{error:?}"
    );
    assert!(!error.is_transient());
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn unauthorized_and_unknown_endpoints_are_reported_at_once() {
    for code in [401, 403] {
        let server = Server::start(vec![], status(code)).await;
        let client = client(&server);
        let error = read(&client).await.unwrap_err();
        assert!(
            matches!(&error, ClientError::Unauthorized { endpoint, status } if endpoint == "destination" && *status == code),
            "{error:?}"
        );
        assert!(error.to_string().contains("token"), "{error}");
        assert_no_token(&error.to_string());
        assert_eq!(server.hits(), 1);
    }
    let server = Server::start(vec![], status(404)).await;
    let client = client(&server);
    let error = read(&client).await.unwrap_err();
    assert!(
        matches!(error, ClientError::UnknownEndpoint { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("/v2/project/master"), "{error}");
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried() {
    let server = Server::start(vec![], Step::Slow(Duration::from_secs(30))).await;
    let mut cfg = config(&server.url);
    cfg.read_timeout = Duration::from_millis(200);
    cfg.request_timeout = Duration::from_millis(300);
    cfg.max_retries = 1;
    let client = Client::new(cfg).unwrap();
    let error = read(&client).await.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Timeout {
                phase: TimeoutPhase::Response,
                attempts: 2,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.hits(), 2);
    assert_eq!(client.stats().no_answer, 2);
}

#[tokio::test]
async fn graphql_errors_with_partial_data_are_returned_not_retried() {
    let partial = Step::Json(
        200,
        json!({
            "data": {"a0": {"id": "ck1"}, "a1": null},
            "errors": [{"message": "value is not unique for the field \"slug\"",
                        "path": ["a1"], "extensions": {"code": "BAD_USER_INPUT"}}]
        }),
    );
    let server = Server::start(vec![partial], ok()).await;
    let client = client(&server);
    let response = write(&client).await.unwrap();
    assert_eq!(response.data.as_ref().unwrap()["a0"]["id"], "ck1");
    let error = response.alias_error("a1").unwrap();
    assert!(error.message.contains("not unique"));
    assert_eq!(error.code.as_deref(), Some("BAD_USER_INPUT"));
    assert!(response.alias_error("a0").is_none());
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn request_level_graphql_errors_are_returned_not_retried() {
    let invalid = Step::Json(
        400,
        json!({"errors": [{"message": "Cannot query field \"nope\" on type \"Query\"."}]}),
    );
    let server = Server::start(vec![invalid], ok()).await;
    let client = client(&server);
    let response = read(&client).await.unwrap();
    assert!(response.data.is_none());
    assert_eq!(response.request_errors().count(), 1);
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_too_complex_query_is_its_own_error() {
    let complex = Step::Json(
        200,
        json!({"data": null, "errors": [{"message": "query is too complex: complexity 12000 exceeds 10000"}]}),
    );
    let server = Server::start(vec![complex], ok()).await;
    let client = client(&server);
    let error = read(&client).await.unwrap_err();
    assert!(matches!(error, ClientError::TooComplex { .. }), "{error:?}");
    assert_eq!(server.hits(), 1);
}

/// A server allowing `rate` requests per second with a burst of `burst`, by GCRA as Hygraph's
/// edge does; it counts what it rejects.
struct Limited {
    interval: Duration,
    burst: u32,
    theoretical_arrival: Mutex<Option<Instant>>,
    accepted: AtomicUsize,
    rejected: AtomicUsize,
}

async fn limited(State(limit): State<Arc<Limited>>) -> HttpResponse {
    let now = Instant::now();
    let allowed = {
        let mut tat = limit.theoretical_arrival.lock().unwrap();
        let next = tat.map_or(now, |t| t.max(now)) + limit.interval;
        let allowed = next.duration_since(now) <= limit.interval * limit.burst;
        if allowed {
            *tat = Some(next);
        }
        allowed
    };
    if allowed {
        limit.accepted.fetch_add(1, Ordering::SeqCst);
        answer(ok()).await
    } else {
        limit.rejected.fetch_add(1, Ordering::SeqCst);
        answer(status(429)).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limiter_keeps_concurrent_requests_under_the_server_limit() {
    const RATE: u32 = 10;
    let limit = Arc::new(Limited {
        interval: Duration::from_secs(1) / RATE,
        // Room for our burst of 1 plus network jitter on a busy machine.
        burst: 4,
        theoretical_arrival: Mutex::new(None),
        accepted: AtomicUsize::new(0),
        rejected: AtomicUsize::new(0),
    });
    let url = serve(Router::new().fallback(limited).with_state(limit.clone())).await;
    let mut cfg = config(&url);
    cfg.requests_per_second = RATE;
    cfg.burst = 1;
    cfg.max_in_flight = 8;
    let client = Client::new(cfg).unwrap();

    let requests = (0..30).map(|_| {
        let client = client.clone();
        async move { read(&client).await }
    });
    for result in futures::future::join_all(requests).await {
        result.unwrap();
    }
    assert_eq!(
        limit.rejected.load(Ordering::SeqCst),
        0,
        "the server said 429"
    );
    assert_eq!(limit.accepted.load(Ordering::SeqCst), 30);
    assert_eq!(client.stats().rate_limited, 0);
}

#[tokio::test]
async fn an_unreachable_port_fails_fast_naming_the_endpoint() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url: url::Url = format!("http://127.0.0.1:{port}/v2/project/master")
        .parse()
        .unwrap();
    let mut cfg = config(&url);
    cfg.max_retries = 8;
    let client = Client::new(cfg).unwrap();
    let error = read(&client).await.unwrap_err();
    let ClientError::ConnectionRefused {
        endpoint,
        address,
        attempts,
    } = &error
    else {
        panic!("expected ConnectionRefused, got {error:?}");
    };
    assert_eq!(endpoint, "destination");
    assert_eq!(address, &format!("127.0.0.1:{port}"));
    assert!(
        *attempts <= 3,
        "a refused connection is not retried 8 times"
    );
    assert!(error.is_transient());
    assert!(!error.write_may_have_applied());
    assert_no_token(&error.to_string());
    assert_no_token(&format!("{error:?}"));
}

#[tokio::test]
async fn the_token_is_sent_but_never_shown() {
    let server = Server::start(vec![status(500), status(401)], ok()).await;
    let cfg = config(&server.url);
    assert_no_token(&format!("{cfg:?}"));
    let client = Client::new(cfg).unwrap();
    assert_no_token(&format!("{client:?}"));
    let error = read(&client).await.unwrap_err();
    assert_no_token(&error.to_string());
    assert_no_token(&format!("{error:?}"));
    for seen in server.seen() {
        assert_eq!(seen.authorization, Some(format!("Bearer {TOKEN}")));
    }
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn introspection_sends_the_standard_query() {
    let schema = Step::Json(
        200,
        json!({"data": {"__schema": {"queryType": {"name": "Query"}, "types": []}}}),
    );
    let server = Server::start(vec![schema], ok()).await;
    let client = client(&server);
    let data = client.introspect().await.unwrap();
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    let sent: Value = serde_json::from_str(&server.seen()[0].body).unwrap();
    assert_eq!(sent["query"], INTROSPECTION_QUERY);

    // The answer to the fallback request lacks `__schema`.
    let error = client.introspect().await.unwrap_err();
    assert!(
        matches!(error, ClientError::Introspection { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn assets_are_downloaded_and_uploaded_by_form() {
    let file = Step::Raw(200, vec![], "image/png", vec![0x89, b'P', b'N', b'G']);
    let upload = Step::Json(200, json!({"id": "asset1", "handle": "h1"}));
    let server = Server::start(vec![file, upload], ok()).await;
    let client = client(&server);

    let file_url = server.url.join("/files/logo.png").unwrap();
    let bytes = client.get_bytes(file_url.as_str()).await.unwrap();
    assert_eq!(bytes, vec![0x89, b'P', b'N', b'G']);

    let answer = client
        .post_form("upload", &[("url", "https://example.com/a b.png")])
        .await
        .unwrap();
    assert_eq!(answer["handle"], "h1");
    let seen = server.seen();
    assert_eq!(seen[0].path, "/files/logo.png");
    assert_eq!(seen[1].path, "/v2/project/master/upload");
    assert_eq!(seen[1].body, "url=https%3A%2F%2Fexample.com%2Fa+b.png");
}

#[tokio::test]
async fn bad_settings_are_refused() {
    let url: url::Url = "http://127.0.0.1:9/x".parse().unwrap();
    let mut cfg = config(&url);
    cfg.requests_per_second = 0;
    let error = Client::new(cfg).unwrap_err();
    assert!(
        matches!(error, ClientError::InvalidConfig { .. }),
        "{error:?}"
    );
    let cfg = EndpointConfig::new("source", "ftp://example.com/".parse().unwrap());
    let error = Client::new(cfg).unwrap_err();
    assert!(matches!(error, ClientError::InvalidUrl { .. }), "{error:?}");
}

/// A server on 127.0.0.1 that accepts connections, reads the request and never answers.
pub(super) async fn silent_server() -> url::Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // Kept open (never answered) until the test's runtime ends.
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    format!("http://{addr}/v2/project/master").parse().unwrap()
}

/// A server on 127.0.0.1 that answers `200` with a long body one byte every 100 ms; counts
/// connections.
async fn trickling_server() -> (url::Url, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut request = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if socket.write_all(b" ").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (
        format!("http://{addr}/v2/project/master").parse().unwrap(),
        connections,
    )
}

#[tokio::test]
async fn a_trickling_answer_times_out_though_bytes_keep_coming() {
    let (url, connections) = trickling_server().await;
    let mut cfg = config(&url);
    // A byte arrives every 100 ms, so only the total deadline of an attempt can end it.
    cfg.read_timeout = Duration::from_secs(5);
    cfg.request_timeout = Duration::from_millis(500);
    cfg.max_retries = 1;
    let client = Client::new(cfg).unwrap();
    let error = tokio::time::timeout(Duration::from_secs(60), read(&client))
        .await
        .expect("the request ends")
        .unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Timeout {
                phase: TimeoutPhase::Response,
                attempts: 2,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_request_gives_up_on_a_silent_endpoint_at_its_deadline_naming_it() {
    let url = silent_server().await;
    let mut cfg = config(&url);
    // Long per-attempt timeouts and many retries: only `give_up_after` can end this early.
    cfg.read_timeout = Duration::from_secs(60);
    cfg.request_timeout = Duration::from_secs(60);
    cfg.max_retries = 8;
    cfg.give_up_after = Duration::from_secs(1);
    let client = Client::new(cfg).unwrap();
    let error = tokio::time::timeout(Duration::from_secs(60), read(&client))
        .await
        .expect("the request ends")
        .unwrap_err();
    let ClientError::GaveUp {
        endpoint,
        url: named,
        attempts,
        ..
    } = &error
    else {
        panic!("expected GaveUp, got {error:?}");
    };
    assert_eq!(endpoint, "destination");
    assert_eq!(named, url.as_str());
    assert_eq!(*attempts, 1);
    assert!(error.is_transient() && error.write_may_have_applied());
    assert!(error.to_string().contains("give_up_secs"), "{error}");
    assert_no_token(&error.to_string());

    // The endpoint has now been silent for the whole deadline: the next request fails at once,
    // without sending (so a run with many queued requests ends too).
    let sent = client.stats().requests;
    let error = read(&client).await.unwrap_err();
    assert!(
        matches!(error, ClientError::GaveUp { attempts: 0, .. }),
        "{error:?}"
    );
    assert_eq!(client.stats().requests, sent);
}

#[tokio::test]
async fn an_answer_clears_the_silence() {
    // Timeouts first, then answers: the endpoint is alive again, requests go through.
    let server = Server::start(
        vec![
            Step::Slow(Duration::from_secs(30)),
            Step::Slow(Duration::from_secs(30)),
        ],
        ok(),
    )
    .await;
    let mut cfg = config(&server.url);
    cfg.request_timeout = Duration::from_millis(200);
    cfg.give_up_after = Duration::from_secs(1);
    let client = Client::new(cfg).unwrap();
    read(&client).await.unwrap();
    // Past the deadline of the first silence: had the answer not cleared it, this would fail.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    read(&client).await.unwrap();
    assert_eq!(server.hits(), 4);
}
