//! The command line as a user meets it, with the real binary: what each command produces goes to
//! stdout and only logs to stderr; logs are quiet by default; every `--json` is a versioned
//! object holding its documented fields; the same problem exits with the same code everywhere;
//! progress bars appear on a terminal only (or when forced).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use stagesync::demo::files::FileServer;
use stagesync::demo::project::ProjectSpec;

use super::common;
use super::harness::{assert_no_token, conference, Pair};

async fn seeded(entries: usize, extra: &str, dest_rps: u32) -> (Pair, FileServer) {
    let content = conference();
    let pair = Pair::start_configured(content.clone(), extra, dest_rps).await;
    let mut spec = ProjectSpec::new(entries);
    spec.assets = 3;
    let files = pair.seed_source(spec).await;
    (pair, files)
}

/// The binary with `--config`, the user's default logging (no `RUST_LOG`), run to its end in
/// a blocking thread (the emulators keep serving on the test's runtime).
async fn stagesync(config: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(common::stagesync_bin());
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env_remove("RUST_LOG")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null());
    finish(cmd).await
}

/// The binary without `--config` (commands that take none).
async fn bare(args: &[&str]) -> Output {
    let mut cmd = Command::new(common::stagesync_bin());
    cmd.args(args).env_remove("RUST_LOG").stdin(Stdio::null());
    finish(cmd).await
}

