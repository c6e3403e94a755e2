//! Integration tests: `stagesync checkpoints` and `reset` with the real binary on real stores
//! (no daemon: the store is opened directly).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use stagesync::store::{
    Acked, Checkpoint, EndpointCounts, EntryFailure, Hashes, ModelCounts, NodeRecord, RunMode,
    RunRecord, RunStatus, Store,
};

use crate::common;

fn stagesync(state: &Path, args: &[&str]) -> Output {
    Command::new(common::stagesync_bin())
        .args(args)
        .arg("--state-dir")
        .arg(state)
        .arg("--config")
        .arg(state.join("no-config.toml"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&stdout(out)).unwrap();
    common::unversioned(v)
}

const T0: i64 = 1_714_557_600_000; // 2024-05-01T10:00:00Z

fn run(id: u64, mode: RunMode, status: RunStatus, talks: u64) -> RunRecord {
    RunRecord {
        id,
        started_at: T0 + id as i64 * 3_600_000,
        finished_at: (status != RunStatus::Running).then_some(T0 + id as i64 * 3_600_000 + 4_000),
        mode,
        status,
        models: vec![
            ModelCounts {
                model: "Talk".into(),
                read: talks,
                created: talks,
                ..Default::default()
            },
            ModelCounts {
                model: "Speaker".into(),
                read: 2,
                updated: 1,
                unchanged: 1,
                ..Default::default()
            },
        ],
        failures: vec![],
        source: EndpointCounts {
            requests: 10 + id,
            bytes_received: 5000,
            ..Default::default()
        },
        destination: EndpointCounts {
            requests: 3,
            mutations: talks,
            bytes_sent: 900,
            ..Default::default()
        },
    }
}

/// Three runs: an incremental success, a full run with one failed entry, an interrupted one.
fn seed(dir: &Path) {
    let store = Store::open(dir).unwrap();
    store
        .put_run(&run(1, RunMode::Incremental, RunStatus::Succeeded, 5))
        .unwrap();
    let mut full = run(2, RunMode::Full, RunStatus::CompletedWithFailures(1), 7);
    full.models[0].failed = 1;
    full.failures.push(EntryFailure {
        model: "Talk".into(),
        source_id: "talk-7".into(),
        phase: "content".into(),
        message: "value too long for field title".into(),
    });
    store.put_run(&full).unwrap();
    store
        .put_run(&run(3, RunMode::Incremental, RunStatus::Running, 1))
        .unwrap();
    store
        .put_checkpoint(&Checkpoint {
            run: 3,
            phase: "edges".into(),
            model: "Talk".into(),
            pages_read: 2,
            entries_read: 9,
            batches_acked: 4,
            writes_pending: 3,
        })
        .unwrap();
    let seen = Hashes {
        content: [1; 32],
        edges: [2; 32],
        publication: [3; 32],
        publication_content: [4; 32],
    };
    let done = NodeRecord {
        seen: Some(seen),
        changed_run: 1,
        acked: Acked {
            content: Some([1; 32]),
            edges: Some([2; 32]),
            publication: Some([3; 32]),
            locales: vec!["en".into()],
            ..Default::default()
        },
        dest_id: Some("dest-1".into()),
        acked_run: 2,
        seen_raw: None,
    };
    let pending = NodeRecord {
        changed_run: 3,
        acked: Acked {
            content: Some([9; 32]),
            ..done.acked.clone()
        },
        ..done.clone()
    };
    store
        .commit_acks(&[
            ("Talk", "talk-1", &done),
            ("Talk", "talk-2", &pending),
            ("Speaker", "sp-1", &done),
        ])
        .unwrap();
    store.flush().unwrap();
}

#[test]
fn an_empty_state_dir_lists_nothing_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = stagesync(dir.path(), &["checkpoints"]);
    assert_eq!(stdout(&out), "no runs stored yet\n");
    assert_eq!(
        json(&stagesync(dir.path(), &["checkpoints", "--json"])),
        serde_json::json!([])
    );
    assert_eq!(
        json(&stagesync(dir.path(), &["checkpoints", "models", "--json"])),
        serde_json::json!([])
    );
    let out = stagesync(dir.path(), &["checkpoints", "show", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no run 1 is stored"));
    let status = json(&stagesync(dir.path(), &["status", "--json"]));
    assert_eq!(status["daemon"], "not-running");
    assert_eq!(status["last_runs"], serde_json::json!([]));
    assert!(!dir.path().join("store").exists());
}

#[test]
fn checkpoints_list_the_runs_that_were_made() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());

    let list = json(&stagesync(dir.path(), &["checkpoints", "--json"]));
    let runs = list.as_array().unwrap();
    assert_eq!(runs.len(), 3);
    let fields = |i: usize, key: &str| runs[i][key].clone();
    assert_eq!(
        (0..3).map(|i| fields(i, "id")).collect::<Vec<_>>(),
        [3, 2, 1]
    );
    assert_eq!(fields(0, "status"), "interrupted");
    assert_eq!(fields(1, "mode"), "full");
    assert_eq!(fields(1, "status"), "completed-with-failures");
    assert_eq!(fields(2, "mode"), "incremental");
    assert_eq!(fields(2, "status"), "succeeded");
    assert_eq!(fields(2, "started_at"), "2024-05-01T11:00:00Z");
    assert_eq!(fields(2, "duration_secs"), 4.0);
    assert_eq!(fields(2, "requests"), 14);
    assert_eq!(runs[1]["counts"]["created"], 7);
    assert_eq!(runs[1]["counts"]["updated"], 1);
    assert_eq!(runs[1]["counts"]["failed"], 1);

    let text = stdout(&stagesync(dir.path(), &["checkpoints", "list"]));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("RUN  STARTED"), "{text}");
    assert!(
        lines[1].starts_with("3 ") && lines[1].contains("interrupted"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("2 ") && lines[2].contains("full") && lines[2].contains("4.0 s"),
        "{text}"
    );
    assert!(
        lines[3].contains("incremental") && lines[3].contains("succeeded"),
        "{text}"
    );
}

