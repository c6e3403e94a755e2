//! The one place records are encoded: bincode 1.3 behind a format-version byte, so the encoding
//! can be replaced (bincode is unmaintained) without guessing what a stored byte string is.

use bincode::Options;
use serde::{de::DeserializeOwned, Serialize};

/// Bumped whenever a stored record changes shape. Format 3 is unreleased: fields added to it
/// before its first release (`NodeRecord::seen_raw`, `ModelCounts::skipped_unparsed`) keep 3.
pub const FORMAT_VERSION: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("empty record")]
    Empty,
    #[error("record written by format version {found}, this stagesync reads version {expected}")]
    Version { found: u8, expected: u8 },
    #[error("record does not decode ({0}); it is truncated or damaged")]
    Corrupt(String),
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    // Serializing plain structs into a Vec cannot fail (no I/O, no unsized sequences).
    options()
        .serialize_into(&mut out, value)
        .expect("bincode serialization into a Vec");
    out
}

fn options() -> impl bincode::Options {
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .reject_trailing_bytes()
        .with_limit(64 * 1024 * 1024)
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (&version, body) = bytes.split_first().ok_or(CodecError::Empty)?;
    if version != FORMAT_VERSION {
        return Err(CodecError::Version {
            found: version,
            expected: FORMAT_VERSION,
        });
    }
    options()
        .deserialize(body)
        .map_err(|e| CodecError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Sample {
        a: u64,
        b: Option<String>,
        c: Vec<[u8; 32]>,
    }

    #[test]
    fn round_trips_and_rejects_damage() {
        let s = Sample {
            a: 7,
            b: Some("x".into()),
            c: vec![[1; 32]],
        };
        let bytes = encode(&s);
        assert_eq!(decode::<Sample>(&bytes).unwrap(), s);
        assert!(matches!(decode::<Sample>(&[]), Err(CodecError::Empty)));
        let mut wrong = bytes.clone();
        wrong[0] = 99;
        assert!(matches!(
            decode::<Sample>(&wrong),
            Err(CodecError::Version { found: 99, .. })
        ));
        assert!(matches!(
            decode::<Sample>(&bytes[..bytes.len() - 5]),
            Err(CodecError::Corrupt(_))
        ));
    }
}
