//! Reading one model from an endpoint, page by page (cursor pagination, 100 a page): the draft
//! stage with every other synced stage nested through `documentInStages` (one fragment for the
//! fields of both), so one page yields whole entries and nothing needs holding across pages. A
//! model whose page query exceeds the endpoints' query size limit is read in parts of the same
//! page, merged by id ([`PageQuery`]).
//!
//! A page's nodes are kept as the bytes the source sent ([`RawNode`]) and parsed only when
//! needed: a node whose bytes did not change since it was last read and acknowledged needs no
//! canonical form (see `run::read_model`).

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::canonical::{Entry, Version};
use super::shape::{selection, Shape};
use super::SyncError;
use crate::hygraph::{Client, GraphqlError, Idempotency};
use crate::model::ContentModel;
use crate::store::Hash;

pub const PAGE_SIZE: usize = 100;

/// The default of an endpoint's query size limit: Hygraph's Hobby plan (Growth 15 KB,
/// Enterprise 20 KB).
pub const DEFAULT_QUERY_BYTES: usize = 10 * 1024;

/// Room kept in a request body besides the query text of a paged query: the cursor, the
/// locales and the JSON around them.
fn paged_reserve(locales: usize) -> usize {
    locales * 24 + 512
}

/// The same for a by-ids query, which also carries a page's ids (Hygraph's are 25 characters).
fn by_ids_reserve(locales: usize) -> usize {
    PAGE_SIZE * 32 + paged_reserve(locales)
}

/// The page query of one model: everything the engine compares, nothing else. Where one query
/// would not fit the endpoint's query size limit, the model's fields are split over several
/// queries of the same page: the first pages through the model (`first`/`after`), each other
/// one reads the page's ids (`id_in`), and the answers are merged by id ([`merge_node`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    /// Pages through the model; selects `id` and the first group of fields.
    pub paged: String,
    /// The other groups of fields, each read for one page's ids.
    pub by_ids: Vec<String>,
    /// For a page that cannot be read whole: its ids alone, and the first group by ids (see
    /// [`read_raw_page`]).
    ids: String,
    first_by_ids: String,
}

impl PageQuery {
    /// Every query text, in the order they are sent.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.paged.as_str()).chain(self.by_ids.iter().map(String::as_str))
    }
}

/// A selection that alone exceeds the query size limit: no split can read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "reading {model}.{field} takes a query of {bytes} bytes, over the limit of {limit} bytes; \
     raise `max_query_bytes` of both endpoints if your Hygraph plan allows it (Growth: 15360, \
     Enterprise: 20480), or leave the model out of `models`"
)]
pub struct QueryTooLarge {
    pub model: String,
    pub field: String,
    pub bytes: usize,
    pub limit: usize,
}

/// [`page_query_within`] at the default limit; a selection that does not fit is sent whole.
pub fn page_query(shape: &Shape<'_>, content: &ContentModel, stages: &[String]) -> PageQuery {
    page_query_within(shape, content, stages, DEFAULT_QUERY_BYTES, 1)
        .unwrap_or_else(|_| build(shape, stages, vec![version_selection(shape, content)]))
}

/// The page query of a model, each request body within `limit` bytes for `locales` locales.
pub fn page_query_within(
    shape: &Shape<'_>,
    content: &ContentModel,
    stages: &[String],
    limit: usize,
    locales: usize,
) -> Result<PageQuery, QueryTooLarge> {
    // A group's query and whether it fits: the first group pages, the others read by ids.
    let query = |group: usize, fields: &str| {
        if group == 0 {
            let text = paged_query(shape, stages, fields);
            let fits = text.len() + paged_reserve(locales) <= limit;
            (text, fits)
        } else {
            let text = by_ids_query(shape, stages, fields);
            let fits = text.len() + by_ids_reserve(locales) <= limit;
            (text, fits)
        }
    };
    let parts = version_parts(shape, content);
    // `id` is in every group (answers are merged by it): the rest are packed in order.
    let (id, fields) = parts.split_first().expect("version_parts starts with id");
    let mut groups: Vec<Vec<&str>> = vec![vec![id.as_str()]];
    for part in fields {
        let last = groups.len() - 1;
        groups[last].push(part);
        if query(last, &groups[last].join(" ")).1 {
            continue;
        }
        groups[last].pop();
        let (alone, fits) = query(1, &format!("{id} {part}"));
        if !fits {
            return Err(QueryTooLarge {
                model: shape.model.name.clone(),
                field: part
                    .split([' ', '(', '{'])
                    .next()
                    .unwrap_or(part)
                    .to_owned(),
                bytes: alone.len() + by_ids_reserve(locales),
                limit,
            });
        }
        groups.push(vec![id.as_str(), part]);
    }
    Ok(build(
        shape,
        stages,
        groups.into_iter().map(|g| g.join(" ")).collect(),
    ))
}