#[test]
fn checkpoints_show_a_run_with_failures_and_where_an_unfinished_one_stopped() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());

    let full = json(&stagesync(
        dir.path(),
        &["checkpoints", "show", "2", "--json"],
    ));
    assert_eq!(full["mode"], "full");
    assert_eq!(full["models"][0]["model"], "Talk");
    assert_eq!(full["models"][0]["created"], 7);
    assert_eq!(full["failures"][0]["source_id"], "talk-7");
    assert_eq!(full["destination"]["bytes_sent"], 900);
    assert_eq!(full["unfinished"], serde_json::Value::Null);
    let text = stdout(&stagesync(dir.path(), &["checkpoints", "show", "2"]));
    assert!(
        text.starts_with("run 2: full, completed-with-failures"),
        "{text}"
    );
    assert!(
        text.contains("Talk talk-7 (content): value too long for field title"),
        "{text}"
    );

    let open = json(&stagesync(
        dir.path(),
        &["checkpoints", "show", "3", "--json"],
    ));
    assert_eq!(open["status"], "interrupted");
    assert_eq!(open["unfinished"]["phase"], "edges");
    assert_eq!(open["unfinished"]["batches_acked"], 4);
    assert_eq!(open["unfinished"]["entries_pending"], 1);
    let text = stdout(&stagesync(dir.path(), &["checkpoints", "show", "3"]));
    assert!(
        text.contains("unfinished: stopped in phase `edges` at model Talk"),
        "{text}"
    );
    assert!(text.contains("next run:"), "{text}");
}

#[test]
fn checkpoints_models_and_entry_show_tracking_state() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());

    let models = json(&stagesync(dir.path(), &["checkpoints", "models", "--json"]));
    assert_eq!(
        models,
        serde_json::json!([
            {"model": "Speaker", "tracked": 1, "pending": 0, "last_acked_run": 2,
             "last_change_run": 1, "last_change_at": "2024-05-01T11:00:00Z"},
            {"model": "Talk", "tracked": 2, "pending": 1, "last_acked_run": 2,
             "last_change_run": 3, "last_change_at": "2024-05-01T13:00:00Z"},
        ])
    );
    let text = stdout(&stagesync(dir.path(), &["checkpoints", "models"]));
    assert!(
        text.lines()
            .nth(2)
            .unwrap()
            .split_whitespace()
            .take(3)
            .eq(["Talk", "2", "1"]),
        "{text}"
    );

    let entry = json(&stagesync(
        dir.path(),
        &["checkpoints", "entry", "Talk", "talk-2", "--json"],
    ));
    assert_eq!(entry["destination_id"], "dest-1");
    assert_eq!(entry["pending"], true);
    assert_eq!(entry["seen"]["content"], "01".repeat(32));
    assert_eq!(entry["acknowledged"]["content"], "09".repeat(32));
    assert_eq!(entry["changed_run"], 3);
    assert_eq!(entry["acked_run"], 2);
    let text = stdout(&stagesync(
        dir.path(),
        &["checkpoints", "entry", "Talk", "talk-2"],
    ));
    assert!(text.contains("destination id   dest-1"), "{text}");
    assert!(text.contains("pending          yes"), "{text}");

    let out = stagesync(dir.path(), &["checkpoints", "entry", "Talk", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no entry Talk nope is tracked"));
}

#[test]
fn reset_asks_for_yes_and_forgets_one_model_or_everything() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());

    let out = stagesync(dir.path(), &["reset"]);
    assert_eq!(out.status.code(), Some(2), "no terminal, no --yes: refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(
        json(&stagesync(dir.path(), &["checkpoints", "models", "--json"]))
            .as_array()
            .unwrap()
            .len(),
        2
    );

    stdout(&stagesync(
        dir.path(),
        &["reset", "--model", "Talk", "--yes"],
    ));
    let models = json(&stagesync(dir.path(), &["checkpoints", "models", "--json"]));
    assert_eq!(models.as_array().unwrap().len(), 1);
    assert_eq!(models[0]["model"], "Speaker");
    assert_eq!(
        json(&stagesync(dir.path(), &["checkpoints", "--json"]))
            .as_array()
            .unwrap()
            .len(),
        3,
        "a model reset keeps the run history"
    );

    stdout(&stagesync(dir.path(), &["reset", "--yes"]));
    assert_eq!(
        json(&stagesync(dir.path(), &["checkpoints", "--json"])),
        serde_json::json!([])
    );
    assert_eq!(
        json(&stagesync(dir.path(), &["checkpoints", "models", "--json"])),
        serde_json::json!([])
    );
}
