//! The commit marker: a small file in the store directory, rewritten atomically (write, fsync,
//! rename, fsync of the directory) after every flush, holding that flush's generation, which the
//! `meta` tree holds too. sled recovers a log with a damaged record by dropping that record and
//! everything after it, and a missing or unreadable database by starting a new one, both without
//! a word; a store whose generation is older than its marker's therefore lost writes it had
//! confirmed, and [`super::Store::open`] refuses it as damaged instead of forgetting
//! acknowledgements silently.

use std::io::Write;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "stagesync-commit";

/// The marker's path in the store directory `store`.
pub fn path(store: &Path) -> PathBuf {
    store.join(FILE_NAME)
}

/// The exact text of the marker for `generation`: a flipped byte anywhere fails the check.
fn text(generation: u64) -> String {
    let check = blake3::Hasher::new_derive_key("stagesync commit marker v1")
        .update(&generation.to_le_bytes())
        .finalize();
    format!(
        "stagesync commit marker v1 generation={generation} check={}\n",
        &check.to_hex()[..16]
    )
}

/// The generation the marker holds; `Ok(None)` when there is no marker, `Err` (why) when it is
/// not one this stagesync wrote.
pub fn read(store: &Path) -> Result<Option<u64>, String> {
    let bytes = match std::fs::read(path(store)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read it: {e}")),
    };
    let generation = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|t| t.split_once("generation="))
        .and_then(|(_, rest)| rest.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok());
    match generation {
        Some(g) if text(g).as_bytes() == bytes.as_slice() => Ok(Some(g)),
        _ => Err("its content is damaged".to_owned()),
    }
}

/// Replaces the marker with one for `generation`, durably.
pub fn write(store: &Path, generation: u64) -> std::io::Result<()> {
    let tmp = store.join(format!("{FILE_NAME}.tmp"));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text(generation).as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path(store))?;
    // The rename is durable only once the directory is.
    std::fs::File::open(store)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_any_flipped_byte_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), Ok(None));
        write(dir.path(), 41).unwrap();
        write(dir.path(), 42).unwrap();
        assert_eq!(read(dir.path()), Ok(Some(42)));
        let good = std::fs::read(path(dir.path())).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x04;
            std::fs::write(path(dir.path()), &bad).unwrap();
            assert!(read(dir.path()).is_err(), "flip at {i} not seen");
        }
        std::fs::write(path(dir.path()), &good[..good.len() / 2]).unwrap();
        assert!(read(dir.path()).is_err());
    }
}
