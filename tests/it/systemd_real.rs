//! The systemd units under a real systemd: a Debian 12 root (debootstrap, cached) booted with
//! `systemd-nspawn`, the binary, units, config and credentials installed by the README's own
//! commands — read from its "Install as a systemd service" section and run line by line — and
//! `stagesync emulator` processes on 127.0.0.1 as the endpoints (the container shares the host's
//! network). Every check is an assertion on `systemctl show`, the journal or the CLI's answers.
//!
//! `#[ignore]`d: it needs root, `systemd-nspawn` and `debootstrap` (or a cached root) and takes
//! a few minutes. `.ci/run` runs it with `STAGESYNC_SYSTEMD_REQUIRED=1`, which turns a skip into a
//! failure:
//!
//! ```sh
//! sudo cargo test --test it systemd_real -- --ignored --test-threads=1
//! ```
//!
//! Never boots a systemd on the host's `/` and binds nothing of the host's but the unit files and
//! the binary (read-only). The root is cached in `$STAGESYNC_SYSTEMD_CACHE` (default
//! `/var/cache/stagesync-ci`) and copied for each run; the copy, the container and the emulators
//! are stopped and removed by their ids when the test ends, also when it fails.
//!
//! What the README leaves to the user, the test decides: the binary is the one this test run
//! built (not a `cargo build --release`), `sudoedit` is an edit of the installed example, and
//! drop-ins shorten the watchdog and restart delays so the whole test takes minutes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use stagesync::demo::project::{seed, ProjectSpec};
use stagesync::hygraph::{Client, EndpointConfig};

use crate::common;

const SUITE: &str = "bookworm";
const PACKAGES: &str = "systemd,systemd-sysv,dbus,ca-certificates";
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const SOURCE_TOKEN: &str = "systemd-source-token-never-printed";
/// The plain unit's, `alpha`'s and `beta`'s destinations each accept only their own token.
const MAIN_TOKEN: &str = "systemd-main-destination-token";
const ALPHA_TOKEN: &str = "systemd-alpha-destination-token";
const BETA_TOKEN: &str = "systemd-beta-destination-token";

