//! `sync --repair` (anti-entropy): the store's acknowledgements are a cache of what the
//! destination holds, and caches drift. A repair reads both sides completely through the same
//! comparison as `verify`, rewrites every entry's acknowledgements from what the destination
//! really holds (adopting destination entries by identity key when the store lost them), and
//! then runs as an incremental sync, which writes exactly what differs. Not the place for the
//! writes themselves: those are the run's phases.

use super::acks::{refresh_publication, UNKNOWN_EDGES};
use super::assets::Orphans;
use super::verify::{compare_sides, read_all, Matched};
use super::{Prepared, SyncError};
use crate::hygraph::Client;
use crate::store::{Acked, NodeRecord, StageAck, Store};

/// Rewrites the acknowledgements of every source entry from the destination; returns the
/// number of differences found.
pub(super) async fn reconcile(
    prepared: &Prepared<'_>,
    store: &Store,
    source: &Client,
    dest: &Client,
) -> Result<usize, SyncError> {
    // Creates whose answers were lost are adopted first, by what they sent (see `journal`).
    super::journal::resolve(dest, prepared, store).await?;
    adopt_assets(prepared, store, source, dest).await?;
    let comparison = compare_sides(prepared, source, dest, Some(store)).await?;
    for (m, shape) in prepared.shapes.iter().enumerate() {
        let name = &shape.model.name;
        let mut commits = Vec::new();
        for matched in &comparison.entries[m] {
            let old = store.node(name, &matched.source.id)?;
            let record = acknowledged(old.clone(), matched, &prepared.stages);
            if Some(&record) != old.as_ref() {
                commits.push((matched.source.id.clone(), record));
            }
        }
        for chunk in commits.chunks(500) {
            let refs: Vec<(&str, &str, &NodeRecord)> = chunk
                .iter()
                .map(|(id, r)| (name.as_str(), id.as_str(), r))
                .collect();
            store.commit_acks(&refs)?;
        }
        if !commits.is_empty() {
            tracing::info!(model = %name, entries = commits.len(), "repair: acknowledgements rewritten from the destination");
        }
    }
    Ok(comparison.report.differences.len())
}

/// Assets have no identity key: a source asset the store has no destination id for (a lost
/// store, a lost upload answer) is matched to a destination asset holding the same file bytes.
async fn adopt_assets(
    prepared: &Prepared<'_>,
    store: &Store,
    source: &Client,
    dest: &Client,
) -> Result<(), SyncError> {
    for (m, shape) in prepared.shapes.iter().enumerate() {
        if !shape.is_asset() {
            continue;
        }
        let name = &shape.model.name;
        let locales = prepared.locales_for(shape);
        let (assets, _) = read_all(
            source,
            &prepared.queries[m],
            shape,
            &locales,
            &prepared.default_locale,
        )
        .await?;
        let mut orphans: Option<Orphans> = None;
        for asset in assets.values() {
            let record = store.node(name, &asset.id)?;
            let Some(url) = asset.draft.file.as_deref() else {
                continue;
            };
            if record.as_ref().is_some_and(|r| r.dest_id.is_some()) {
                continue;
            }
            if orphans.is_none() {
                orphans = Some(Orphans::find(dest, shape.model, store).await?);
            }
            if let Some(found) = orphans.as_mut().expect("set above").adopt(dest, url).await {
                let mut record = record.unwrap_or_default();
                record.dest_id = Some(found);
                record.acked.file = asset.draft.file.clone();
                store.commit_acks(&[(name, &asset.id, &record)])?;
            }
        }
    }
    Ok(())
}

/// The record of one entry once its acknowledgements say what the destination holds.
fn acknowledged(old: Option<NodeRecord>, matched: &Matched, configured: &[String]) -> NodeRecord {
    let mut record = old.unwrap_or_default();
    let Some(dest_id) = &matched.dest_id else {
        // Missing there: written again (an upsert by identity key adopts it if it reappeared).
        record.dest_id = None;
        record.acked = Acked::default();
        return record;
    };
    let source = &matched.source;
    let file = if record.dest_id.as_ref() == Some(dest_id) {
        record.acked.file.take()
    } else {
        None
    };
    let mut acked = Acked {
        content: matched.draft_content,
        // Relations that match no source version are there all the same: cleared if need be.
        edges: Some(matched.draft_edges.unwrap_or(UNKNOWN_EDGES)),
        locales: matched.dest_locales.clone(),
        stages: Some(Vec::new()),
        file,
        ..Default::default()
    };
    let mut stages = Vec::new();
    for (stage, same) in matched
        .dest_stages
        .iter()
        .filter(|(s, _)| configured.contains(s))
    {
        stages.push(stage.clone());
        // A stage held in another version than the source's is held in an unknown version.
        if let Some(v) = source.stages.get(stage).filter(|_| *same) {
            acked.published.push(StageAck {
                stage: stage.clone(),
                content: v.content_hash(),
                edges: v.edges_hash(),
            });
        }
    }
    stages.sort();
    acked.published.sort_by(|a, b| a.stage.cmp(&b.stage));
    acked.stages = Some(stages);
    refresh_publication(&mut acked, configured);
    record.dest_id = Some(dest_id.clone());
    record.acked = acked;
    record
}
