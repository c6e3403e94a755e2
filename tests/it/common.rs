//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared Hygraph fixtures (`$STAGESYNC_FIXTURES`, else `../shared/fixtures` beside the
/// checkout). `None`, with a message, when they are absent (a user's fresh clone); CI has them.
pub fn fixtures_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("STAGESYNC_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"),
    };
    if dir.join("hygraph").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: shared Hygraph fixtures not found at {} (set STAGESYNC_FIXTURES)",
            dir.display()
        );
        None
    }
}

/// The real Hygraph schema fixture as SDL text, if present.
pub fn houdini_sdl() -> Option<String> {
    let path = fixtures_dir()?.join("hygraph/with-houdini.graphql");
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The project's own test fixtures (`tests/fixtures`).
pub fn project_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The real `stagesync` binary built for these tests.
pub fn stagesync_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stagesync"))
}

/// The body of a versioned `--json` object (`{"version": 1, ...}`), asserting the version; a
/// list view (`{"version": 1, "runs": [...]}`) gives the list.
pub fn unversioned(v: serde_json::Value) -> serde_json::Value {
    assert_eq!(v["version"], 1, "every --json object is versioned: {v}");
    // Lists come as {"version": 1, "runs": [...]} (or "models"): the list itself.
    match v.as_object() {
        Some(o) if o.len() == 2 && (o.contains_key("runs") || o.contains_key("models")) => o
            .iter()
            .find(|(k, _)| *k != "version")
            .map(|(_, list)| list.clone())
            .unwrap_or_default(),
        _ => v,
    }
}

/// Log text without terminal colour escapes (the logger colours its output by default).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, ended by a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
