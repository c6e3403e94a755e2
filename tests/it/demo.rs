//! Integration test: a small demo, with the real binary — two emulators, a seeded project, an
//! initial sync, edits, an incremental sync and a verify — must exit 0.

use super::common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_demo_runs_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(240),
        tokio::process::Command::new(common::stagesync_bin())
            .args(["demo", "--entries", "120", "--state-dir"])
            .arg(dir.path().join("state"))
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the demo finishes in time")
    .unwrap();
    let story = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{story}\n{err}");
    assert!(story.contains("Both sides match."), "{story}");
    // The incremental run wrote only the handful of edits.
    assert!(
        story.contains("The incremental sync writes only those changes"),
        "{story}"
    );
    // The story only: no log line on stderr by default.
    assert!(
        err.trim().is_empty(),
        "stderr holds more than the story: {err}"
    );
    // The closing hint names the kept state, and works after the demo has ended.
    let state = dir.path().join("state");
    let hint = format!("stagesync checkpoints --state-dir {}", state.display());
    assert!(story.contains(&hint), "{story}");
    let after = std::process::Command::new(common::stagesync_bin())
        .current_dir(dir.path())
        .args(["checkpoints", "--state-dir"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(
        after.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    assert!(String::from_utf8_lossy(&after.stdout).contains("incremental"));
}
