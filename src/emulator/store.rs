//! The emulator's content: entries per model and stage, ordered relation lists, the unique-field
//! index and uploaded asset files. Knows nothing of GraphQL; the executor reads and writes it.
//!
//! Every change goes through [`Store::put_entry`] and [`Store::put_list`], which record the
//! previous value in an undo log so that a failing mutation leaves no trace (Hygraph applies a
//! mutation, nested inputs included, as one transaction).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

/// A JSON object: field name → value.
pub(crate) type Fields = Map<String, Value>;

/// One entry's content in one stage.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Version {
    pub updated_at: String,
    pub published_at: Option<String>,
    /// Non-localized fields.
    pub fields: Fields,
    /// Localized fields per locale, the default locale included.
    pub localizations: BTreeMap<String, Fields>,
}

/// One entry (document) of a model, in every stage it exists in.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Entry {
    pub id: String,
    pub created_at: String,
    pub stages: BTreeMap<String, Version>,
}

/// One end of a relation edge: the target entry and its model (the `__typename`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Ref {
    pub typename: String,
    pub id: String,
}

/// An uploaded file an asset's `url` serves.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AssetFile {
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

/// Relation lists of one stage: (model, field) → entry id → ordered targets.
type StageEdges = HashMap<(String, String), HashMap<String, Vec<Ref>>>;

enum Undo {
    Entry(String, String, Option<Entry>),
    List(String, String, String, String, Option<Vec<Ref>>),
}

#[derive(Default)]
pub(crate) struct Store {
    entries: HashMap<String, BTreeMap<String, Entry>>,
    /// id → model name, for `node(id)` and relation targets.
    owner: HashMap<String, String>,
    /// stage → relation lists. Each two-way relation is stored as the lists of both sides, kept
    /// consistent by the executor, so each edge has its own position on each side.
    edges: HashMap<String, StageEdges>,
    /// (stage, model, field) → unique value → entry id.
    unique: HashMap<(String, String, String), HashMap<String, String>>,
    /// (model, stage) → number of entries in that stage.
    counts: HashMap<(String, String), usize>,
    /// Unique fields per model, to keep the index.
    unique_fields: HashMap<String, Vec<(String, bool)>>,
    default_locale: String,
    pub files: BTreeMap<String, AssetFile>,
    last_millis: i64,
    id_counter: u64,
    /// With seeded faults, ids come from the sequence alone (no clock), so a rerun with the
    /// same seed sends the same request bodies and meets the same faults.
    pub deterministic_ids: bool,
    undo: Vec<Undo>,
}

impl Store {
    /// `unique_fields`: model → (field, localized) of every unique field.
    pub fn new(unique_fields: HashMap<String, Vec<(String, bool)>>, default_locale: &str) -> Self {
        Store {
            unique_fields,
            default_locale: default_locale.to_string(),
            ..Store::default()
        }
    }

    /// Empties the content, keeping the clock and id sequence monotonic.
    pub fn clear(&mut self) {
        let fresh = Store {
            unique_fields: std::mem::take(&mut self.unique_fields),
            default_locale: std::mem::take(&mut self.default_locale),
            last_millis: self.last_millis,
            id_counter: self.id_counter,
            deterministic_ids: self.deterministic_ids,
            ..Store::default()
        };
        *self = fresh;
    }

    /// A timestamp strictly later than the previous one, so `updatedAt_gt` filters never miss a
    /// write made in the same millisecond.
    pub fn now(&mut self) -> String {
        let mut millis = chrono::Utc::now().timestamp_millis();
        if millis <= self.last_millis {
            millis = self.last_millis + 1;
        }
        self.last_millis = millis;
        format_millis(millis)
    }

    /// A cuid-like id: 25 characters, starting with `c`, increasing with every call.
    pub fn new_id(&mut self) -> String {
        self.id_counter += 1;
        let millis = if self.deterministic_ids {
            1_767_225_600_000 // 2026-01-01T00:00:00Z
        } else {
            chrono::Utc::now().timestamp_millis().max(0) as u64
        };
        let mut id = String::with_capacity(25);
        id.push('c');
        id.push_str(&base36(millis, 9));
        id.push_str(&base36(self.id_counter, 8));
        // Fixed pseudo-random tail: ids look like cuids but stay ordered by the prefix.
        let tail = blake3::hash(&self.id_counter.to_le_bytes());
        let tail = u64::from_le_bytes(tail.as_bytes()[..8].try_into().unwrap_or([0; 8]));
        id.push_str(&base36(tail, 7));
        id
    }

