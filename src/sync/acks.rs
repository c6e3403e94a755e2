//! An entry's acknowledgements as stage bookkeeping: which version (content and edges hashes)
//! the destination holds in each synced stage, and the publication hashes that sum them up.
//! Written by the run's phases and by the repair pass alike.

use std::collections::BTreeMap;

use super::canonical::{publication_hashes, Version};
use crate::store::{Acked, Hash, StageAck};

/// The edges acknowledged for a draft the destination holds with relations that match no
/// version of the source (found by a repair). Never equal to a real hash, so they are rewritten;
/// and, unlike no acknowledgement at all (an entry just created, holding nothing), never taken
/// as empty: an empty list in the source is written as an explicit clear.
pub(super) const UNKNOWN_EDGES: Hash = [0xFF; 32];

/// Content and edges hashes: what tells two versions apart.
pub(super) type VersionKey = (Hash, Hash);

pub(super) fn key(version: &Version) -> VersionKey {
    (version.content_hash(), version.edges_hash())
}

/// The synced non-draft stages the destination holds an entry in, each with the version
/// acknowledged there (`None`: unknown). An unknown stage set counts as every synced stage.
pub(super) fn held(acked: &Acked, configured: &[String]) -> BTreeMap<String, Option<VersionKey>> {
    let stages = acked.stages.as_deref().unwrap_or(configured);
    stages
        .iter()
        .filter(|s| configured.contains(s))
        .map(|s| {
            let version = acked
                .published
                .iter()
                .find(|a| &a.stage == s)
                .map(|a| (a.content, a.edges));
            (s.clone(), version)
        })
        .collect()
}

/// Records that the destination holds `version` in `stage`, or (`None`) no longer holds the
/// entry there.
pub(super) fn set_stage(
    acked: &mut Acked,
    configured: &[String],
    stage: &str,
    version: Option<VersionKey>,
) {
    let mut stages = acked.stages.take().unwrap_or_else(|| configured.to_vec());
    stages.retain(|s| s != stage);
    acked.published.retain(|a| a.stage != stage);
    if let Some((content, edges)) = version {
        stages.push(stage.to_owned());
        acked.published.push(StageAck {
            stage: stage.to_owned(),
            content,
            edges,
        });
    }
    stages.sort();
    acked.published.sort_by(|a, b| a.stage.cmp(&b.stage));
    acked.stages = Some(stages);
}

/// Sets the publication hashes to describe what the destination holds, when every stage's
/// version there is known; else clears them (the planner then goes stage by stage).
pub(super) fn refresh_publication(acked: &mut Acked, configured: &[String]) {
    let known: Option<BTreeMap<String, VersionKey>> = match acked.stages {
        Some(_) => held(acked, configured)
            .into_iter()
            .map(|(s, v)| v.map(|v| (s, v)))
            .collect(),
        None => None,
    };
    let hashes = known.map(|k| publication_hashes(&k));
    acked.publication = hashes.map(|h| h.0);
    acked.publication_content = hashes.map(|h| h.1);
}