#[test]
#[ignore = "boots a systemd container: needs root, systemd-nspawn and debootstrap; .ci/run runs it"]
fn the_readme_install_works_under_a_real_systemd() {
    if let Err(why) = preconditions() {
        skip(&why);
        return;
    }
    let cache = match root_cache() {
        Ok(dir) => dir,
        Err(why) => {
            // No mirror, no root: this machine cannot make the container (a skip even in CI).
            eprintln!(
                "\n{0}\n!!! SKIPPED systemd_real: {why}\n{0}\n",
                "!".repeat(78)
            );
            return;
        }
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let source = EmulatorProcess::start(SOURCE_TOKEN);
    let main = EmulatorProcess::start(MAIN_TOKEN);
    let alpha = EmulatorProcess::start(ALPHA_TOKEN);
    let beta = EmulatorProcess::start(BETA_TOKEN);
    let content = super::harness::conference();
    let source_client = Client::new(
        EndpointConfig::new("source", url::Url::parse(&source.url).unwrap())
            .with_token(SOURCE_TOKEN),
    )
    .unwrap();
    rt.block_on(seed(&source_client, &content, &ProjectSpec::new(40)))
        .expect("seeding the source emulator");

    let c = Container::boot(&cache);
    let readme = Readme::load();
    let tokens = [SOURCE_TOKEN, MAIN_TOKEN, ALPHA_TOKEN, BETA_TOKEN];

    // --- The plain unit, installed by README steps 1-3. ---
    // Test-speed drop-in, in place before the README's daemon-reload.
    c.write(
        "/etc/systemd/system/stagesync.service.d/ci.conf",
        "[Service]\nWatchdogSec=5s\nRestartSec=1s\n",
    );
    let main_config = Edit {
        source: &source.url,
        destination: &main.url,
        schedule: "*/10 * * * * *",
        destination_rps: 10,
    };
    for block in [&readme.binary, &readme.config, &readme.unit] {
        c.run_readme(
            block,
            &[],
            |path| main_config.apply(&c.read(path)),
            |name| token_for(name, MAIN_TOKEN),
            false,
        );
    }
    let status_out = c.last_output();
    assert!(
        status_out.contains("Active: active (running)"),
        "`systemctl status stagesync` after the README's step 3:\n{status_out}"
    );

    // `systemctl start` returned: READY was sent (Type=notify), with a STATUS line.
    let show = c.show("stagesync.service");
    assert_eq!(show["ActiveState"], "active", "{show:?}");
    assert_eq!(show["Type"], "notify", "{show:?}");
    let text = &show["StatusText"];
    assert!(
        text.starts_with("ready; schedule */10 * * * * *")
            || text.starts_with("running an incremental run (catch-up)"),
        "STATUS after start: {text:?}"
    );
    let journal = c.journal("stagesync.service");
    assert!(journal.contains("Started stagesync.service"), "{journal}");
    assert!(journal.contains("daemon ready"), "{journal}");
    assert!(
        journal.contains("the last successful run is older than one schedule period"),
        "no catch-up run at the first start:\n{journal}"
    );
    let first_pid = show["MainPID"].clone();

    // --- `systemctl stop` in the middle of the initial run. ---
    let s = "/var/lib/stagesync";
    let status = c.poll("the catch-up run writing", 120, || {
        let status = c.cli_json(&["status", "--json"], s);
        let phase = status["current_run"]["phase"].as_str().unwrap_or("");
        (!phase.is_empty() && phase != "read").then_some(status)
    });
    assert_eq!(
        status["pid"].to_string(),
        first_pid,
        "`status` answered by the daemon through its socket: {status}"
    );
    c.ok("systemctl stop stagesync");
    let show = c.show("stagesync.service");
    assert_eq!(
        (show["ActiveState"].as_str(), show["Result"].as_str()),
        ("inactive", "success"),
        "{show:?}"
    );
    assert_eq!(show["ExecMainStatus"], "0", "{show:?}");
    let journal = c.journal("stagesync.service");
    assert!(journal.contains("SIGTERM received"), "{journal}");
    assert!(journal.contains("stopped"), "{journal}");
    assert!(!journal.contains("Failed with result"), "{journal}");

    // The next start resumes: it runs at once (no success yet) and completes.
    c.ok("systemctl start stagesync");
    let runs = c.poll("the resumed run to succeed", 240, || {
        let runs = c.cli_json(&["checkpoints", "--json"], s);
        let list = runs.as_array().cloned().unwrap_or_default();
        list.iter()
            .any(|r| r["status"] == "succeeded")
            .then_some(list)
    });
    // Newest first: the stopped run is the oldest.
    assert_eq!(
        runs.last().unwrap()["status"],
        "interrupted",
        "the stopped run is recorded as interrupted, not failed: {runs:?}"
    );
    let resumed = runs.iter().find(|r| r["status"] == "succeeded").unwrap();
    rt.block_on(assert_same_content(&source.url, &main.url));

    // --- A run on schedule (every 10 s), logged once at each end. ---
    let after = resumed["id"].as_u64().unwrap();
    let scheduled = c.poll("a scheduled run", 120, || {
        let journal = c.journal("stagesync.service");
        journal
            .lines()
            .find(|l| {
                l.contains("run started")
                    && l.contains("reason=\"schedule\"")
                    && run_id(l).is_some_and(|id| id > after)
            })
            .and_then(run_id)
    });
    c.poll("the scheduled run to succeed", 120, || {
        c.cli_json(&["checkpoints", "--json"], s)
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"].as_u64() == Some(scheduled) && r["status"] == "succeeded")
            .then_some(())
    });
    let journal = c.journal("stagesync.service");
    for id in 1..=scheduled {
        for what in ["run started", "run finished"] {
            let n = journal
                .lines()
                .filter(|l| l.contains(what) && run_id(l) == Some(id))
                .count();
            assert_eq!(n, 1, "{what:?} for run {id} logged {n} times:\n{journal}");
        }
    }

    // --- trigger, trigger --full, status and checkpoints through the socket. ---
    let answer = c.cli(&["trigger"], s);
    assert!(
        answer == "an incremental run started"
            || answer == "a run is in progress; an incremental run starts when it ends",
        "{answer:?}"
    );
    let answer = c.cli(&["trigger", "--full"], s);
    assert!(
        answer == "a full run started"
            || answer == "a run is in progress; a full run starts when it ends",
        "{answer:?}"
    );
    let full = c.poll("a full run to succeed", 240, || {
        c.cli_json(&["checkpoints", "--json"], s)
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["mode"] == "full" && r["status"] == "succeeded")
            .cloned()
    });
    let id = full["id"].as_u64().unwrap();
    let shown = c.cli_json(&["checkpoints", "show", &id.to_string(), "--json"], s);
    assert_eq!(shown["mode"], "full", "{shown}");
    let status = c.cli_json(&["status", "--json"], s);
    assert_eq!(
        status["pid"].to_string(),
        c.show("stagesync.service")["MainPID"]
    );
    assert!(
        status["last_runs"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{status}"
    );
    c.poll("STATUS showing the last result", 60, || {
        let text = c.show("stagesync.service")["StatusText"].clone();
        text.starts_with("last: run ").then_some(())
    });
    rt.block_on(assert_same_content(&source.url, &main.url));

    // --- The watchdog restarts a stopped (SIGSTOP) daemon. ---
    let before = c.show("stagesync.service");
    c.ok(&format!("kill -STOP {}", before["MainPID"]));
    let after = c.poll("the watchdog restart", 120, || {
        let show = c.show("stagesync.service");
        (show["ActiveState"] == "active"
            && show["MainPID"] != before["MainPID"]
            && show["NRestarts"] != before["NRestarts"])
            .then_some(show)
    });
    let restarts = |s: &HashMap<String, String>| s["NRestarts"].parse::<u32>().unwrap();
    assert_eq!(restarts(&after), restarts(&before) + 1, "{after:?}");
    let journal = c.journal("stagesync.service");
    assert!(journal.contains("Watchdog timeout"), "{journal}");
    let status = c.cli_json(&["status", "--json"], s);
    assert_eq!(status["pid"].to_string(), after["MainPID"], "{status}");

    // --- Template instances, by the README's template block. ---
    c.write(
        "/etc/systemd/system/stagesync@.service.d/ci.conf",
        "[Service]\nRestartSec=1s\n",
    );
    fn fast<'a>(source: &'a EmulatorProcess, dest: &'a EmulatorProcess) -> Edit<'a> {
        Edit {
            source: &source.url,
            destination: &dest.url,
            schedule: "0 0 * * * *",
            destination_rps: 200,
        }
    }
    for (name, dest, token) in [("alpha", &alpha, ALPHA_TOKEN), ("beta", &beta, BETA_TOKEN)] {
        let edit = fast(&source, dest);
        c.run_readme(
            &readme.template,
            &[("N", name)],
            |path| edit.apply(&c.read(path)),
            |n| token_for(n, token),
            false,
        );
        let show = c.show(&format!("stagesync@{name}.service"));
        assert_eq!(show["ActiveState"], "active", "{name}: {show:?}");
    }
    for (name, dest) in [("alpha", &alpha), ("beta", &beta)] {
        let dir = format!("/var/lib/stagesync-{name}");
        c.poll(&format!("{name}'s first run"), 120, || {
            c.cli_json(&["checkpoints", "--json"], &dir)
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["status"] == "succeeded")
                .then_some(())
        });
        rt.block_on(assert_same_content(&source.url, &dest.url));
    }
    // Side by side: three active daemons, three users, three state directories.
    let mut uids = Vec::new();
    for (unit, user, state) in [
        ("stagesync.service", "stagesync", "stagesync"),
        (
            "stagesync@alpha.service",
            "stagesync-alpha",
            "stagesync-alpha",
        ),
        ("stagesync@beta.service", "stagesync-beta", "stagesync-beta"),
    ] {
        let show = c.show(unit);
        assert_eq!(show["ActiveState"], "active", "{unit}: {show:?}");
        assert_eq!(show["User"], user, "{unit}");
        let uid = c
            .ok(&format!("cat /proc/{}/status", show["MainPID"]))
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().next())
            .unwrap()
            .to_owned();
        let owner = c.ok(&format!("stat -c %u /var/lib/private/{state}"));
        assert_eq!(owner.trim(), uid, "{unit}: its state directory is its own");
        assert!(
            c.ok(&format!("ls /var/lib/{state}"))
                .contains("stagesync.sock"),
            "{unit}: its socket in its own state directory"
        );
        uids.push(uid);
    }
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 3, "each unit runs as its own user: {uids:?}");

    // --- Errors that cannot fix themselves stop the start at once, without restarting. ---
    // A config error: exit 2, failed (not auto-restart), the key named.
    let broken = Edit {
        source: &source.url,
        destination: &beta.url,
        schedule: "0 0 * * * *",
        destination_rps: 5,
    };
    c.run_readme(
        &readme.template,
        &[("N", "broken")],
        |path| {
            broken
                .apply(&c.read(path))
                .replace("skip_models = []", "skip_modles = []")
        },
        |n| token_for(n, BETA_TOKEN),
        true,
    );
    let show = c.show("stagesync@broken.service");
    assert_eq!(
        (
            show["ActiveState"].as_str(),
            show["SubState"].as_str(),
            show["Result"].as_str(),
            show["ExecMainStatus"].as_str(),
            show["NRestarts"].as_str()
        ),
        ("failed", "failed", "exit-code", "2", "0"),
        "{show:?}"
    );
    let journal = c.journal("stagesync@broken.service");
    assert!(journal.contains("skip_modles"), "{journal}");

    // No CA certificates: exit 2 with the fix, no waiting for the endpoints.
    c.write(
        "/etc/systemd/system/stagesync@noca.service.d/ci.conf",
        "[Service]\nEnvironment=SSL_CERT_FILE=/nonexistent SSL_CERT_DIR=/nonexistent\n",
    );
    let noca = fast(&source, &beta);
    c.run_readme(
        &readme.template,
        &[("N", "noca")],
        |path| noca.apply(&c.read(path)),
        |n| token_for(n, BETA_TOKEN),
        true,
    );
    let show = c.show("stagesync@noca.service");
    assert_eq!(
        (show["SubState"].as_str(), show["ExecMainStatus"].as_str()),
        ("failed", "2"),
        "{show:?}"
    );
    let journal = c.journal("stagesync@noca.service");
    assert!(journal.contains("No CA certificates"), "{journal}");
    assert!(journal.contains("ca-certificates"), "{journal}");
    assert!(!journal.contains("waiting for the"), "{journal}");

    // A refused token (exit 1) is retried, up to the start limit, then the unit stays failed.
    let refused = fast(&source, &alpha);
    c.run_readme(
        &readme.template,
        &[("N", "refused")],
        |path| refused.apply(&c.read(path)),
        |n| token_for(n, "not-alphas-token"),
        true,
    );
    let journal = c.poll("the start limit", 120, || {
        let journal = c.journal("stagesync@refused.service");
        journal
            .contains("Start request repeated too quickly")
            .then_some(journal)
    });
    assert!(journal.contains("refused the token"), "{journal}");
    let show = c.show("stagesync@refused.service");
    assert_eq!(
        (
            show["ActiveState"].as_str(),
            show["SubState"].as_str(),
            show["ExecMainStatus"].as_str(),
            show["NRestarts"].as_str()
        ),
        ("failed", "failed", "1", "5"),
        "StartLimitBurst=5 restarts, then failed: {show:?}"
    );

    // --- Exposure, as systemd itself scores the loaded units. ---
    for unit in ["stagesync.service", "stagesync@alpha.service"] {
        let report = c.ok(&format!("systemd-analyze security --no-pager {unit}"));
        let score: f64 = report
            .lines()
            .find_map(|l| l.split("exposure level for ").nth(1))
            .and_then(|l| l.split(": ").nth(1))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no score in {report}"));
        assert!(score <= 2.0, "{unit}: exposure {score}\n{report}");
    }

    // The units are all still there, and no token reached the journal.
    for unit in [
        "stagesync.service",
        "stagesync@alpha.service",
        "stagesync@beta.service",
    ] {
        assert_eq!(c.show(unit)["ActiveState"], "active", "{unit}");
    }
    let all = c.ok("journalctl --no-pager -o cat");
    for token in tokens {
        assert!(!all.contains(token), "a token reached the journal");
    }
}