async fn finish(mut cmd: Command) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let waited = tokio::time::timeout(
        std::time::Duration::from_secs(240),
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await;
    match waited {
        Ok(out) => {
            let out = out.unwrap().unwrap();
            assert_no_token(&out);
            out
        }
        Err(_) => {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(id as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("stagesync did not finish in time");
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Asserts stderr holds no log line (the default level is WARN; a successful command warns of
/// nothing) and returns stdout.
fn quiet_stdout(out: &Output, what: &str) -> String {
    ok(out, what);
    let err = text(&out.stderr);
    assert!(err.trim().is_empty(), "{what}: stderr is not empty:\n{err}");
    text(&out.stdout)
}

fn versioned_json(out: &Output, what: &str) -> Value {
    ok(out, what);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is not JSON ({e}):\n{}", text(&out.stdout)));
    assert_eq!(v["version"], 1, "{what}: not versioned: {v}");
    v
}

fn has_fields(v: &Value, fields: &[&str], what: &str) {
    for f in fields {
        assert!(v.get(*f).is_some(), "{what}: no `{f}` in {v}");
    }
}

/// The number in `column` of the row starting with `model`, in a table of the one style.
fn cell(table: &str, model: &str, column: &str) -> u64 {
    let mut lines = table.lines().skip_while(|l| !l.starts_with("MODEL"));
    let header: Vec<&str> = lines
        .next()
        .expect("a table header")
        .split_whitespace()
        .collect();
    let i = header
        .iter()
        .position(|h| *h == column)
        .unwrap_or_else(|| panic!("no column {column} in {header:?}"));
    let row = lines
        .find(|l| l.split_whitespace().next() == Some(model))
        .unwrap_or_else(|| panic!("no row {model} in\n{table}"));
    row.split_whitespace().nth(i).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_prints_its_output_on_stdout_and_nothing_else_on_stderr() {
    let (pair, _files) = seeded(40, "", 500).await;
    let config = pair.config.clone();

    // `plan > file` captures the plan; nothing on stderr.
    let plan_file = pair.dir.path().join("plan.txt");
    let mut cmd = Command::new(common::stagesync_bin());
    cmd.args(["plan", "--config"])
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&plan_file).unwrap())
        .stderr(Stdio::piped());
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).trim().is_empty(), "{}", text(&out.stderr));
    let plan = std::fs::read_to_string(&plan_file).unwrap();
    assert!(cell(&plan, "Talk", "CREATED") > 0, "{plan}");
    for column in [
        "CREATED",
        "UPDATED",
        "UNCHANGED",
        "DELETED",
        "EDGES",
        "PUBLISHED",
    ] {
        assert!(plan.lines().next().unwrap().contains(column), "{plan}");
    }

    let v = versioned_json(
        &stagesync(&config, &["plan", "--json"]).await,
        "plan --json",
    );
    has_fields(
        &v,
        &["run", "mode", "status", "models", "plan"],
        "plan --json",
    );
    assert_eq!(v["mode"], "dry-run");

    // A successful sync: the report on stdout, no INFO line (nothing at all) on stderr.
    let out = stagesync(&config, &["sync"]).await;
    let report = quiet_stdout(&out, "sync");
    assert!(cell(&report, "Talk", "CREATED") > 0, "{report}");
    assert!(report.contains("requests: source"), "{report}");

    // `-v` shows the INFO lines: run start and end, one "phase done" per phase.
    let out = stagesync(&config, &["sync", "--full", "-v"]).await;
    ok(&out, "sync --full -v");
    let log = text(&out.stderr);
    assert!(log.contains("INFO") && log.contains("run started"), "{log}");
    assert!(log.contains("run finished"), "{log}");
    assert!(log.contains("phase done phase=content"), "{log}");
    for phase in ["content", "edges", "publication"] {
        let done = log
            .lines()
            .filter(|l| l.contains("phase done") && l.contains(&format!("phase={phase}")))
            .count();
        assert!(done <= 1, "{done} `phase done` lines for {phase}:\n{log}");
    }
    assert!(
        !text(&out.stdout).contains("INFO"),
        "logs reached stdout:\n{}",
        text(&out.stdout)
    );

    // Under systemd the journal stamps lines: none of ours carries a timestamp.
    let mut cmd = Command::new(common::stagesync_bin());
    cmd.args(["sync", "-v", "--config"])
        .arg(&config)
        .env_remove("RUST_LOG")
        .env("JOURNAL_STREAM", "8:12345")
        .stdin(Stdio::null());
    let out = finish(cmd).await;
    ok(&out, "sync -v under the journal");
    let log = text(&out.stderr);
    assert!(log.contains("run started"), "{log}");
    assert!(
        log.lines().all(|l| l.trim_start().starts_with("INFO")),
        "a line with a timestamp (or not INFO):\n{log}"
    );

    // `sync --dry-run --full` plans the full pass; `plan` plans nothing after a sync.
    let incremental = quiet_stdout(&stagesync(&config, &["plan"]).await, "plan");
    assert_eq!(cell(&incremental, "Talk", "UPDATED"), 0, "{incremental}");
    let full = quiet_stdout(
        &stagesync(&config, &["sync", "--dry-run", "--full"]).await,
        "sync --dry-run --full",
    );
    assert!(cell(&full, "Talk", "UPDATED") > 0, "{full}");
    let full_plan = quiet_stdout(
        &stagesync(&config, &["plan", "--full"]).await,
        "plan --full",
    );
    assert_eq!(
        cell(&full_plan, "Talk", "UPDATED"),
        cell(&full, "Talk", "UPDATED")
    );

    let v = versioned_json(
        &stagesync(&config, &["sync", "--json"]).await,
        "sync --json",
    );
    has_fields(
        &v,
        &[
            "run",
            "mode",
            "status",
            "started_at",
            "finished_at",
            "duration_ms",
            "models",
            "failures",
            "source",
            "destination",
            "process",
        ],
        "sync --json",
    );
    for f in [
        "model",
        "read",
        "created",
        "updated",
        "unchanged",
        "deleted",
        "edges",
        "published",
        "unpublished",
        "failed",
    ] {
        assert!(
            v["models"][0].get(f).is_some(),
            "sync --json models: no {f}"
        );
    }

    let out = quiet_stdout(&stagesync(&config, &["verify"]).await, "verify");
    assert!(
        out.contains("verify: source and destination match"),
        "{out}"
    );
    let v = versioned_json(
        &stagesync(&config, &["verify", "--json"]).await,
        "verify --json",
    );
    has_fields(&v, &["matches", "models", "differences"], "verify --json");
    assert_eq!(v["matches"], true);
    has_fields(
        &v["models"][0],
        &["model", "source", "destination"],
        "verify --json",
    );

    let out = quiet_stdout(&stagesync(&config, &["status"]).await, "status");
    assert!(out.contains("last success"), "{out}");
    let v = versioned_json(
        &stagesync(&config, &["status", "--json"]).await,
        "status --json",
    );
    has_fields(
        &v,
        &["daemon", "last_success", "last_runs"],
        "status --json",
    );

    let out = quiet_stdout(&stagesync(&config, &["checkpoints"]).await, "checkpoints");
    assert!(out.starts_with("RUN "), "{out}");
    let v = versioned_json(
        &stagesync(&config, &["checkpoints", "--json"]).await,
        "checkpoints --json",
    );
    has_fields(
        &v["runs"][0],
        &["id", "started_at", "mode", "status"],
        "checkpoints --json",
    );
    let v = versioned_json(
        &stagesync(&config, &["checkpoints", "models", "--json"]).await,
        "checkpoints models --json",
    );
    has_fields(
        &v["models"][0],
        &["model", "tracked", "pending"],
        "checkpoints models",
    );
    let v = versioned_json(
        &stagesync(&config, &["checkpoints", "show", "1", "--json"]).await,
        "checkpoints show --json",
    );
    has_fields(
        &v,
        &[
            "id",
            "status",
            "models",
            "failures",
            "source",
            "destination",
        ],
        "checkpoints show --json",
    );

    // No daemon runs: `trigger` syncs here and prints the run's row.
    let out = quiet_stdout(&stagesync(&config, &["trigger"]).await, "trigger");
    assert!(out.starts_with("RUN "), "{out}");

    let model = common::project_fixture("conference.toml");
    let model = model.to_str().unwrap();
    let out = quiet_stdout(&bare(&["schema", model]).await, "schema");
    assert!(out.contains("Talk"), "{out}");
    let v = versioned_json(&bare(&["schema", model, "--json"]).await, "schema --json");
    has_fields(&v, &["models", "locales"], "schema --json");

    // Durations read alike in the report and in the stored runs.
    let list = quiet_stdout(&stagesync(&config, &["checkpoints"]).await, "checkpoints");
    let status = quiet_stdout(&stagesync(&config, &["status"]).await, "status");
    let last = list.lines().nth(1).unwrap().to_owned();
    assert!(status.contains(&last), "{last}\nnot in status:\n{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_that_cannot_apply_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("stagesync.toml");
    for args in [
        &["sync", "--explain"][..],
        &["sync", "--dry-run", "--allow-mass-delete"][..],
        &["sync", "--progress", "sometimes"][..],
    ] {
        let out = stagesync(&config, args).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stdout).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_config_exits_2_in_every_command_and_says_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("missing.toml");
    for args in [
        &["sync"][..],
        &["plan"][..],
        &["verify"][..],
        &["daemon"][..],
        &["status"][..],
        &["trigger"][..],
        &["checkpoints"][..],
        &["checkpoints", "models"][..],
        &["reset", "--yes"][..],
    ] {
        let out = stagesync(&config, args).await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("missing.toml") && err.contains("--config"),
            "{args:?}: {err}"
        );
        assert_eq!(
            err.matches("No such file or directory").count(),
            1,
            "{args:?}: the cause is printed more than once: {err}"
        );
        assert!(text(&out.stdout).is_empty(), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_groups_global_flags_and_lists_commands_in_order() {
    let out = Command::new(common::stagesync_bin())
        .arg("--help")
        .output()
        .unwrap();
    let help = text(&out.stdout);
    let order = [
        "demo",
        "sync",
        "plan",
        "verify",
        "daemon",
        "status",
        "trigger",
        "checkpoints",
        "reset",
        "schema",
        "emulator",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|c| {
            help.find(&format!("\n  {c} "))
                .unwrap_or_else(|| panic!("{c} missing in\n{help}"))
        })
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{help}");
    let out = Command::new(common::stagesync_bin())
        .args(["plan", "--help"])
        .output()
        .unwrap();
    let help = text(&out.stdout);
    let global = help
        .find("Global options:")
        .expect("a Global options heading");
    assert!(help.find("--json").unwrap() < global, "{help}");
    assert!(help.find("--progress").unwrap() > global, "{help}");
    assert!(help.contains("Print the plan as JSON"), "{help}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_that_names_what_the_schema_lacks_exits_2_before_any_write() {
    for (extra, needle) in [
        (
            "locales = [\"en\", \"xx\"]",
            "xx is missing in the source and destination",
        ),
        ("[identity]\nNope = \"slug\"", "Nope (in [identity])"),
        ("[identity]\nTalk = \"nope\"", "identity.Talk"),
    ] {
        let (pair, _files) = seeded(10, extra, 500).await;
        pair.dest.reset_stats();
        let out = stagesync(&pair.config, &["sync"]).await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra}: {err}");
        assert!(err.contains(needle), "{extra}: {err}");
        assert_eq!(pair.dest_mutation_count(), 0, "{extra}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_in_the_config_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJ2ZXJzaW9uIjozfQ.c2VjcmV0LXNpZ25hdHVyZQ";
    for (line, key) in [
        (format!("token = \"{token}\""), "source.token"),
        (format!("token_env = \"{token}\""), "source.token_env"),
        (format!("token_file = \"{token}\""), "source.token_file"),
        (
            format!("token_credential = \"{token}\""),
            "source.token_credential",
        ),
        // A TOML error on the line holding the token: reported by position, not quoted.
        (format!("token_env = \"{token}"), "line 3"),
    ] {
        let config = dir.path().join("stagesync.toml");
        std::fs::write(
            &config,
            format!("[source]\nurl = \"http://127.0.0.1:9/\"\n{line}\n[destination]\nurl = \"http://127.0.0.1:10/\"\n"),
        )
        .unwrap();
        let out = stagesync(&config, &["plan"]).await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{line}: {err}");
        assert!(err.contains(key), "{line}: {err}");
        assert!(
            !err.contains("c2VjcmV0"),
            "{line}: the token was printed: {err}"
        );
    }
}

/// `script` (util-linux) gives the command a pseudo-terminal.
fn script_available() -> bool {
    Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_bars_on_a_terminal_only_or_when_forced() {
    if !script_available() {
        eprintln!("skipping: no `script` command for a pseudo-terminal");
        return;
    }
    let (pair, _files) = seeded(150, "", 500).await;
    let bin = common::stagesync_bin();
    let on_terminal = |progress: &str| {
        let line = format!(
            "{} plan --progress {progress} --config {}",
            bin.display(),
            pair.config.display()
        );
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        cmd
    };
    // A bar: "read Talk ⠁ 100 entries 2409/s".
    let bar = |s: &str| s.contains(" entries ") && s.contains("/s");

    let out = finish(on_terminal("auto")).await;
    ok(&out, "plan on a terminal");
    let screen = text(&out.stdout);
    assert!(bar(&screen), "no progress bar on a terminal:\n{screen}");
    assert!(screen.contains("CREATED"), "{screen}");

    let out = finish(on_terminal("never")).await;
    ok(&out, "plan --progress never on a terminal");
    let screen = text(&out.stdout);
    assert!(!bar(&screen), "a bar despite --progress never:\n{screen}");
    assert!(screen.contains("CREATED"), "{screen}");

    let out = stagesync(&pair.config, &["plan"]).await;
    ok(&out, "plan piped");
    assert!(!bar(&text(&out.stderr)), "{}", text(&out.stderr));
    let out = stagesync(&pair.config, &["plan", "--progress", "always"]).await;
    ok(&out, "plan piped, --progress always");
    assert!(bar(&text(&out.stderr)), "{}", text(&out.stderr));
    assert!(!bar(&text(&out.stdout)), "a bar on stdout");
}

/// `plan --json` carries the plan as data: per model the counts the run will report and, with
/// `--explain`, each entry and why. Known edits on a small project, then the numbers they must
/// produce — and the run that follows reports the same creates, updates and deletes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_json_carries_the_plan_as_data_with_the_numbers_of_known_edits() {
    let pair = Pair::start(conference()).await;
    let created = pair
        .source_gql(
            "mutation { s1: createSpeaker(data: {slug: \"s1\", name: \"Ada\"}) { id } s2: createSpeaker(data: {slug: \"s2\", name: \"Grace\"}) { id } t1: createTalk(data: {slug: \"t1\", title: \"One\"}) { id } t2: createTalk(data: {slug: \"t2\", title: \"Two\"}) { id } t3: createTalk(data: {slug: \"t3\", title: \"Three\"}) { id } }",
            serde_json::json!({}),
        )
        .await;
    let id = |alias: &str| created[alias]["id"].as_str().unwrap().to_owned();
    let (s2, t1, t2, t3) = (id("s2"), id("t1"), id("t2"), id("t3"));
    pair.source_gql(
        &format!("mutation {{ publishTalk(where: {{ id: \"{t3}\" }}, to: [PUBLISHED], locales: [en]) {{ id }} }}"),
        serde_json::json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;

    // Talk: t1's title (an update), t2's one-way relatedTalks (edges), t3 unpublished.
    // Speaker: s2 deleted, s3 new, s1 untouched.
    pair.source_gql(
        &format!("mutation {{ a: updateTalk(where: {{ id: \"{t1}\" }}, data: {{ title: \"One, revised\" }}) {{ id }} b: updateTalk(where: {{ id: \"{t2}\" }}, data: {{ relatedTalks: {{ set: [{{ id: \"{t1}\" }}] }} }}) {{ id }} c: unpublishTalk(where: {{ id: \"{t3}\" }}, from: [PUBLISHED]) {{ id }} d: deleteSpeaker(where: {{ id: \"{s2}\" }}) {{ id }} e: createSpeaker(data: {{slug: \"s3\", name: \"Edsger\"}}) {{ id }} }}"),
        serde_json::json!({}),
    )
    .await;
    let v = versioned_json(
        &stagesync(&pair.config, &["plan", "--json", "--explain"]).await,
        "plan --json --explain",
    );
    let model = |name: &str| -> Value {
        v["plan"]["models"]
            .as_array()
            .unwrap_or_else(|| panic!("no plan.models in {v}"))
            .iter()
            .find(|m| m["model"] == name)
            .unwrap_or_else(|| panic!("no {name} in {v}"))
            .clone()
    };
    let counts = |m: &Value| -> Vec<u64> {
        [
            "created",
            "updated",
            "unchanged",
            "deleted",
            "edges",
            "publication",
            "published",
            "unpublished",
        ]
        .iter()
        .map(|c| m[c].as_u64().unwrap_or_else(|| panic!("no {c} in {m}")))
        .collect()
    };
    let talk = model("Talk");
    assert_eq!(counts(&talk), [0, 1, 0, 0, 1, 1, 0, 1], "{talk}");
    let speaker = model("Speaker");
    // A new entry's relations are planned too (none here: acknowledged without a write).
    assert_eq!(counts(&speaker), [1, 0, 1, 1, 1, 0, 0, 0], "{speaker}");
    let why = |m: &Value, id: &str| -> (String, Vec<String>) {
        let e = m["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .unwrap_or_else(|| panic!("no entry {id} in {m}"));
        (
            e["action"].as_str().unwrap().to_owned(),
            serde_json::from_value(e["why"].clone()).unwrap(),
        )
    };
    // The title is localized: named with its locale where the default locale's values live.
    let (action, changed) = why(&talk, &t1);
    assert!(
        action == "write" && changed.len() == 1 && changed[0].starts_with("title"),
        "{talk}"
    );
    assert_eq!(why(&talk, &t2).1, ["relatedTalks (relation)"]);
    assert_eq!(
        why(&speaker, &s2),
        ("delete".into(), vec!["deleted in the source".to_string()])
    );
    assert_eq!(talk["entries"].as_array().unwrap().len(), 3, "{talk}");

    // The table says the same; the run reports what the plan said it would write.
    let table = quiet_stdout(&stagesync(&pair.config, &["plan"]).await, "plan");
    assert_eq!(cell(&table, "Talk", "UPDATED"), 1, "{table}");
    assert_eq!(cell(&table, "Speaker", "DELETED"), 1, "{table}");
    let report = versioned_json(
        &stagesync(&pair.config, &["sync", "--json"]).await,
        "sync --json",
    );
    assert!(report["plan"].is_null(), "{report}");
    let ran = |name: &str, c: &str| {
        report["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["model"] == name)
            .unwrap()[c]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        [
            ran("Talk", "updated"),
            ran("Talk", "unpublished"),
            ran("Speaker", "created"),
            ran("Speaker", "deleted")
        ],
        [1, 1, 1, 1],
        "{report}"
    );
    pair.verify_passes().await;
}