/// The queries of a page whose fields are split into `groups` (each starting with `id`).
fn build(shape: &Shape<'_>, stages: &[String], groups: Vec<String>) -> PageQuery {
    PageQuery {
        paged: paged_query(shape, stages, &groups[0]),
        by_ids: groups[1..]
            .iter()
            .map(|g| by_ids_query(shape, stages, g))
            .collect(),
        ids: format!(
            "query StagesyncPageIds($after: String) {{ page: {conn}(first: {PAGE_SIZE}, after: $after, stage: DRAFT) {{ edges {{ node {{ id }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
            conn = shape.model.connection(),
        ),
        first_by_ids: by_ids_query(shape, stages, &groups[0]),
    }
}

/// The selection of a node with `fields` (and of each other synced stage it is in, through a
/// fragment so the fields are written once).
fn node_selection(shape: &Shape<'_>, stages: &[String]) -> String {
    let others: Vec<&str> = stages
        .iter()
        .filter(|s| *s != "DRAFT")
        .map(String::as_str)
        .collect();
    if others.is_empty() {
        "...Fields".into()
    } else {
        format!(
            "...Fields documentInStages(stages: [{}], includeCurrent: false) {{ stage ...Fields }}",
            others.join(", ")
        )
    }
    .replace("Fields", &fragment_name(shape))
}

fn fragment_name(shape: &Shape<'_>) -> String {
    format!("Stagesync{}", shape.model.name)
}

fn fragment(shape: &Shape<'_>, fields: &str) -> String {
    format!(
        " fragment {} on {} {{ {fields} }}",
        fragment_name(shape),
        shape.model.name
    )
}

fn paged_query(shape: &Shape<'_>, stages: &[String], fields: &str) -> String {
    format!(
        "query StagesyncPage($after: String, $locales: [Locale!]!) {{ page: {conn}(first: {PAGE_SIZE}, after: $after, stage: DRAFT, locales: $locales) {{ edges {{ node {{ {node} }} }} pageInfo {{ hasNextPage endCursor }} }} }}{fragment}",
        conn = shape.model.connection(),
        node = node_selection(shape, stages),
        fragment = fragment(shape, fields),
    )
}

fn by_ids_query(shape: &Shape<'_>, stages: &[String], fields: &str) -> String {
    format!(
        "query StagesyncPagePart($ids: [ID!], $locales: [Locale!]!) {{ page: {list}(where: {{ id_in: $ids }}, first: {PAGE_SIZE}, stage: DRAFT, locales: $locales) {{ {node} }} }}{fragment}",
        list = shape.model.plural,
        node = node_selection(shape, stages),
        fragment = fragment(shape, fields),
    )
}

/// What a version's relation edges are read from: `id` and the relation fields written from
/// this side (a small query whatever the model's width).
pub fn edges_selection(shape: &Shape<'_>, content: &ContentModel) -> String {
    let mut parts = vec!["id".to_string()];
    parts.extend(shape.owned.iter().map(|f| selection(f, content)));
    if !shape.localized.is_empty() {
        // The locales a version is in are part of its canonical form.
        parts.push("localizations(includeCurrent: true, locales: $locales) { locale }".into());
    }
    parts.join(" ")
}

pub fn version_selection(shape: &Shape<'_>, content: &ContentModel) -> String {
    version_parts(shape, content).join(" ")
}

/// What a version selects, field by field (`id` first): the units a split query packs.
fn version_parts(shape: &Shape<'_>, content: &ContentModel) -> Vec<String> {
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
    // Localized fields one by one, each through `localizations` (merged by locale), so a
    // model with many localized fields can be split too.
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
    parts
}

