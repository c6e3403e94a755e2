//! Reading one model from an endpoint, page by page (cursor pagination, 100 a page): the draft
//! stage with every other synced stage nested through `documentInStages`, so one page yields
//! whole entries and nothing needs holding across pages.
//!
//! A page's nodes are kept as the bytes the source sent ([`RawNode`]) and parsed only when
//! needed: a node whose bytes did not change since it was last read and acknowledged needs no
//! canonical form (see `run::read_model`).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::canonical::{Entry, Version};
use super::shape::{selection, Shape};
use super::SyncError;
use crate::hygraph::{Client, Idempotency};
use crate::model::ContentModel;
use crate::store::Hash;

pub const PAGE_SIZE: usize = 100;

/// The page query of one model: everything the engine compares, nothing else.
pub fn page_query(shape: &Shape<'_>, content: &ContentModel, stages: &[String]) -> String {
    let version = version_selection(shape, content);
    let others: Vec<&String> = stages.iter().filter(|s| *s != "DRAFT").collect();
    let nested = if others.is_empty() {
        String::new()
    } else {
        let list: Vec<&str> = others.iter().map(|s| s.as_str()).collect();
        format!(
            " documentInStages(stages: [{}], includeCurrent: false) {{ stage {version} }}",
            list.join(", ")
        )
    };
    format!(
        "query StagesyncPage($after: String, $locales: [Locale!]!) {{ page: {conn}(first: {PAGE_SIZE}, after: $after, stage: DRAFT, locales: $locales) {{ edges {{ node {{ {version}{nested} }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
        conn = shape.model.connection(),
    )
}

pub fn version_selection(shape: &Shape<'_>, content: &ContentModel) -> String {
    let mut parts = vec!["id".to_string()];
    // Relation fields written from the other side are not read: the owning side carries the
    // same edges, and their lists (an asset's back-links) can be huge.
    for f in shape.plain.iter().chain(&shape.owned) {
        parts.push(selection(f, content));
    }
    if shape.is_asset() {
        parts.push(match shape.model.asset {
            Some(crate::model::AssetSystem::Legacy) => "handle url".into(),
            _ => "url".into(),
        });
    }
    if !shape.localized.is_empty() {
        let inner: Vec<String> = shape
            .localized
            .iter()
            .map(|f| selection(f, content))
            .collect();
        parts.push(format!(
            "localizations(includeCurrent: true, locales: $locales) {{ locale {} }}",
            inner.join(" ")
        ));
    }
    parts.join(" ")
}

/// One page of entries.
pub struct Page {
    pub entries: Vec<Entry>,
    pub next: Option<String>,
}

/// One page as the source sent it: each node kept as its bytes until asked for.
pub struct RawPage {
    pub nodes: Vec<RawNode>,
    pub next: Option<String>,
}

/// One entry as the source sent it. Parsing and canonicalizing it is most of the CPU a no-op
/// run spends, so it happens only when [`RawNode::digest`] does not tell that it is unneeded.
pub struct RawNode {
    pub id: String,
    json: Box<RawValue>,
}

impl RawNode {
    /// Digest of the node's bytes under `key` (see [`digest_key`]). Equal digests mean equal
    /// canonical forms; different ones mean nothing (the same entry may be sent differently).
    pub fn digest(&self, key: &Hash) -> Hash {
        *blake3::keyed_hash(key, self.json.get().as_bytes()).as_bytes()
    }

    /// Parses and canonicalizes the node: its draft, and each other stage it is in.
    pub fn entry(
        &self,
        client: &Client,
        shape: &Shape<'_>,
        locales: &[String],
        default_locale: &str,
    ) -> Result<Entry, SyncError> {
        let bad = |what: &str| bad_shape(client, shape, what);
        let node: Value = serde_json::from_str(self.json.get())
            .map_err(|e| bad(&format!("node {}: {e}", self.id)))?;
        let draft = Version::from_node(shape, &node, default_locale, locales)?;
        let mut entry = Entry {
            id: self.id.clone(),
            draft,
            stages: Default::default(),
        };
        if let Some(docs) = node.get("documentInStages").and_then(Value::as_array) {
            for doc in docs {
                let Some(stage) = doc.get("stage").and_then(Value::as_str) else {
                    return Err(bad("documentInStages without stage"));
                };
                let version = Version::from_node(shape, doc, default_locale, locales)?;
                entry.stages.insert(stage.to_owned(), version);
            }
        }
        Ok(entry)
    }
}

/// The context of [`digest_key`]; a new scheme gets a new version here.
const RAW_CONTEXT: &str = "stagesync 2026-11 raw node v1";

