//! Integration tests: `stagesync daemon` as a process — systemd notify, control socket, SIGTERM —
//! and the systemd units. The endpoints are a minimal GraphQL responder on 127.0.0.1: enough for
//! the start-up probe; the runs themselves fail against it, which exercises the retry path.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common;

/// Answers every HTTP request with a GraphQL `{"data":{"__typename":"Query"}}`.
fn graphql_stub() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(&stream);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let answer = r#"{"data":{"__typename":"Query"}}"#;
                let _ = (&stream).write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                        answer.len()
                    )
                    .as_bytes(),
                );
            });
        }
    });
    format!("http://{addr}/")
}

fn write_config(dir: &Path, schedule: Option<&str>, url: &str) -> PathBuf {
    let path = dir.join("stagesync.toml");
    let schedule = schedule.map_or_else(String::new, |s| format!("schedule = \"{s}\"\n"));
    std::fs::write(
        &path,
        format!(
            "{schedule}state_dir = \"{}\"\n[source]\nurl = \"{url}source\"\n[destination]\nurl = \"{url}destination\"\n[retry]\ninitial_secs = 0.2\nmax_secs = 1\n",
            dir.join("state").display()
        ),
    )
    .unwrap();
    path
}

/// Kills the daemon if a test fails before stopping it.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cli(config: &Path, args: &[&str]) -> Output {
    Command::new(common::stagesync_bin())
        .args(args)
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    common::unversioned(v)
}

/// Reads notify datagrams into `seen` until one has a line starting with `needle`.
fn wait_for_notify(socket: &UnixDatagram, needle: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 4096];
    while !seen
        .iter()
        .any(|m| m.lines().any(|l| l.starts_with(needle)))
    {
        assert!(Instant::now() < deadline, "no {needle} in {seen:?}");
        if let Ok(n) = socket.recv(&mut buf) {
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
}

/// Waits for the daemon to exit (bounded) and returns its status with everything it logged.
fn exit_and_log(child: &mut Child) -> (std::process::ExitStatus, String) {
    let exit = wait_exit(child);
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    (exit, log)
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the daemon did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn daemon_speaks_systemd_notify_answers_on_its_socket_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), Some("*/2 * * * * *"), &graphql_stub());
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();

    let mut daemon = Daemon(
        Command::new(common::stagesync_bin())
            .args(["daemon", "--config"])
            .arg(&config)
            .env("NOTIFY_SOCKET", &notify_path)
            .env("WATCHDOG_USEC", "400000")
            .env_remove("WATCHDOG_PID")
            .env_remove("RUNTIME_DIRECTORY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut seen = Vec::new();
    wait_for_notify(&notify, "READY=1", &mut seen);
    wait_for_notify(&notify, "WATCHDOG=1", &mut seen);
    wait_for_notify(
        &notify,
        "STATUS=running an incremental run (catch-up)",
        &mut seen,
    );
    assert!(
        seen.iter()
            .any(|m| m.contains("STATUS=ready; schedule */2 * * * * *")),
        "{seen:?}"
    );
    let socket = dir.path().join("state/stagesync.sock");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    // No successful run yet: it runs at once; against the stub it fails and is retried, visibly.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let status = json(&cli(&config, &["status", "--json"]));
        if status["consecutive_failures"].as_u64().unwrap_or(0) >= 1 {
            break status;
        }
        assert!(Instant::now() < deadline, "no failure recorded: {status}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status["pid"], daemon.0.id());
    assert!(
        status["last_result"].as_str().unwrap().contains("failed"),
        "{status}"
    );
    assert!(status["next_scheduled"].is_string(), "{status}");
    wait_for_notify(&notify, "STATUS=last: incremental run failed", &mut seen);
    let text = cli(&config, &["status"]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("daemon          "),
        "{text:?}"
    );

    // Inspection goes through the socket while the daemon holds the store.
    assert!(json(&cli(&config, &["checkpoints", "--json"])).is_array());
    assert!(json(&cli(&config, &["checkpoints", "models", "--json"])).is_array());
    let reset = cli(&config, &["reset", "--yes"]);
    assert_eq!(reset.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&reset.stderr).contains("stop it first"));

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    wait_for_notify(&notify, "STOPPING=1", &mut seen);
    let (exit, log) = exit_and_log(&mut daemon.0);
    assert!(exit.success(), "{exit:?}\n{log}");
    // Against the stub the run fails before it is a stored run: one line says so, and why it ran.
    let log = common::strip_ansi(&log);
    assert!(
        log.lines()
            .any(|l| l.contains("run failed") && l.contains("reason=\"catch-up\"")),
        "{log}"
    );
    assert!(!socket.exists(), "the socket is removed on exit");

    // Without a daemon the same commands open the store directly.
    let status = json(&cli(&config, &["status", "--json"]));
    assert_eq!(status["daemon"], "not-running");
    stdout_ok(&cli(&config, &["reset", "--yes"]));
}

fn stdout_ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn daemon_without_a_schedule_is_a_config_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), None, "http://127.0.0.1:9/");
    let out = cli(&config, &["daemon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a `schedule`"));

    let config = write_config(dir.path(), Some("*/5 * * * *"), "http://127.0.0.1:9/");
    let out = cli(&config, &["daemon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("*/5 * * * *"));
}

/// `systemd-analyze verify` and `security --offline` on both units, where systemd-analyze exists.
#[test]
fn systemd_units_verify_and_are_hardened() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping: systemd-analyze not found");
        return;
    }
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd");
    let dir = tempfile::tempdir().unwrap();
    for (file, name) in [
        ("stagesync.service", "stagesync.service"),
        ("stagesync@.service", "stagesync@prod-to-staging.service"),
    ] {
        // The units name the installed binary; point them at the built one for `verify`.
        let text = std::fs::read_to_string(units.join(file)).unwrap().replace(
            "/usr/local/bin/stagesync",
            common::stagesync_bin().to_str().unwrap(),
        );
        std::fs::write(dir.path().join(file), &text).unwrap();
        let unit = dir.path().join(name);
        if name != file {
            std::fs::copy(dir.path().join(file), &unit).unwrap();
        }
        let verify = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&unit)
            .output()
            .unwrap();
        let complaints = String::from_utf8_lossy(&verify.stderr).into_owned();
        let relevant: Vec<&str> = complaints
            .lines()
            // Hosts without a running systemd (containers) complain about the manager itself.
            .filter(|l| l.contains(file) || l.contains(name))
            .collect();
        assert!(relevant.is_empty(), "{name}: {complaints}");

        let security = Command::new("systemd-analyze")
            .args(["security", "--offline=true", "--no-pager"])
            .arg(&unit)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&security.stdout);
        let score: f64 = report
            .lines()
            .find_map(|l| l.split("exposure level for ").nth(1))
            .and_then(|l| l.split(": ").nth(1))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no score in {report}"));
        assert!(score <= 2.0, "{name}: exposure {score}\n{report}");
    }
}