/// Merges what another query of the same page read about a node into it: objects key by key,
/// lists of stages or locales by their `stage` / `locale`, other lists item by item (the same
/// entry read twice lists its components and relations in the same order).
pub fn merge_node(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => merge_node(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            let key = |v: &Value| -> Option<(&'static str, String)> {
                ["stage", "locale"]
                    .into_iter()
                    .find_map(|k| v.get(k).and_then(Value::as_str).map(|s| (k, s.to_owned())))
            };
            let keyed = a.iter().chain(&b).all(|x| key(x).is_some());
            for (i, item) in b.into_iter().enumerate() {
                let at = if keyed {
                    key(&item).and_then(|(k, wanted)| {
                        a.iter()
                            .position(|x| x.get(k).and_then(Value::as_str) == Some(wanted.as_str()))
                    })
                } else {
                    (i < a.len()).then_some(i)
                };
                match at {
                    Some(i) => merge_node(&mut a[i], item),
                    None => a.push(item),
                }
            }
        }
        (slot, from) => {
            if slot.is_null() {
                *slot = from;
            }
        }
    }
}

/// One page of entries.
pub struct Page {
    pub entries: Vec<Entry>,
    pub next: Option<String>,
    pub unread: Vec<Unread>,
}

/// One page as the source sent it: each node kept as its bytes until asked for.
pub struct RawPage {
    pub nodes: Vec<RawNode>,
    pub next: Option<String>,
    /// Entries of the page that cannot be read (see [`read_raw_page`]).
    pub unread: Vec<Unread>,
}

/// An entry the endpoint cannot answer for, and why: typically a required field or relation
/// whose value is missing in the stage read, which nulls the whole page by GraphQL's null
/// propagation. It is reported, kept out of this run's writes, and never taken as deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub id: String,
    /// The field the error is at (the last name in its path).
    pub field: Option<String>,
    pub message: String,
}

impl Unread {
    fn new(id: &str, error: &GraphqlError) -> Unread {
        Unread {
            id: id.to_owned(),
            field: error
                .path
                .iter()
                .rev()
                .find_map(Value::as_str)
                .map(str::to_owned),
            message: error.message.clone(),
        }
    }

    /// One line for the run's failures: the field and the server's reason.
    pub fn reason(&self) -> String {
        match &self.field {
            Some(field) => format!("cannot be read: field `{field}`: {}", self.message),
            None => format!("cannot be read: {}", self.message),
        }
    }
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
    query: &PageQuery,
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
    for text in query.texts() {
        part(text.as_bytes());
    }
    part(default_locale.as_bytes());
    for locale in ordered_locales(locales, default_locale) {
        part(locale.as_bytes());
    }
    part(fingerprint.map_or(&[][..], |f| &f[..]));
    *hasher.finalize().as_bytes()
}

/// The cursor of the next page of a connection answer (`page`: the connection object), `None`
/// on the last page.
pub(super) fn next_cursor(page: Option<&Value>) -> Option<String> {
    let info = page?.get("pageInfo")?;
    if info.get("hasNextPage").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    info.get("endCursor")
        .and_then(Value::as_str)
        .map(str::to_owned)
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
    query: &PageQuery,
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
        unread: raw.unread,
    })
}