/// The key of [`RawNode::digest`] for one model: everything besides the node's bytes that
/// decides its canonical form — the query (fields, stages), the locales in the order asked
/// for, the model's fingerprint, the canonical hash scheme, and this stagesync's version (so
/// an upgrade canonicalizes everything once, whatever it changed).
pub fn digest_key(
    query: &str,
    locales: &[String],
    default_locale: &str,
    fingerprint: Option<&Hash>,
) -> Hash {
    let mut hasher = blake3::Hasher::new_derive_key(RAW_CONTEXT);
    let mut part = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    part(env!("CARGO_PKG_VERSION").as_bytes());
    // The hashes of an empty entry change whenever one of the canonical scheme versions does.
    let scheme = Entry::default().hashes();
    for hash in [
        scheme.content,
        scheme.edges,
        scheme.publication,
        scheme.publication_content,
    ] {
        part(&hash);
    }
    part(query.as_bytes());
    part(default_locale.as_bytes());
    for locale in ordered_locales(locales, default_locale) {
        part(locale.as_bytes());
    }
    part(fingerprint.map_or(&[][..], |f| &f[..]));
    *hasher.finalize().as_bytes()
}

/// The default locale first: top-level localized values are in the first locale asked for.
fn ordered_locales<'l>(locales: &'l [String], default_locale: &str) -> Vec<&'l String> {
    let mut ordered: Vec<&String> = locales.iter().filter(|l| *l == default_locale).collect();
    ordered.extend(locales.iter().filter(|l| *l != default_locale));
    ordered
}

fn bad_shape(client: &Client, shape: &Shape<'_>, what: &str) -> SyncError {
    SyncError::Read {
        endpoint: client.name().to_owned(),
        model: shape.model.name.clone(),
        message: format!("unexpected answer shape: {what}"),
    }
}

/// `data` of a page answer; the nodes stay as sent.
#[derive(Deserialize)]
struct PageData {
    page: Option<Connection>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    edges: Option<Vec<Edge>>,
    page_info: Option<PageInfo>,
}

#[derive(Deserialize)]
struct Edge {
    node: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: Option<bool>,
    end_cursor: Option<String>,
}

/// The id of a node, read without building the rest.
#[derive(Deserialize)]
struct NodeId<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
}

/// Reads and canonicalizes one page after `cursor`.
pub async fn read_page(
    client: &Client,
    query: &str,
    shape: &Shape<'_>,
    locales: &[String],
    default_locale: &str,
    cursor: Option<&str>,
) -> Result<Page, SyncError> {
    let raw = read_raw_page(client, query, shape, locales, default_locale, cursor).await?;
    let entries = raw
        .nodes
        .iter()
        .map(|node| node.entry(client, shape, locales, default_locale))
        .collect::<Result<_, _>>()?;
    Ok(Page {
        entries,
        next: raw.next,
    })
}

/// Reads one page after `cursor`, leaving each node unparsed but for its id.
pub async fn read_raw_page(
    client: &Client,
    query: &str,
    shape: &Shape<'_>,
    locales: &[String],
    default_locale: &str,
    cursor: Option<&str>,
) -> Result<RawPage, SyncError> {
    let variables = json!({ "after": cursor, "locales": ordered_locales(locales, default_locale) });
    let response = client
        .graphql_as::<Box<RawValue>>(query, variables, Idempotency::Safe)
        .await
        .map_err(|source| SyncError::client(client.name().to_owned(), source))?;
    let model = &shape.model.name;
    if let Some(err) = response.errors.first() {
        return Err(SyncError::Read {
            endpoint: client.name().to_owned(),
            model: model.clone(),
            message: err.message.clone(),
        });
    }
    let bad = |what: &str| bad_shape(client, shape, what);
    let no_page = || SyncError::Read {
        endpoint: client.name().to_owned(),
        model: model.clone(),
        message: "the answer has no data for the page".into(),
    };
    let data = response.data.ok_or_else(no_page)?;
    let page = serde_json::from_str::<PageData>(data.get())
        .map_err(|e| bad(&e.to_string()))?
        .page
        .ok_or_else(no_page)?;
    let edges = page.edges.ok_or_else(|| bad("no edges"))?;
    let mut nodes = Vec::with_capacity(edges.len());
    for edge in edges {
        let json = edge.node.ok_or_else(|| bad("edge without node"))?;
        let id = serde_json::from_str::<NodeId>(json.get())
            .ok()
            .and_then(|n| n.id)
            .ok_or_else(|| bad("node without id"))?
            .into_owned();
        nodes.push(RawNode { id, json });
    }
    let info = page.page_info.ok_or_else(|| bad("no pageInfo"))?;
    let next = if info.has_next_page.unwrap_or(false) {
        Some(
            info.end_cursor
                .ok_or_else(|| bad("hasNextPage without endCursor"))?,
        )
    } else {
        None
    };
    Ok(RawPage { nodes, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_key_covers_what_decides_the_canonical_form() {
        let locales = vec!["en".to_string(), "de".to_string()];
        let base = digest_key("query A", &locales, "en", Some(&[1; 32]));
        assert_eq!(base, digest_key("query A", &locales, "en", Some(&[1; 32])));
        assert_ne!(base, digest_key("query B", &locales, "en", Some(&[1; 32])));
        assert_ne!(base, digest_key("query A", &locales, "de", Some(&[1; 32])));
        assert_ne!(
            base,
            digest_key("query A", &locales[..1], "en", Some(&[1; 32]))
        );
        assert_ne!(base, digest_key("query A", &locales, "en", Some(&[2; 32])));
        assert_ne!(base, digest_key("query A", &locales, "en", None));
    }
}
