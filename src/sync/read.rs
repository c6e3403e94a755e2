//! Reading one model from an endpoint, page by page (cursor pagination, 100 a page): the draft
//! stage with every other synced stage nested through `documentInStages`, so one page yields
//! whole entries and nothing needs holding across pages.

use serde_json::{json, Value};

use super::canonical::{Entry, Version};
use super::shape::{selection, Shape};
use super::SyncError;
use crate::hygraph::{Client, Idempotency};
use crate::model::ContentModel;

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

/// Reads one page after `cursor`.
pub async fn read_page(
    client: &Client,
    query: &str,
    shape: &Shape<'_>,
    locales: &[String],
    default_locale: &str,
    cursor: Option<&str>,
) -> Result<Page, SyncError> {
    // The default locale first: top-level localized values are in the first locale asked for.
    let mut ordered: Vec<&String> = locales.iter().filter(|l| *l == default_locale).collect();
    ordered.extend(locales.iter().filter(|l| *l != default_locale));
    let variables = json!({ "after": cursor, "locales": ordered });
    let response = client
        .graphql(query, variables, Idempotency::Safe)
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
    let page = response
        .data
        .as_ref()
        .and_then(|d| d.get("page"))
        .ok_or_else(|| SyncError::Read {
            endpoint: client.name().to_owned(),
            model: model.clone(),
            message: "the answer has no data for the page".into(),
        })?;
    let bad = |what: &str| SyncError::Read {
        endpoint: client.name().to_owned(),
        model: model.clone(),
        message: format!("unexpected answer shape: {what}"),
    };
    let edges = page
        .get("edges")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no edges"))?;
    let mut entries = Vec::with_capacity(edges.len());
    for edge in edges {
        let node = edge.get("node").ok_or_else(|| bad("edge without node"))?;
        let id = node
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("node without id"))?;
        let draft = Version::from_node(shape, node, default_locale, locales)?;
        let mut entry = Entry {
            id: id.to_owned(),
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
        entries.push(entry);
    }
    let info = page.get("pageInfo").ok_or_else(|| bad("no pageInfo"))?;
    let has_next = info
        .get("hasNextPage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let next = if has_next {
        Some(
            info.get("endCursor")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("hasNextPage without endCursor"))?
                .to_owned(),
        )
    } else {
        None
    };
    Ok(Page { entries, next })
}