/// Reads one page after `cursor`, leaving each node unparsed but for its id. A split query's
/// other parts are read for the page's ids and merged into its nodes; an entry that one part
/// does not return (deleted or unpublished in between) makes the page be read again.
///
/// A page the endpoint answers with field errors (null propagation from one bad entry nulls the
/// whole page) is read again in smaller parts: its ids alone, then its entries by id, halving
/// until each entry that fails is alone; those are returned as [`Unread`], the rest as nodes.
/// Errors without a path (the request itself), or every entry failing alike, fail the page.
pub async fn read_raw_page(
    client: &Client,
    query: &PageQuery,
    shape: &Shape<'_>,
    locales: &[String],
    default_locale: &str,
    cursor: Option<&str>,
) -> Result<RawPage, SyncError> {
    const ATTEMPTS: usize = 3;
    let locales = ordered_locales(locales, default_locale);
    let reader = Reader {
        client,
        query,
        shape,
        locales: &locales,
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let variables = json!({ "after": cursor, "locales": locales });
        let data = match reader.request(&query.paged, variables).await? {
            Ok(data) => data,
            Err(errors) => return reader.isolate(cursor, errors).await,
        };
        let page = serde_json::from_str::<PageData>(data.get())
            .map_err(|e| reader.bad(&e.to_string()))?
            .page
            .ok_or_else(|| reader.no_page())?;
        let mut page = raw_page(client, shape, page)?;
        if query.by_ids.is_empty() || page.nodes.is_empty() {
            return Ok(page);
        }
        let ids: Vec<&str> = page.nodes.iter().map(|n| n.id.as_str()).collect();
        let mut merged: Vec<Value> = page
            .nodes
            .iter()
            .map(|n| serde_json::from_str(n.json.get()))
            .collect::<Result<_, _>>()
            .map_err(|e| reader.bad(&e.to_string()))?;
        let mut by_id = match reader.by_ids(&query.by_ids, &ids).await? {
            Ok(nodes) => nodes,
            Err(errors) => return reader.isolate(cursor, errors).await,
        };
        let mut complete = true;
        for (node, id) in merged.iter_mut().zip(&ids) {
            match by_id.remove(*id) {
                Some(v) => merge_node(node, v),
                None => complete = false,
            }
        }
        if !complete {
            if attempt < ATTEMPTS {
                continue;
            }
            return Err(reader.error(format!(
                "entries changed while a page was read in {} parts ({ATTEMPTS} attempts); the \
                 next run reads them again",
                query.by_ids.len() + 1
            )));
        }
        for (node, value) in page.nodes.iter_mut().zip(merged) {
            node.json =
                serde_json::value::to_raw_value(&value).map_err(|e| reader.bad(&e.to_string()))?;
        }
        return Ok(page);
    }
}

/// What one page read needs, for its steps.
struct Reader<'a> {
    client: &'a Client,
    query: &'a PageQuery,
    shape: &'a Shape<'a>,
    locales: &'a [&'a String],
}

/// The `data` of an answer, or the GraphQL errors it holds instead.
type Answer<T> = Result<T, Vec<GraphqlError>>;

impl Reader<'_> {
    fn error(&self, message: String) -> SyncError {
        SyncError::Read {
            endpoint: self.client.name().to_owned(),
            model: self.shape.model.name.clone(),
            message,
        }
    }

    fn bad(&self, what: &str) -> SyncError {
        bad_shape(self.client, self.shape, what)
    }

    fn no_page(&self) -> SyncError {
        self.error("the answer has no data for the page".into())
    }

    fn failed(&self, errors: &[GraphqlError]) -> SyncError {
        self.error(
            errors
                .first()
                .map_or_else(|| "the read failed".into(), |e| e.message.clone()),
        )
    }

    /// Sends one read: its `data` unparsed, or its GraphQL errors.
    async fn request(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<Answer<Box<RawValue>>, SyncError> {
        let response = self
            .client
            .graphql_as::<Box<RawValue>>(query, variables, Idempotency::Safe)
            .await
            .map_err(|source| SyncError::client(self.client.name().to_owned(), source))?;
        if !response.errors.is_empty() {
            return Ok(Err(response.errors));
        }
        response.data.map(Ok).ok_or_else(|| self.no_page())
    }

    /// Reads `parts` for `ids` and merges them, by id.
    async fn by_ids(
        &self,
        parts: &[String],
        ids: &[&str],
    ) -> Result<Answer<HashMap<String, Value>>, SyncError> {
        let mut out: HashMap<String, Value> = HashMap::new();
        for part in parts {
            let variables = json!({ "ids": ids, "locales": self.locales });
            let data = match self.request(part, variables).await? {
                Ok(data) => data,
                Err(errors) => return Ok(Err(errors)),
            };
            let list = serde_json::from_str::<PartData>(data.get())
                .map_err(|e| self.bad(&e.to_string()))?
                .page
                .ok_or_else(|| self.no_page())?;
            for v in list {
                let Some(id) = v.get("id").and_then(Value::as_str).map(str::to_owned) else {
                    continue;
                };
                match out.get_mut(&id) {
                    Some(existing) => merge_node(existing, v),
                    None => {
                        out.insert(id, v);
                    }
                }
            }
        }
        Ok(Ok(out))
    }

    /// The page after `cursor` entry by entry (see [`read_raw_page`]).
    async fn isolate(
        &self,
        cursor: Option<&str>,
        errors: Vec<GraphqlError>,
    ) -> Result<RawPage, SyncError> {
        if errors.iter().any(|e| e.path.is_empty()) {
            return Err(self.failed(&errors));
        }
        let data = match self
            .request(&self.query.ids, json!({ "after": cursor }))
            .await?
        {
            Ok(data) => data,
            Err(_) => return Err(self.failed(&errors)),
        };
        let ids_page = serde_json::from_str::<PageData>(data.get())
            .map_err(|e| self.bad(&e.to_string()))?
            .page
            .ok_or_else(|| self.no_page())?;
        let ids_page = raw_page(self.client, self.shape, ids_page)?;
        let ids: Vec<&str> = ids_page.nodes.iter().map(|n| n.id.as_str()).collect();
        let mut parts = vec![self.query.first_by_ids.clone()];
        parts.extend(self.query.by_ids.iter().cloned());
        let mut read: HashMap<String, Value> = HashMap::new();
        let mut unread = Vec::new();
        let mut pending: Vec<&[&str]> = vec![&ids];
        while let Some(chunk) = pending.pop() {
            match self.by_ids(&parts, chunk).await? {
                Ok(nodes) => read.extend(nodes),
                Err(errors) => match chunk {
                    [] => {}
                    [id] => unread.push(Unread::new(id, &errors[0])),
                    _ => {
                        let (a, b) = chunk.split_at(chunk.len() / 2);
                        pending.push(b);
                        pending.push(a);
                    }
                },
            }
        }
        if read.is_empty() && ids.len() > 1 {
            // Not one entry at fault: the query is.
            return Err(self.failed(&errors));
        }
        let mut nodes = Vec::with_capacity(read.len());
        for id in ids {
            if let Some(value) = read.remove(id) {
                let json = serde_json::value::to_raw_value(&value)
                    .map_err(|e| self.bad(&e.to_string()))?;
                nodes.push(RawNode {
                    id: id.to_owned(),
                    json,
                });
            }
        }
        Ok(RawPage {
            nodes,
            next: ids_page.next,
            unread,
        })
    }
}

