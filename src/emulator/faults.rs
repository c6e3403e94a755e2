//! Seeded, reproducible fault injection: which requests answer 5xx, are delayed, or lose their
//! connection before or after the mutation was applied.
//!
//! A request's fate depends only on the seed, the blake3 hash of its body and how many times that
//! exact body was seen before, so the same client run meets the same faults whatever the
//! interleaving of its concurrent requests.

use std::fmt;

/// One kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// 500, 502 or 503 without executing anything.
    Status(u16),
    /// Adds latency, then answers normally.
    Delay,
    /// Closes the connection before executing.
    DropBefore,
    /// Executes, then loses the answer.
    DropAfter,
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Status(code) => write!(f, "{code}"),
            FaultKind::Delay => f.write_str("delay"),
            FaultKind::DropBefore => f.write_str("drop-before"),
            FaultKind::DropAfter => f.write_str("drop-after"),
        }
    }
}

/// `rate=0.2,seed=7,kinds=500+502+503+delay+drop-before+drop-after,delay-ms=50`; optionally
/// `only=<text>` (only requests whose body holds the text, e.g. `only=createNote`) and
/// `max=<n>` (at most n faults in all): a test can lose exactly the answer it means to.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// Share of requests that get a fault, 0.0–1.0.
    pub rate: f64,
    pub seed: u64,
    pub kinds: Vec<FaultKind>,
    pub delay_ms: u64,
    /// Only requests whose body contains this text can meet a fault.
    pub only: Option<String>,
    /// At most this many faults in all.
    pub max: Option<u64>,
}

impl FaultSpec {
    pub fn parse(spec: &str) -> Result<FaultSpec, super::EmulatorError> {
        let err = |reason: String| super::EmulatorError::Faults {
            spec: spec.to_string(),
            reason,
        };
        let mut out = FaultSpec {
            rate: 0.0,
            seed: 0,
            kinds: vec![
                FaultKind::Status(500),
                FaultKind::Status(502),
                FaultKind::Status(503),
            ],
            delay_ms: 50,
            only: None,
            max: None,
        };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| err(format!("`{part}` is not key=value")))?;
            match key.trim() {
                "rate" => {
                    out.rate = value
                        .parse()
                        .ok()
                        .filter(|r: &f64| (0.0..=1.0).contains(r))
                        .ok_or_else(|| err(format!("rate `{value}` is not between 0 and 1")))?
                }
                "seed" => {
                    out.seed = value
                        .parse()
                        .map_err(|_| err(format!("seed `{value}` is not an integer")))?
                }
                "delay-ms" => {
                    out.delay_ms = value
                        .parse()
                        .map_err(|_| err(format!("delay-ms `{value}` is not an integer")))?
                }
                "kinds" => {
                    out.kinds = value
                        .split('+')
                        .map(|k| match k.trim() {
                            "500" => Ok(FaultKind::Status(500)),
                            "502" => Ok(FaultKind::Status(502)),
                            "503" => Ok(FaultKind::Status(503)),
                            "delay" => Ok(FaultKind::Delay),
                            "drop-before" => Ok(FaultKind::DropBefore),
                            "drop-after" => Ok(FaultKind::DropAfter),
                            other => Err(err(format!(
                                "unknown kind `{other}` (500, 502, 503, delay, drop-before, drop-after)"
                            ))),
                        })
                        .collect::<Result<_, _>>()?
                }
                "only" => out.only = Some(value.to_owned()),
                "max" => {
                    out.max = Some(
                        value
                            .parse()
                            .map_err(|_| err(format!("max `{value}` is not an integer")))?,
                    )
                }
                other => return Err(err(format!("unknown key `{other}`"))),
            }
        }
        if out.kinds.is_empty() {
            return Err(err("no fault kinds".into()));
        }
        Ok(out)
    }

    /// Whether a request with this body can meet a fault, `injected` faults in.
    pub fn applies_to(&self, body: &[u8], injected: u64) -> bool {
        let text_ok = match &self.only {
            None => true,
            Some(text) => body
                .windows(text.len().max(1))
                .any(|w| w == text.as_bytes()),
        };
        text_ok && self.max.is_none_or(|max| injected < max)
    }

    /// The fault (if any) for the `seen`-th occurrence (0-based) of a body with hash `body`.
    pub fn decide(&self, body: &blake3::Hash, seen: u64) -> Option<FaultKind> {
        let mut hasher = blake3::Hasher::new_derive_key("stagesync emulator faults v1");
        hasher.update(&self.seed.to_le_bytes());
        hasher.update(body.as_bytes());
        hasher.update(&seen.to_le_bytes());
        let hash = hasher.finalize();
        let bytes = hash.as_bytes();
        let draw = u64::from_le_bytes(bytes[..8].try_into().ok()?);
        let pick = u64::from_le_bytes(bytes[8..16].try_into().ok()?);
        let share = (draw >> 11) as f64 / (1u64 << 53) as f64;
        (share < self.rate).then(|| self.kinds[(pick % self.kinds.len() as u64) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_form() {
        let spec = FaultSpec::parse(
            "rate=0.2,seed=7,kinds=500+502+503+delay+drop-before+drop-after,delay-ms=50",
        )
        .unwrap();
        assert_eq!(spec.rate, 0.2);
        assert_eq!(spec.seed, 7);
        assert_eq!(spec.kinds.len(), 6);
        assert_eq!(spec.delay_ms, 50);
        assert!(FaultSpec::parse("rate=2").is_err());
        assert!(FaultSpec::parse("kinds=404").is_err());
        let only = FaultSpec::parse("rate=1,kinds=drop-after,only=createNote,max=1").unwrap();
        assert_eq!(only.only.as_deref(), Some("createNote"));
        assert_eq!(only.max, Some(1));
        assert!(FaultSpec::parse("max=x").is_err());
    }

    #[test]
    fn only_and_max_narrow_the_faults() {
        let spec = FaultSpec::parse("rate=1,kinds=drop-after,only=createNote,max=1").unwrap();
        assert!(!spec.applies_to(b"{\"query\":\"{ notes { id } }\"}", 0));
        assert!(spec.applies_to(b"mutation { createNote(data: {}) { id } }", 0));
        assert!(!spec.applies_to(b"mutation { createNote(data: {}) { id } }", 1));
    }

    #[test]
    fn decisions_are_reproducible_and_near_the_rate() {
        let spec = FaultSpec::parse("rate=0.3,seed=1").unwrap();
        let other = FaultSpec::parse("rate=0.3,seed=2").unwrap();
        let body = blake3::hash(b"{}");
        let a: Vec<_> = (0..1000).map(|i| spec.decide(&body, i)).collect();
        let b: Vec<_> = (0..1000).map(|i| spec.decide(&body, i)).collect();
        let c: Vec<_> = (0..1000).map(|i| other.decide(&body, i)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let faults = a.iter().filter(|f| f.is_some()).count();
        assert!((200..400).contains(&faults), "{faults}");
    }
}