/// Why this machine cannot run the test, if it cannot.
fn preconditions() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("?");
    if uid != "0" {
        return Err(format!("not root (effective uid {uid})"));
    }
    for tool in ["systemd-nspawn", "nsenter"] {
        if !on_path(tool) {
            return Err(format!(
                "`{tool}` not found (apt-get install systemd-container util-linux)"
            ));
        }
    }
    Ok(())
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// A loud skip, or a failure when CI requires the test (`STAGESYNC_SYSTEMD_REQUIRED=1`).
fn skip(why: &str) {
    let message = format!("systemd_real: cannot boot a systemd container here: {why}");
    if std::env::var_os("STAGESYNC_SYSTEMD_REQUIRED").is_some_and(|v| v == "1") {
        panic!("{message}");
    }
    eprintln!(
        "\n{}\n!!! SKIPPED {message}\n{}\n",
        "!".repeat(78),
        "!".repeat(78)
    );
}

/// The cached Debian root with systemd, made by debootstrap the first time.
fn root_cache() -> Result<PathBuf, String> {
    let base = std::env::var_os("STAGESYNC_SYSTEMD_CACHE")
        .map_or_else(|| PathBuf::from("/var/cache/stagesync-ci"), PathBuf::from);
    let root = base.join(format!("{SUITE}-systemd"));
    if root.join("usr/lib/systemd/systemd").is_file() {
        return Ok(root);
    }
    if !on_path("debootstrap") {
        return Err(
            "no cached root and `debootstrap` not found (apt-get install debootstrap)".into(),
        );
    }
    std::fs::create_dir_all(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    let mirror = mirror();
    // Built beside the cache and renamed into place, so a half-made root is never used. A failed
    // attempt is left for inspection (debootstrap may still have mounts inside it).
    let work = base.join(format!(".debootstrap-{}", std::process::id()));
    eprintln!(
        "systemd_real: debootstrap {SUITE} from {mirror} into {} (once)",
        work.display()
    );
    let mut child = Command::new("debootstrap")
        .args(["--variant=minbase", &format!("--include={PACKAGES}"), SUITE])
        .arg(&work)
        .arg(&mirror)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("debootstrap: {e}"))?;
    let stderr = drain(child.stderr.take().unwrap());
    let status = wait_for(&mut child, Duration::from_secs(900));
    let Some(status) = status else {
        return Err(format!(
            "debootstrap from {mirror} did not finish in 15 minutes"
        ));
    };
    if !status.success() {
        return Err(format!(
            "debootstrap from {mirror} failed ({status}); is the mirror reachable? {}",
            stderr.join().unwrap_or_default()
        ));
    }
    match std::fs::rename(&work, &root) {
        Ok(()) => Ok(root),
        // Another run made it meanwhile.
        Err(_) if root.join("usr/lib/systemd/systemd").is_file() => Ok(root),
        Err(e) => Err(format!("{} -> {}: {e}", work.display(), root.display())),
    }
}

