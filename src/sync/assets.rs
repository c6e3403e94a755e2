//! Asset files: transferred by upload (the destination fetches the source's file URL), before
//! any entry links to them. Legacy projects upload through `POST <endpoint>/upload` with `url=`;
//! projects on the current asset system create the asset with `uploadUrl` and wait until its
//! `upload.status` is complete.

use std::time::Duration;

use serde_json::{json, Value};

use super::canonical::Version;
use super::SyncError;
use crate::hygraph::{Client, Idempotency};
use crate::model::AssetSystem;
use crate::store::{NodeRecord, Store};

/// Makes the destination hold the version's file. Returns the destination asset id, or the
/// reason this asset failed.
pub async fn sync_file(
    dest: &Client,
    store: &Store,
    system: AssetSystem,
    model: &str,
    source_id: &str,
    record: &NodeRecord,
    version: &Version,
) -> Result<Result<String, String>, SyncError> {
    let Some(url) = version.file.as_deref() else {
        return Ok(Err("the source asset has no file url".into()));
    };
    let unchanged = record.acked.file.as_deref() == Some(url);
    match (&record.dest_id, unchanged) {
        (Some(dest_id), true) => Ok(Ok(dest_id.clone())),
        (None, _) => upload_new(dest, Some(store), system, model, source_id, url).await,
        (Some(dest_id), false) => match system {
            AssetSystem::Legacy => {
                // Upload the new file as a new asset, move its handle onto ours, drop the carrier.
                // The carrier is journaled: a run interrupted before the swap leaves it in the
                // destination, and the next run finds it by its bytes and finishes the swap.
                super::journal::record_upload(store, model, source_id, url, true)?;
                let carrier = match upload_new(dest, None, system, model, source_id, url).await? {
                    Ok(id) => id,
                    Err(e) => return Ok(Err(e)),
                };
                super::apply::crash_point("carrier");
                if let Err(e) = swap(dest, model, dest_id, &carrier, source_id).await? {
                    return Ok(Err(e));
                }
                Ok(Ok(dest_id.clone()))
            }
            AssetSystem::UploadUrl => {
                let query = format!(
                    "mutation StagesyncReupload($id: ID!, $url: String!) {{ u: update{model}(where: {{ id: $id }}, data: {{ reUpload: {{ uploadUrl: $url }} }}) {{ id }} }}"
                );
                graphql(
                    dest,
                    &query,
                    json!({ "id": dest_id, "url": url }),
                    source_id,
                )
                .await?;
                wait_complete(dest, model, dest_id, source_id).await?;
                Ok(Ok(dest_id.clone()))
            }
        },
    }
}

/// Moves the file of the legacy asset `carrier` onto the asset `dest_id` (its handle) and
/// deletes the carrier, in one request. `Err`: the carrier has no handle.
pub(super) async fn swap(
    dest: &Client,
    model: &str,
    dest_id: &str,
    carrier: &str,
    source_id: &str,
) -> Result<Result<(), String>, SyncError> {
    let handle_query = format!(
        "query StagesyncHandle($id: ID!) {{ a: {}(where: {{ id: $id }}, stage: DRAFT) {{ handle }} }}",
        super::super::model::default_singular(model)
    );
    let answer = graphql(dest, &handle_query, json!({ "id": carrier }), source_id).await?;
    let Some(handle) = answer.pointer("/a/handle").and_then(Value::as_str) else {
        return Ok(Err("the uploaded file has no handle".into()));
    };
    let swap = format!(
        "mutation StagesyncSwap($id: ID!, $carrier: ID!, $handle: String!) {{ u: update{model}(where: {{ id: $id }}, data: {{ handle: $handle }}) {{ id }} d: delete{model}(where: {{ id: $carrier }}) {{ id }} }}"
    );
    graphql(
        dest,
        &swap,
        json!({ "id": dest_id, "carrier": carrier, "handle": handle }),
        source_id,
    )
    .await?;
    Ok(Ok(()))
}

/// Uploads `url` as a new asset; `journal`: record the upload as a pending create first (see
/// `journal`), so that a lost answer is adopted instead of uploaded twice.
async fn upload_new(
    dest: &Client,
    journal: Option<&Store>,
    system: AssetSystem,
    model: &str,
    source_id: &str,
    url: &str,
) -> Result<Result<String, String>, SyncError> {
    if let Some(store) = journal {
        super::journal::record_upload(store, model, source_id, url, false)?;
    }
    match system {
        AssetSystem::Legacy => {
            let answer = dest
                .post_form("upload", &[("url", url)])
                .await
                .map_err(|source| SyncError::client(dest.name().to_owned(), source))?;
            match answer.get("id").and_then(Value::as_str) {
                Some(id) => Ok(Ok(id.to_owned())),
                None => Ok(Err(format!(
                    "the upload was not accepted: {}",
                    answer.to_string().chars().take(300).collect::<String>()
                ))),
            }
        }
        AssetSystem::UploadUrl => {
            let query = format!(
                "mutation StagesyncCreateAsset($url: String!) {{ a: create{model}(data: {{ uploadUrl: $url }}) {{ id }} }}"
            );
            let answer = send(
                dest,
                &query,
                json!({ "url": url }),
                source_id,
                Idempotency::Unsafe,
            )
            .await?;
            let Some(id) = answer.pointer("/a/id").and_then(Value::as_str) else {
                return Ok(Err(
                    "the destination did not return the new asset's id".into()
                ));
            };
            wait_complete(dest, model, id, source_id).await?;
            Ok(Ok(id.to_owned()))
        }
    }
}