/// `data` of a by-ids part of a page.
#[derive(Deserialize)]
struct PartData {
    page: Option<Vec<Value>>,
}

/// The nodes (unparsed but for their ids) and the next cursor of a page.
fn raw_page(client: &Client, shape: &Shape<'_>, page: Connection) -> Result<RawPage, SyncError> {
    let bad = |what: &str| bad_shape(client, shape, what);
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
    Ok(RawPage {
        nodes,
        next,
        unread: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> PageQuery {
        PageQuery {
            paged: text.into(),
            by_ids: Vec::new(),
            ids: String::new(),
            first_by_ids: String::new(),
        }
    }

    fn conference() -> ContentModel {
        crate::model::from_model_file(crate::demo::tour::CONFERENCE_MODEL, "conference.toml")
            .expect("conference model")
    }

    /// The conference model with `Page` 200 fields wider (names of 55 characters).
    fn wide() -> ContentModel {
        let mut content = conference();
        let page = content
            .models
            .iter_mut()
            .find(|m| m.name == "Page")
            .unwrap();
        let template = page.field("slug").unwrap().clone();
        for i in 0..200 {
            let mut field = template.clone();
            field.name = format!("aLongDescriptiveFieldNameThatMakesThePageQueryLarger{i:03}");
            field.unique = false;
            field.localized = i % 3 == 0;
            page.fields.push(field);
        }
        content
    }

    fn stages() -> Vec<String> {
        vec!["DRAFT".into(), "PUBLISHED".into()]
    }

    /// The fields a query's fragment selects, at the top level of the fragment.
    fn fragment_fields(query: &str) -> String {
        let start = query.find(" fragment ").expect("a fragment");
        let body = &query[start..];
        body[body.find('{').unwrap() + 1..body.rfind('}').unwrap()]
            .trim()
            .to_owned()
    }

    #[test]
    fn every_conference_model_is_read_in_one_query_under_the_default_limit() {
        let content = conference();
        for model in &content.models {
            let shape = Shape::new(&content, model);
            let q = page_query_within(&shape, &content, &stages(), DEFAULT_QUERY_BYTES, 2)
                .expect("fits");
            assert!(q.by_ids.is_empty(), "{} split: {q:?}", model.name);
            assert_eq!(
                fragment_fields(&q.paged),
                version_selection(&shape, &content)
            );
            // The stage's selection is written once, in the fragment.
            assert_eq!(
                q.paged.matches("localizations(").count(),
                version_selection(&shape, &content)
                    .matches("localizations(")
                    .count()
            );
        }
    }

    #[test]
    fn a_model_over_the_limit_is_split_into_parts_that_each_fit_and_together_select_all() {
        let content = wide();
        let model = content.model("Page").expect("Page");
        let shape = Shape::new(&content, model);
        let whole = page_query_within(&shape, &content, &stages(), usize::MAX / 2, 2).unwrap();
        assert!(whole.by_ids.is_empty());
        assert!(whole.paged.len() + paged_reserve(2) > DEFAULT_QUERY_BYTES);
        let limit = DEFAULT_QUERY_BYTES;
        let split = page_query_within(&shape, &content, &stages(), limit, 2).expect("splits");
        assert!(!split.by_ids.is_empty(), "not split at {limit}: {split:?}");
        assert!(split.paged.len() + paged_reserve(2) <= limit);
        let mut selected = Vec::new();
        for text in split.texts() {
            if text != split.paged {
                assert!(
                    text.len() + by_ids_reserve(2) <= limit,
                    "{} > {limit}",
                    text.len()
                );
            }
            let fields = fragment_fields(text);
            assert!(fields.starts_with("id"), "{fields}");
            selected.push(fields.trim_start_matches("id").trim().to_owned());
        }
        assert!(split.paged.contains("after: $after"));
        assert!(split.by_ids.iter().all(|q| q.contains("id_in: $ids")));
        assert_eq!(
            format!("id {}", selected.join(" ")),
            version_selection(&shape, &content)
        );
    }

    #[test]
    fn a_field_that_alone_exceeds_the_limit_is_an_error_naming_it() {
        let content = wide();
        let model = content.model("Page").expect("Page");
        let shape = Shape::new(&content, model);
        let err = page_query_within(&shape, &content, &stages(), 4_000, 2).unwrap_err();
        assert_eq!(err.model, "Page");
        assert!(
            model.field(&err.field).is_some() || err.field == "localizations",
            "{err}"
        );
        assert!(err.to_string().contains("max_query_bytes"), "{err}");
    }

    #[test]
    fn parts_of_a_node_merge_by_stage_and_locale() {
        let mut a = json!({
            "id": "1", "title": "A",
            "localizations": [{ "locale": "en", "title": "A" }, { "locale": "de", "title": "Ä" }],
            "documentInStages": [{ "stage": "PUBLISHED", "id": "1", "title": "P" }]
        });
        let b = json!({
            "id": "1", "sections": [{ "__typename": "Hero", "id": "h" }],
            "localizations": [{ "locale": "de", "intro": "x" }, { "locale": "en", "intro": "y" }],
            "documentInStages": [{ "stage": "PUBLISHED", "id": "1", "sections": [] }]
        });
        merge_node(&mut a, b);
        assert_eq!(
            a,
            json!({
                "id": "1", "title": "A",
                "localizations": [
                    { "locale": "en", "title": "A", "intro": "y" },
                    { "locale": "de", "title": "Ä", "intro": "x" }
                ],
                "documentInStages": [{ "stage": "PUBLISHED", "id": "1", "title": "P", "sections": [] }],
                "sections": [{ "__typename": "Hero", "id": "h" }]
            })
        );
    }

    #[test]
    fn the_digest_key_covers_what_decides_the_canonical_form() {
        let locales = vec!["en".to_string(), "de".to_string()];
        let base = digest_key(&q("query A"), &locales, "en", Some(&[1; 32]));
        assert_eq!(
            base,
            digest_key(&q("query A"), &locales, "en", Some(&[1; 32]))
        );
        assert_ne!(
            base,
            digest_key(&q("query B"), &locales, "en", Some(&[1; 32]))
        );
        assert_ne!(
            base,
            digest_key(&q("query A"), &locales, "de", Some(&[1; 32]))
        );
        assert_ne!(
            base,
            digest_key(&q("query A"), &locales[..1], "en", Some(&[1; 32]))
        );
        assert_ne!(
            base,
            digest_key(&q("query A"), &locales, "en", Some(&[2; 32]))
        );
        assert_ne!(base, digest_key(&q("query A"), &locales, "en", None));
        let mut split = q("query A");
        split.by_ids.push("query C".into());
        assert_ne!(base, digest_key(&split, &locales, "en", Some(&[1; 32])));
    }
}