/// `$STAGESYNC_DEBIAN_MIRROR`, else the Debian mirror apt already uses, else deb.debian.org.
fn mirror() -> String {
    if let Ok(m) = std::env::var("STAGESYNC_DEBIAN_MIRROR") {
        return m;
    }
    let mut texts = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        for entry in dir.flatten() {
            if entry
                .path()
                .extension()
                .is_some_and(|e| e == "sources" || e == "list")
            {
                texts.push(std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
    }
    texts.push(std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default());
    for text in texts {
        for line in text.lines().map(str::trim) {
            let url = line.strip_prefix("URIs:").map(str::trim).or_else(|| {
                line.strip_prefix("deb ")
                    .and_then(|l| l.split_whitespace().next())
            });
            if let Some(url) = url.and_then(|u| u.split_whitespace().next()) {
                if url.starts_with("http") && url.trim_end_matches('/').ends_with("/debian") {
                    return url.to_owned();
                }
            }
        }
    }
    "http://deb.debian.org/debian".into()
}

fn wait_for(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn drain(pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut pipe = pipe;
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Dies with the test: SIGTERM (or `signal`) when the spawning thread's process ends.
fn die_with_parent(cmd: &mut Command, signal: nix::sys::signal::Signal) {
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || nix::sys::prctl::set_pdeathsig(signal).map_err(std::io::Error::from));
    }
}

/// `stagesync emulator` on 127.0.0.1, stopped by its id when dropped.
struct EmulatorProcess {
    child: Child,
    url: String,
}

impl EmulatorProcess {
    fn start(token: &str) -> EmulatorProcess {
        let mut cmd = Command::new(common::stagesync_bin());
        cmd.args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--token",
            token,
            "--model",
        ])
        .arg(common::project_fixture("conference.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        die_with_parent(&mut cmd, nix::sys::signal::Signal::SIGKILL);
        let mut child = cmd.spawn().expect("stagesync emulator");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the emulator printed its URL")
            .trim()
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
        EmulatorProcess { child, url }
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Source and destination hold the same content (ids mapped by identity key), no duplicates.
async fn assert_same_content(source: &str, destination: &str) {
    let dump = |url: &str| {
        let url = url::Url::parse(url)
            .unwrap()
            .join("/__emulator/dump")
            .unwrap();
        async move {
            reqwest::get(url)
                .await
                .expect("dump")
                .json::<Value>()
                .await
                .expect("dump JSON")
        }
    };
    let (s, d) = (dump(source).await, dump(destination).await);
    assert!(
        super::harness::duplicates(&d).is_empty(),
        "{:?}",
        super::harness::duplicates(&d)
    );
    let diff = super::harness::json_diff(
        &super::harness::normalized_dump(&s),
        &super::harness::normalized_dump(&d),
    );
    assert!(
        diff.is_empty(),
        "source and destination differ:\n{}",
        diff.join("\n")
    );
}

/// `sudoedit` of the installed example: the emulators' URLs, a schedule, and rates that make
/// the plain unit's initial run long enough to be stopped in the middle.
struct Edit<'a> {
    source: &'a str,
    destination: &'a str,
    schedule: &'a str,
    destination_rps: u32,
}

impl Edit<'_> {
    fn apply(&self, example: &str) -> String {
        let mut section = String::new();
        let mut edited = 0;
        let mut out = String::new();
        for line in example.lines() {
            if line.starts_with('[') {
                section = line.trim().to_owned();
            }
            let replacement = match (section.as_str(), line.trim()) {
                ("", l) if l.starts_with("schedule = ") => {
                    Some(format!("schedule = \"{}\"", self.schedule))
                }
                ("[source]", l) if l.starts_with("url = ") => {
                    Some(format!("url = \"{}\"", self.source))
                }
                ("[destination]", l) if l.starts_with("url = ") => {
                    Some(format!("url = \"{}\"", self.destination))
                }
                ("[source]", "# requests_per_second = 5") => {
                    Some("requests_per_second = 200".to_owned())
                }
                ("[destination]", "# requests_per_second = 5") => {
                    Some(format!("requests_per_second = {}", self.destination_rps))
                }
                ("[batch]", "# max_mutations = 200") => Some("max_mutations = 2".to_owned()),
                ("[batch]", "# concurrency = 4") => Some("concurrency = 1".to_owned()),
                ("[retry]", "# initial_secs = 5") => Some("initial_secs = 1".to_owned()),
                _ => None,
            };
            match replacement {
                Some(r) => {
                    edited += 1;
                    out.push_str(&r);
                }
                None => out.push_str(line),
            }
            out.push('\n');
        }
        assert_eq!(edited, 8, "the example config changed shape:\n{example}");
        out
    }
}

fn token_for(credential: &str, destination: &str) -> String {
    if credential.contains("source-token") {
        SOURCE_TOKEN.to_owned()
    } else {
        destination.to_owned()
    }
}

/// The run id in a `run started`/`run finished` line (`run=3`).
fn run_id(line: &str) -> Option<u64> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("run="))
        .and_then(|v| v.parse().ok())
}