    /// Makes sure later ids sort after `id` (after loading a seed).
    fn observe_id(&mut self, id: &str) {
        if id.len() == 25 && id.starts_with('c') {
            if let Some(counter) = id.get(10..18).and_then(|s| u64::from_str_radix(s, 36).ok()) {
                self.id_counter = self.id_counter.max(counter);
            }
        }
    }

    pub fn observe_time(&mut self, timestamp: &str) {
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(timestamp) {
            self.last_millis = self.last_millis.max(t.timestamp_millis());
        }
    }

    pub fn model_entries(&self, model: &str) -> Option<&BTreeMap<String, Entry>> {
        self.entries.get(model)
    }

    pub fn entry(&self, model: &str, id: &str) -> Option<&Entry> {
        self.entries.get(model)?.get(id)
    }

    pub fn version(&self, model: &str, id: &str, stage: &str) -> Option<&Version> {
        self.entry(model, id)?.stages.get(stage)
    }

    pub fn model_of(&self, id: &str) -> Option<&str> {
        self.owner.get(id).map(String::as_str)
    }

    pub fn count(&self, model: &str, stage: &str) -> usize {
        self.counts
            .get(&(model.to_string(), stage.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// The entry whose unique `field` holds `value` in `stage`.
    pub fn find_unique(
        &self,
        stage: &str,
        model: &str,
        field: &str,
        value: &Value,
    ) -> Option<&str> {
        self.unique
            .get(&(stage.to_string(), model.to_string(), field.to_string()))?
            .get(&unique_key(value))
            .map(String::as_str)
    }

    /// Relation targets of one field of one entry in one stage, in order (targets that do not
    /// exist in the stage included: readers filter them).
    pub fn list(&self, stage: &str, model: &str, field: &str, id: &str) -> &[Ref] {
        self.edges
            .get(stage)
            .and_then(|s| s.get(&(model.to_string(), field.to_string())))
            .and_then(|m| m.get(id))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn exists(&self, stage: &str, target: &Ref) -> bool {
        self.version(&target.typename, &target.id, stage).is_some()
    }

    /// Replaces (or with `None` removes) an entry, keeping the indexes, and logs the change.
    pub fn put_entry(&mut self, model: &str, id: &str, entry: Option<Entry>) {
        let old = match &entry {
            Some(e) => self
                .entries
                .entry(model.to_string())
                .or_default()
                .insert(id.to_string(), e.clone()),
            None => self.entries.get_mut(model).and_then(|m| m.remove(id)),
        };
        self.reindex(model, id, old.as_ref(), entry.as_ref());
        self.undo
            .push(Undo::Entry(model.to_string(), id.to_string(), old));
    }

    fn reindex(&mut self, model: &str, id: &str, old: Option<&Entry>, new: Option<&Entry>) {
        if let Some(e) = new {
            self.owner.insert(id.to_string(), model.to_string());
            self.observe_id(&e.id);
        } else {
            self.owner.remove(id);
        }
        let uniques = self.unique_fields.get(model).cloned().unwrap_or_default();
        let locale = self.default_locale.clone();
        if let Some(old) = old {
            for (stage, version) in &old.stages {
                if let Some(c) = self.counts.get_mut(&(model.to_string(), stage.clone())) {
                    *c = c.saturating_sub(1);
                }
                for (field, localized) in &uniques {
                    if let Some(v) = unique_value(version, field, *localized, &locale) {
                        let key = (stage.clone(), model.to_string(), field.clone());
                        if let Some(index) = self.unique.get_mut(&key) {
                            if index.get(&unique_key(v)).map(String::as_str) == Some(id) {
                                index.remove(&unique_key(v));
                            }
                        }
                    }
                }
            }
        }
        if let Some(new) = new {
            for (stage, version) in &new.stages {
                *self
                    .counts
                    .entry((model.to_string(), stage.clone()))
                    .or_default() += 1;
                for (field, localized) in &uniques {
                    if let Some(v) = unique_value(version, field, *localized, &locale) {
                        self.unique
                            .entry((stage.clone(), model.to_string(), field.clone()))
                            .or_default()
                            .insert(unique_key(v), id.to_string());
                    }
                }
            }
        }
    }

    /// Replaces the relation list of one field of one entry in one stage, and logs the change.
    pub fn put_list(&mut self, stage: &str, model: &str, field: &str, id: &str, list: Vec<Ref>) {
        let lists = self
            .edges
            .entry(stage.to_string())
            .or_default()
            .entry((model.to_string(), field.to_string()))
            .or_default();
        let old = if list.is_empty() {
            lists.remove(id)
        } else {
            lists.insert(id.to_string(), list)
        };
        self.undo.push(Undo::List(
            stage.to_string(),
            model.to_string(),
            field.to_string(),
            id.to_string(),
            old,
        ));
    }

    /// Starts a transaction: changes from here on can be rolled back.
    pub fn begin(&mut self) {
        self.undo.clear();
    }

    /// Undoes every change since [`Store::begin`].
    pub fn rollback(&mut self) {
        while let Some(undo) = self.undo.pop() {
            match undo {
                Undo::Entry(model, id, old) => {
                    let current = match &old {
                        Some(e) => self
                            .entries
                            .entry(model.clone())
                            .or_default()
                            .insert(id.clone(), e.clone()),
                        None => self.entries.get_mut(&model).and_then(|m| m.remove(&id)),
                    };
                    self.reindex(&model, &id, current.as_ref(), old.as_ref());
                }
                Undo::List(stage, model, field, id, old) => {
                    let lists = self
                        .edges
                        .entry(stage)
                        .or_default()
                        .entry((model, field))
                        .or_default();
                    match old {
                        Some(l) => lists.insert(id, l),
                        None => lists.remove(&id),
                    };
                }
            }
        }
    }

    /// Keeps every change since [`Store::begin`].
    pub fn commit(&mut self) {
        self.undo.clear();
    }
}

fn unique_value<'v>(
    version: &'v Version,
    field: &str,
    localized: bool,
    default_locale: &str,
) -> Option<&'v Value> {
    // A localized unique field is matched on its default-locale value.
    let v = if localized {
        version.localizations.get(default_locale)?.get(field)
    } else {
        version.fields.get(field)
    }?;
    (!v.is_null()).then_some(v)
}

pub(crate) fn unique_key(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn format_millis(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_cuid_like_and_increasing() {
        let mut store = Store::default();
        let a = store.new_id();
        let b = store.new_id();
        assert_eq!(a.len(), 25);
        assert!(a.starts_with('c'));
        assert!(a < b, "{a} < {b}");
    }

    #[test]
    fn clock_is_strictly_increasing() {
        let mut store = Store::default();
        let a = store.now();
        let b = store.now();
        assert!(a < b);
    }

    #[test]
    fn rollback_restores_entries_lists_and_index() {
        let mut store = Store::new(
            HashMap::from([("Post".to_string(), vec![("slug".to_string(), false)])]),
            "en",
        );
        let mut version = Version::default();
        version.fields.insert("slug".into(), "a".into());
        let entry = Entry {
            id: "x".into(),
            created_at: String::new(),
            stages: BTreeMap::from([("DRAFT".to_string(), version)]),
        };
        store.begin();
        store.put_entry("Post", "x", Some(entry));
        store.put_list(
            "DRAFT",
            "Post",
            "tags",
            "x",
            vec![Ref {
                typename: "Tag".into(),
                id: "t".into(),
            }],
        );
        assert_eq!(
            store.find_unique("DRAFT", "Post", "slug", &"a".into()),
            Some("x")
        );
        store.rollback();
        assert!(store.entry("Post", "x").is_none());
        assert!(store.list("DRAFT", "Post", "tags", "x").is_empty());
        assert_eq!(
            store.find_unique("DRAFT", "Post", "slug", &"a".into()),
            None
        );
        assert_eq!(store.count("Post", "DRAFT"), 0);
    }
}
