//! A damaged store: flipped bytes, truncation and garbage in each file of a real synced store
//! (and a leftover snapshot file) end, for every command that opens it, in the documented
//! "store is damaged" error with the fix — exit 1, no panic, no write — and `reset --yes` then
//! one sync recover it without duplicates.

use std::path::{Path, PathBuf};

use stagesync::demo::project::{seed, ProjectSpec};

use super::harness::{conference, duplicates, Pair};

/// One way to damage one file.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// 16 bytes inverted, starting at this share (per mille) of the file.
    Flip(u64),
    /// Cut to half its length.
    Truncate,
    /// Every byte replaced (same length).
    Garbage,
}

impl Damage {
    fn apply(self, file: &Path) {
        let mut bytes = std::fs::read(file).unwrap();
        match self {
            Damage::Flip(per_mille) => {
                let len = bytes.len() as u64;
                let at = (len * per_mille / 1000).min(len.saturating_sub(16)) as usize;
                for b in bytes.iter_mut().skip(at).take(16) {
                    *b ^= 0xff;
                }
            }
            Damage::Truncate => bytes.truncate(bytes.len() / 2),
            Damage::Garbage => {
                let mut x: u32 = 0x9e37_79b9;
                for b in bytes.iter_mut() {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    *b = x as u8;
                }
            }
        }
        std::fs::write(file, bytes).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file under `dir`, relative to it, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            out.extend(
                files(&entry.path())
                    .into_iter()
                    .map(|f| PathBuf::from(entry.file_name()).join(f)),
            );
        } else {
            out.push(PathBuf::from(entry.file_name()));
        }
    }
    out.sort();
    out
}

/// A synced pair and pristine copies of its store after the first and the second sync.
struct Bench {
    pair: Pair,
    pristine: tempfile::TempDir,
    after_first: tempfile::TempDir,
}

impl Bench {
    async fn start() -> Bench {
        let pair = Pair::start(conference()).await;
        seed(&pair.source_client(), &pair.content, &ProjectSpec::new(40))
            .await
            .unwrap();
        pair.ok(&["sync"]).await;
        let after_first = tempfile::tempdir().unwrap();
        copy_dir(&pair.state_dir().join("store"), after_first.path());
        // Two runs: the store holds more than its first flush.
        pair.ok(&["sync"]).await;
        let pristine = tempfile::tempdir().unwrap();
        copy_dir(&pair.state_dir().join("store"), pristine.path());
        Bench {
            pair,
            pristine,
            after_first,
        }
    }

    fn store(&self) -> PathBuf {
        self.pair.state_dir().join("store")
    }

    /// Puts the pristine store back, damaged.
    fn damage(&self, file: &Path, damage: Option<Damage>) {
        let store = self.store();
        if store.exists() {
            std::fs::remove_dir_all(&store).unwrap();
        }
        copy_dir(self.pristine.path(), &store);
        match damage {
            Some(damage) => damage.apply(&store.join(file)),
            // A leftover snapshot file, newer than the real one, holding garbage.
            None => std::fs::write(store.join(file), vec![0x5a; 4096]).unwrap(),
        }
    }

    /// Every command that opens the store refuses it with the documented error, sync writes
    /// nothing, and `reset --yes` works — or, when the damage hit nothing the store still uses
    /// (sled's log keeps stale space), every command works and the store holds exactly what it
    /// held: never a silent loss.
    async fn assert_refused_or_intact_then_reset(&self, case: &str) -> Outcome {
        let writes_before = self.pair.dest_mutation_count();
        let status = self.pair.run(&["status"]).await;
        let undetected = status.status.code() == Some(0);
        let rolled_back = String::from_utf8_lossy(&status.stderr).contains("were lost");
        let outcome = if undetected {
            match content_of_copy(&self.store()) {
                Ok(content) => {
                    assert_eq!(
                        content,
                        content_of_copy(self.pristine.path()).unwrap(),
                        "{case}: the store opened without error but lost data"
                    );
                    Outcome::Intact
                }
                // Damage in data read later: the first command reading it must say so.
                Err(_) => Outcome::DamagedLater,
            }
        } else if rolled_back {
            Outcome::RolledBack
        } else {
            Outcome::Refused
        };
        for command in [
            &["status"][..],
            &["checkpoints"],
            &["checkpoints", "models"],
            &["verify"],
            &["sync"],
        ] {
            let out = self.pair.run(command).await;
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                !err.contains("panicked"),
                "{case}: {command:?} panicked:\n{err}"
            );
            match outcome {
                Outcome::Intact => assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{case}: {command:?} on an intact store:\n{err}"
                ),
                Outcome::DamagedLater if out.status.code() == Some(0) => {}
                Outcome::Refused | Outcome::RolledBack | Outcome::DamagedLater => {
                    assert_eq!(
                        out.status.code(),
                        Some(1),
                        "{case}: {command:?} must fail with exit 1:\n{err}"
                    );
                    assert!(
                        err.contains("is damaged")
                            && err.contains(&self.store().display().to_string())
                            && err.contains("stagesync reset --yes"),
                        "{case}: {command:?} must name the damage, the store and the fix:\n{err}"
                    );
                }
            }
        }
        if matches!(outcome, Outcome::Refused | Outcome::RolledBack) {
            assert_eq!(
                self.pair.dest_mutation_count(),
                writes_before,
                "{case}: nothing was written"
            );
        }
        let out = self.pair.run(&["reset", "--yes"]).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{case}: reset failed:\n{err}");
        assert!(!self.store().exists(), "{case}: the store is gone");
        outcome
    }

    /// After a reset: one sync adopts the destination's entries (no duplicate), verify is exact.
    async fn assert_one_sync_recovers(&self, case: &str) {
        let entries_before = entry_count(&self.pair);
        self.pair.ok(&["sync"]).await;
        let dump = self.pair.dest.dump();
        assert!(
            duplicates(&dump).is_empty(),
            "{case}: {:?}",
            duplicates(&dump)
        );
        assert_eq!(entry_count(&self.pair), entries_before, "{case}: entries");
        self.pair.verify_passes().await;
    }
}