/// The shell blocks of README's "Install as a systemd service" section.
struct Readme {
    binary: Vec<String>,
    config: Vec<String>,
    unit: Vec<String>,
    template: Vec<String>,
}

impl Readme {
    fn load() -> Readme {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
        let start = text
            .find("## Install as a systemd service")
            .expect("README: an install section");
        let section = &text[start..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
        let mut blocks: Vec<Vec<String>> = Vec::new();
        let mut current: Option<Vec<String>> = None;
        for line in section.lines() {
            match (&mut current, line.trim_start()) {
                (None, "```sh") => current = Some(Vec::new()),
                (Some(_), "```") => blocks.push(current.take().unwrap()),
                (Some(block), _) => block.push(line.to_owned()),
                _ => {}
            }
        }
        let find = |what: &str, line: &dyn Fn(&str) -> bool| {
            blocks
                .iter()
                .find(|b| b.iter().any(|l| line(l.trim())))
                .unwrap_or_else(|| panic!("README install section: no block that {what}"))
                .clone()
        };
        Readme {
            binary: find("installs the binary", &|l| {
                l.contains("install -m 0755 target/release/stagesync")
            }),
            config: find("writes the tokens", &|l| {
                l.contains("/etc/stagesync/credentials/source-token")
            }),
            unit: find("starts stagesync", &|l| {
                l.ends_with("systemctl enable --now stagesync")
            }),
            template: find("starts an instance", &|l| {
                l.contains("systemctl enable --now stagesync@")
            }),
        }
    }
}

/// A booted systemd in a copy of the cached root; powered off and removed when dropped.
struct Container {
    nspawn: Child,
    leader: i32,
    root: tempfile::TempDir,
    last: std::cell::RefCell<String>,
}

impl Container {
    fn boot(cache: &Path) -> Container {
        let base = cache.parent().unwrap();
        let root = tempfile::Builder::new()
            .prefix("run-")
            .tempdir_in(base)
            .unwrap();
        let copy = Command::new("cp")
            .args(["-a", "--reflink=auto"])
            .arg(format!("{}/.", cache.display()))
            .arg(root.path())
            .status()
            .unwrap();
        assert!(copy.success(), "copying the cached root");
        let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd");
        let mut cmd = Command::new("systemd-nspawn");
        cmd.arg("-D")
            .arg(root.path())
            .args([
                "-b",
                "--register=no",
                "--keep-unit",
                "--link-journal=no",
                "--console=passive",
            ])
            // The README's commands run in /src, a checkout as far as they can tell.
            .arg(format!("--bind-ro={}:/src/systemd", units.display()))
            .arg(format!(
                "--bind-ro={}:/src/target/release/stagesync",
                common::stagesync_bin().display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        die_with_parent(&mut cmd, nix::sys::signal::Signal::SIGTERM);
        let nspawn = cmd.spawn().expect("systemd-nspawn");
        let mut c = Container {
            leader: 0,
            nspawn,
            root,
            last: Default::default(),
        };
        c.leader = c.poll("the container's init", 60, || {
            let pid = c.nspawn.id();
            std::fs::read_dir(format!("/proc/{pid}/task"))
                .ok()?
                .flatten()
                .find_map(|t| {
                    let children = std::fs::read_to_string(t.path().join("children")).ok()?;
                    children.split_whitespace().next()?.parse::<i32>().ok()
                })
        });
        let state = c.poll("the boot to finish", 120, || {
            let out = c.exec("systemctl is-system-running --wait", &[], None);
            let state = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            matches!(state.as_str(), "running" | "degraded").then_some(state)
        });
        if state == "degraded" {
            eprintln!("{}", c.ok("systemctl --failed --no-pager"));
        }
        c
    }

    /// Runs `script` with `sh` inside, in /src, with a clean environment.
    fn exec(&self, script: &str, env: &[(&str, &str)], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new("timeout");
        cmd.args(["--kill-after=5", "120", "nsenter", "-t"])
            .arg(self.leader.to_string())
            .args(["-a", "env", "-i"])
            .arg(format!("PATH={PATH}"))
            .args(["SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", "LANG=C.UTF-8"]);
        for (k, v) in env {
            cmd.arg(format!("{k}={v}"));
        }
        cmd.args(["sh", "-c", &format!("cd /src && {script}")])
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs and asserts success; returns stdout.
    fn ok(&self, script: &str) -> String {
        let out = self.exec(script, &[], None);
        assert!(
            out.status.success(),
            "`{script}` in the container: {}",
            describe(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs one block of the README line by line, as its reader would.
    fn run_readme(
        &self,
        block: &[String],
        env: &[(&str, &str)],
        edit: impl Fn(&str) -> String,
        token: impl Fn(&str) -> String,
        last_may_fail: bool,
    ) {
        let lines: Vec<String> = block
            .iter()
            .map(|l| match l.find("  #") {
                Some(i) => l[..i].trim().to_owned(),
                None => l.trim().to_owned(),
            })
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let vars: HashMap<&str, &str> = env.iter().copied().collect();
        for (i, line) in lines.iter().enumerate() {
            let command = line.strip_prefix("sudo ").unwrap_or(line);
            if command.starts_with("cargo build") {
                // The binary is the one this test run built, bound at /src/target/release.
                continue;
            }
            if let Some(path) = command.strip_prefix("sudoedit ") {
                let path = expand(path.trim(), &vars);
                let text = edit(&path);
                self.write(&path, &text);
                continue;
            }
            let stdin = command.contains("cat > ").then(|| token(command));
            let out = self.exec(command, env, stdin.as_deref());
            *self.last.borrow_mut() = String::from_utf8_lossy(&out.stdout).into_owned();
            let last = i + 1 == lines.len();
            if !(last && last_may_fail) {
                assert!(
                    out.status.success(),
                    "README: `{line}` {env:?}: {}",
                    describe(&out)
                );
            }
        }
    }

    fn last_output(&self) -> String {
        self.last.borrow().clone()
    }

    /// A file in the container, written from the host.
    fn write(&self, path: &str, text: &str) {
        let host = self.root.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(host.parent().unwrap()).unwrap();
        std::fs::write(&host, text).unwrap();
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root.path().join(path.trim_start_matches('/')))
            .unwrap_or_else(|e| panic!("{path} in the container: {e}"))
    }

    fn show(&self, unit: &str) -> HashMap<String, String> {
        let props = [
            "ActiveState",
            "SubState",
            "Result",
            "ExecMainStatus",
            "MainPID",
            "NRestarts",
            "StatusText",
            "Type",
            "User",
        ];
        let mut script = format!("systemctl show {unit}");
        for p in props {
            script.push_str(&format!(" -p {p}"));
        }
        self.ok(&script)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// The unit's journal: systemd's lines about it and the daemon's own, escapes removed.
    fn journal(&self, unit: &str) -> String {
        common::strip_ansi(&self.ok(&format!("journalctl --no-pager -o cat -u {unit}")))
    }

    /// A CLI command as root through the state directory (the daemon's socket); stdout.
    fn cli(&self, args: &[&str], state_dir: &str) -> String {
        let script = format!("stagesync {} --state-dir {state_dir}", args.join(" "));
        self.ok(&script).trim().to_owned()
    }

    fn cli_json(&self, args: &[&str], state_dir: &str) -> Value {
        let text = self.cli(args, state_dir);
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"));
        super::common::unversioned(value)
    }

    fn poll<T>(&self, what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = f() {
                return v;
            }
            if Instant::now() > deadline {
                let units = self.exec(
                    "systemctl list-units --all --no-pager 'stagesync*'; \
                     journalctl --no-pager -o short-precise -n 80 -u 'stagesync*'",
                    &[],
                    None,
                );
                panic!("timed out waiting for {what}\n{}", describe(&units));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if self.leader > 0 {
            let _ = self.exec("systemctl poweroff", &[], None);
        }
        if wait_for_exit(&mut self.nspawn, Duration::from_secs(30)) {
            return;
        }
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        let _ = kill(Pid::from_raw(self.nspawn.id() as i32), Signal::SIGTERM);
        if wait_for_exit(&mut self.nspawn, Duration::from_secs(15)) {
            return;
        }
        // Killing the container's init ends every process in its namespace.
        if self.leader > 0 {
            let _ = kill(Pid::from_raw(self.leader), Signal::SIGKILL);
        }
        let _ = self.nspawn.kill();
        let _ = self.nspawn.wait();
    }
}

fn wait_for_exit(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn expand(text: &str, vars: &HashMap<&str, &str>) -> String {
    let mut out = text.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("${k}"), v);
    }
    out
}

fn describe(out: &Output) -> String {
    format!(
        "{}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