/// Waits until the destination holds the file of the asset `id` (current asset system).
pub(super) async fn wait_complete(
    dest: &Client,
    model: &str,
    id: &str,
    source_id: &str,
) -> Result<(), SyncError> {
    let query = format!(
        "query StagesyncUpload($id: ID!) {{ a: {}(where: {{ id: $id }}, stage: DRAFT) {{ upload {{ status }} }} }}",
        super::super::model::default_singular(model)
    );
    let mut delay = Duration::from_millis(100);
    for _ in 0..40 {
        let answer = graphql(dest, &query, json!({ "id": id }), source_id).await?;
        match answer.pointer("/a/upload/status").and_then(Value::as_str) {
            Some("ASSET_UPLOAD_COMPLETE") | None => return Ok(()),
            Some("ASSET_ERROR_UPLOAD") => {
                return Err(SyncError::Asset {
                    endpoint: dest.name().to_owned(),
                    id: source_id.to_owned(),
                    message: "the destination could not fetch the file (ASSET_ERROR_UPLOAD)".into(),
                })
            }
            Some(_) => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
    Err(SyncError::Asset {
        endpoint: dest.name().to_owned(),
        id: source_id.to_owned(),
        message: "the upload did not complete in time".into(),
    })
}

async fn graphql(
    dest: &Client,
    query: &str,
    variables: Value,
    source_id: &str,
) -> Result<Value, SyncError> {
    send(dest, query, variables, source_id, Idempotency::Safe).await
}

/// [`graphql`] for a write that must not be sent twice: a `createAsset` retried after a lost
/// answer would leave two assets (the upload is journaled, see `journal`: the caller looks it
/// up before sending it again).
async fn send(
    dest: &Client,
    query: &str,
    variables: Value,
    source_id: &str,
    idempotency: Idempotency,
) -> Result<Value, SyncError> {
    let response = dest
        .graphql(query, variables, idempotency)
        .await
        .map_err(|source| SyncError::client(dest.name().to_owned(), source))?;
    if let Some(err) = response.errors.first() {
        return Err(SyncError::Asset {
            endpoint: dest.name().to_owned(),
            id: source_id.to_owned(),
            message: err.message.clone(),
        });
    }
    Ok(response.data.unwrap_or(Value::Null))
}

/// Destination assets no tracked entry points at: after a lost store, or an upload whose answer
/// or commit was lost. A source asset is adopted by one of them when their files' bytes are the
/// same (compared by blake3), instead of being uploaded again as a duplicate.
pub struct Orphans {
    candidates: Vec<(String, String)>,
    hashes: std::collections::HashMap<String, [u8; 32]>,
}

impl Orphans {
    pub async fn find(
        dest: &Client,
        model: &crate::model::Model,
        store: &crate::store::Store,
    ) -> Result<Orphans, SyncError> {
        let mut mapped = std::collections::HashSet::new();
        for item in store.nodes_of(&model.name) {
            if let Some(d) = item?.1.dest_id {
                mapped.insert(d);
            }
        }
        let query = format!(
            "query StagesyncOrphans($after: String) {{ page: {}(first: 100, after: $after, stage: DRAFT) {{ edges {{ node {{ id url }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
            model.connection()
        );
        let mut candidates = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data = graphql(dest, &query, json!({ "after": after }), "-").await?;
            for edge in data
                .pointer("/page/edges")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = edge
                    .pointer("/node/id")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let url = edge
                    .pointer("/node/url")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !id.is_empty() && !mapped.contains(id) {
                    candidates.push((id.to_owned(), url.to_owned()));
                }
            }
            after = super::read::next_cursor(data.get("page"));
            if after.is_none() {
                break;
            }
        }
        Ok(Orphans {
            candidates,
            hashes: Default::default(),
        })
    }

    /// The orphan holding the same file as `source_url`, taken out of the candidates.
    pub async fn adopt(&mut self, dest: &Client, source_url: &str) -> Option<String> {
        if self.candidates.is_empty() {
            return None;
        }
        let wanted = blake3::hash(&dest.get_bytes(source_url).await.ok()?);
        for i in 0..self.candidates.len() {
            let (id, url) = self.candidates[i].clone();
            let hash = match self.hashes.get(&id) {
                Some(h) => *h,
                None => {
                    let Ok(bytes) = dest.get_bytes(&url).await else {
                        continue;
                    };
                    let h = *blake3::hash(&bytes).as_bytes();
                    self.hashes.insert(id.clone(), h);
                    h
                }
            };
            if &hash == wanted.as_bytes() {
                self.candidates.remove(i);
                return Some(id);
            }
        }
        None
    }
}