/// Per tree, its keys and values.
type Content = Vec<(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Every command refused the store as damaged.
    Refused,
    /// sled opened it rolled back to an earlier flush (silently, by itself): every command
    /// refused it, saying acknowledgements were lost (the commit marker's work).
    RolledBack,
    /// The damage hit space the store no longer uses: everything works, nothing was lost.
    Intact,
    /// The store opens, and a command reading the damaged part refuses it.
    DamagedLater,
}

/// Every key and value of every tree of the store at `dir`, read through sled from a copy (sled
/// writes when it opens a store).
fn content_of_copy(dir: &Path) -> Result<Content, String> {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir, copy.path());
    let db = sled::open(copy.path()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for name in db.tree_names() {
        let tree = db.open_tree(&name).map_err(|e| e.to_string())?;
        let mut pairs = Vec::new();
        for item in tree.iter() {
            let (k, v) = item.map_err(|e| e.to_string())?;
            pairs.push((k.to_vec(), v.to_vec()));
        }
        out.push((name.to_vec(), pairs));
    }
    out.sort();
    Ok(out)
}

/// sled's files rolled back to an earlier flush (what sled does, silently, to a log with a
/// damaged record), the commit marker left as it was: refused, saying acknowledgements were lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_rolled_back_to_an_earlier_flush_is_refused_as_having_lost_acknowledgements() {
    let bench = Bench::start().await;
    let store = bench.store();
    std::fs::remove_dir_all(&store).unwrap();
    copy_dir(bench.after_first.path(), &store);
    std::fs::copy(
        bench.pristine.path().join("stagesync-commit"),
        store.join("stagesync-commit"),
    )
    .unwrap();
    let writes_before = bench.pair.dest_mutation_count();
    for command in [&["status"][..], &["checkpoints"], &["verify"], &["sync"]] {
        let out = bench.pair.run(command).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command:?}: {err}");
        assert!(
            err.contains("is damaged")
                && err.contains("acknowledgements")
                && err.contains("were lost")
                && err.contains("stagesync reset --yes"),
            "{command:?}: {err}"
        );
    }
    assert_eq!(bench.pair.dest_mutation_count(), writes_before);
    bench.pair.ok(&["reset", "--yes"]).await;
    bench.assert_one_sync_recovers("rolled back").await;
}

/// Entries in the destination, all models.
fn entry_count(pair: &Pair) -> usize {
    let dump = pair.dest.dump();
    dump["models"]
        .as_object()
        .unwrap()
        .values()
        .map(|entries| entries.as_array().map_or(0, Vec::len))
        .sum()
}

async fn matrix(damages: &[Damage], recover_each: bool) {
    let bench = Bench::start().await;
    let files = files(bench.pristine.path());
    // The store's files, as sled and stagesync lay them out.
    assert!(files.iter().any(|f| f == Path::new("db")), "{files:?}");
    assert!(files.iter().any(|f| f == Path::new("conf")), "{files:?}");
    assert!(
        files.iter().any(|f| f == Path::new("stagesync-commit")),
        "{files:?}"
    );
    let mut cases: Vec<(PathBuf, Option<Damage>)> = Vec::new();
    for file in &files {
        for damage in damages {
            cases.push((file.clone(), Some(*damage)));
        }
    }
    cases.push((PathBuf::from("snap.FFFFFFFFFFFFFFFF"), None));
    let mut recovered = false;
    let mut outcomes = Vec::new();
    for (file, damage) in cases {
        let case = format!("{damage:?} in {}", file.display());
        bench.damage(&file, damage);
        let outcome = bench.assert_refused_or_intact_then_reset(&case).await;
        outcomes.push((case.clone(), outcome));
        if recover_each || !recovered {
            bench.assert_one_sync_recovers(&case).await;
            recovered = true;
        }
    }
    eprintln!("damaged-store outcomes: {outcomes:#?}");
    // Most damage is seen at once. Which damage sled rolls back silently (and only the commit
    // marker sees) depends on how its log is laid out: see the rollback test for that.
    let refused = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Refused | Outcome::RolledBack))
        .count();
    assert!(refused * 2 > outcomes.len(), "{outcomes:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_store_is_refused_by_every_command_and_reset_recovers_it() {
    matrix(
        &[
            Damage::Flip(0),
            Damage::Flip(500),
            Damage::Truncate,
            Damage::Garbage,
        ],
        false,
    )
    .await;
}

/// The full matrix: flips at many offsets, and a sync after every reset (minutes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: run with --ignored"]
async fn the_full_damaged_store_matrix() {
    let mut damages: Vec<Damage> = [0, 1, 50, 100, 250, 400, 500, 600, 750, 900, 990, 1000]
        .into_iter()
        .map(Damage::Flip)
        .collect();
    damages.extend([Damage::Truncate, Damage::Garbage]);
    matrix(&damages, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_refuses_while_another_process_holds_the_store() {
    let bench_dir = tempfile::tempdir().unwrap();
    let state = bench_dir.path().join("state");
    let held = stagesync::store::Store::open(&state).unwrap();
    held.flush().unwrap();
    let out = std::process::Command::new(super::common::stagesync_bin())
        .args(["reset", "--yes", "--state-dir"])
        .arg(&state)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("held by another process"), "{err}");
    assert!(state.join("store").join("db").exists(), "nothing removed");
    drop(held);
}
