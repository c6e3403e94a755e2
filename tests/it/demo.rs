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
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("Both sides match."), "{err}");
    // The incremental run wrote only the handful of edits.
    assert!(
        err.contains("The incremental sync writes only those changes"),
        "{err}"
    );
    // The state is where the user asked for it, and inspectable.
    assert!(dir.path().join("state/store").is_dir());
}