/// The daemon binary against two emulators; `Pair`'s config plus `schedule`.
struct Service {
    child: Daemon,
}

fn spawn_daemon(pair: &super::harness::Pair) -> Service {
    let child = Command::new(common::stagesync_bin())
        .args(["daemon", "--config"])
        .arg(&pair.config)
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("RUNTIME_DIRECTORY")
        .env("RUST_LOG", "stagesync=info,warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Service {
        child: Daemon(child),
    }
}

impl Service {
    /// SIGTERM, a bounded wait, exit 0; returns the log.
    fn stop(mut self) -> String {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.0.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let (exit, log) = exit_and_log(&mut self.child.0);
        assert!(exit.success(), "{exit:?}\n{log}");
        assert!(
            !log.contains(super::harness::SOURCE_TOKEN)
                && !log.contains(super::harness::DEST_TOKEN),
            "a token leaked: {log}"
        );
        log
    }
}

async fn poll<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn runs(config: &Path) -> Vec<serde_json::Value> {
    json(&cli(config, &["checkpoints", "--json"]))
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_syncs_on_schedule_never_overlaps_and_resumes_after_sigterm() {
    use stagesync::demo::project::{seed, ProjectSpec};
    let content = super::harness::conference();
    // A slow destination (10 writes/s) makes a run outlast several 2-second ticks.
    let pair = super::harness::Pair::start_configured(
        content.clone(),
        "schedule = \"*/2 * * * * *\"\n[batch]\nmax_mutations = 2\nconcurrency = 1",
        10,
    )
    .await;
    seed(&pair.source_client(), &content, &ProjectSpec::new(40))
        .await
        .expect("seeding the source");
    let config = pair.config.clone();

    // First start: no success yet, so it runs at once; ticks during the run are skipped.
    let daemon = spawn_daemon(&pair);
    // The run is stored once its preparation (introspection) is done, which a loaded machine
    // may take longer than a tick for.
    let (status, during) = poll("a stored run in progress with a skipped tick", 120, || {
        let s = json(&cli(&config, &["status", "--json"]));
        let during = runs(&config);
        (s["current_run"].is_object()
            && s["skipped_ticks"].as_u64() > Some(0)
            && during.iter().any(|r| r["status"] == "running"))
        .then_some((s, during))
    })
    .await;
    assert_eq!(status["daemon"], "running");
    assert_eq!(
        during.iter().filter(|r| r["status"] == "running").count(),
        1,
        "exactly one run in progress, through the socket: {during:?}"
    );
    poll("a finished run", 240, || {
        runs(&config)
            .iter()
            .any(|r| r["status"] == "succeeded")
            .then_some(())
    })
    .await;

    // trigger --full: started now or queued behind a scheduled run; either way a full run follows.
    let out = cli(&config, &["trigger", "--full"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let full = poll("a full run", 240, || {
        runs(&config)
            .into_iter()
            .find(|r| r["mode"] == "full" && r["status"] == "succeeded")
    })
    .await;
    let id = full["id"].as_u64().unwrap().to_string();
    let shown = json(&cli(&config, &["checkpoints", "show", &id, "--json"]));
    assert_eq!(shown["mode"], "full");
    assert!(shown["requests"].as_u64().unwrap() > 0);
    let text = cli(&config, &["checkpoints", "show", &id]);
    assert!(
        String::from_utf8_lossy(&text.stdout).starts_with(&format!("run {id}: full, succeeded"))
    );
    let all = runs(&config);
    for pair_of_runs in all.windows(2) {
        // Newest first; a run never starts before the previous one finished.
        let (newer, older) = (&pair_of_runs[0], &pair_of_runs[1]);
        if let Some(end) = older["finished_at"].as_str() {
            assert!(
                newer["started_at"].as_str().unwrap() >= end,
                "overlap: {all:?}"
            );
        }
    }

    // SIGTERM in the middle of a full run: exit 0, and the store knows where it stopped.
    cli(&config, &["trigger", "--full"]);
    poll("a run writing", 120, || {
        let s = json(&cli(&config, &["status", "--json"]));
        let phase = s["current_run"]["phase"].as_str().unwrap_or("").to_owned();
        (s["current_run"]["mode"] == "full" && phase != "read" && !phase.is_empty()).then_some(())
    })
    .await;
    let log = common::strip_ansi(&daemon.stop());
    // One line at each end of every run, the run's id on it.
    let listed = runs(&config);
    for run in &listed {
        let id = format!("run={}", run["id"]);
        for what in ["run started", "run finished"] {
            let n = log
                .lines()
                .filter(|l| l.contains(what) && l.split_whitespace().any(|w| w == id))
                .count();
            assert_eq!(n, 1, "{what:?} logged {n} times for {id}:\n{log}");
        }
    }
    // A stop is not a failure: the run is interrupted, and resumable.
    let stopped = listed[0].clone();
    assert_eq!(stopped["status"], "interrupted", "{stopped}");

    // A stop longer than one period: the next start runs at once, without waiting for a tick.
    {
        let store = stagesync::store::Store::open(&pair.state_dir()).unwrap();
        let two_hours_ago = chrono::Utc::now().timestamp_millis() - 7_200_000;
        store.set_last_success(two_hours_ago).unwrap();
        store.flush().unwrap();
    }
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("*/2 * * * * *", "0 0 * * * *");
    std::fs::write(&config, text).unwrap();
    let before = runs(&config).len();
    let daemon = spawn_daemon(&pair);
    poll("the catch-up run to finish", 240, || {
        let list = runs(&config);
        (list.len() > before && list[0]["status"] == "succeeded").then_some(())
    })
    .await;
    let log = daemon.stop();
    assert!(log.contains("older than one schedule period"), "{log}");
    pair.verify_passes().await;
}

/// Neither `CA certificates` found (`SSL_CERT_FILE`/`SSL_CERT_DIR` pointing nowhere stands for
/// a minimal system without the `ca-certificates` package).
fn without_ca_certificates(cmd: &mut Command) -> &mut Command {
    cmd.env("SSL_CERT_FILE", "/nonexistent/ca.pem")
        .env("SSL_CERT_DIR", "/nonexistent")
}

#[test]
fn without_ca_certificates_the_daemon_fails_its_start_at_once_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), Some("0 0 * * * *"), &graphql_stub());
    let mut daemon = Daemon(
        without_ca_certificates(Command::new(common::stagesync_bin()).args(["daemon", "--config"]))
            .arg(&config)
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Before the fix it probed "builder error" until stopped: the bounded wait fails then.
    let (exit, log) = exit_and_log(&mut daemon.0);
    assert_eq!(
        exit.code(),
        Some(2),
        "exit 2, as systemd's RestartPreventExitStatus=2 expects:\n{log}"
    );
    assert!(log.contains("No CA certificates"), "{log}");
    assert!(log.contains("apt-get install ca-certificates"), "{log}");
    assert!(log.contains("endpoint `source`"), "{log}");
    assert!(!log.contains("waiting for"), "{log}");
    assert!(
        !dir.path().join("state").exists(),
        "the store is not touched"
    );
}

#[test]
fn without_ca_certificates_the_emulator_serves_instead_of_panicking() {
    let mut child = Daemon(
        without_ca_certificates(Command::new(common::stagesync_bin()).args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--model",
        ]))
        .arg(common::project_fixture("conference.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    let mut url = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim();
    assert!(url.starts_with("http://127.0.0.1:"), "no URL: {url:?}");
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let address = address.split('/').next().unwrap();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = r#"{"query":"{ __typename }"}"#;
    write!(
        stream,
        "POST / HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.contains("\"__typename\":\"Query\""), "{answer}");
}
