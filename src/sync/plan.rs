//! What a run will write, decided per entry from its fresh read and what the destination
//! acknowledged: pure functions over [`Entry`] and [`NodeRecord`], no I/O. [`Work`] is one
//! entry's work (its first [`Round`] inline, later rounds listed); [`Plan`] sums a run's work
//! per model for the dry run's report, which `commands` renders.
//!
//! Stages: Hygraph publishes an entry's draft to a stage, so each distinct version the source's
//! non-draft stages hold is a round — write that version (content, then edges), publish it to
//! exactly the stages holding it — and the draft is written last. Stages holding the draft's
//! version are published with it. An entry whose stages all hold one version (the common case)
//! takes one round, as cheap as before custom stages. Each stage's version is acknowledged on
//! its own, so an interrupted run resumes with the stages it had not published yet.

use std::collections::BTreeMap;

use super::acks::{held, key, VersionKey};
use super::canonical::{Entry, Version};
use crate::store::{Acked, Hash, NodeRecord};

/// Tracked entries of one model (by index) that the source no longer has: source id and
/// destination id.
pub(super) type Deletions = (usize, Vec<(String, Option<String>)>);

/// Which version a write takes its values from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Sel {
    Draft,
    /// The version the source holds in this non-draft stage.
    Stage(String),
}

/// A later round of one entry: write a version, then publish it to the stages holding it.
#[derive(Debug, Clone)]
pub(super) struct Round {
    pub(super) sel: Sel,
    pub(super) content: bool,
    pub(super) edges: bool,
    pub(super) to: Vec<String>,
}

/// What one entry needs this run.
#[derive(Debug, Clone)]
pub(super) struct Work {
    pub(super) model: usize,
    pub(super) id: String,
    pub(super) content: Option<Sel>,
    pub(super) edges: Option<Sel>,
    /// Stages to publish the version written in this round to (all hold that version).
    pub(super) publish: Vec<String>,
    pub(super) unpublish: Vec<String>,
    /// Further rounds, one per other version the stages hold; round i of every entry runs
    /// after round i-1 of every entry.
    pub(super) rounds: Vec<Round>,
    /// Write the draft after the rounds (content and edges in one update).
    pub(super) drafts: bool,
    /// Stages holding the draft's version, published once `drafts` is written.
    pub(super) publish_drafts: Vec<String>,
    /// Only the relations of a published version changed, as publishing a related entry does:
    /// compare with the destination after the publication phase before writing anything.
    pub(super) check: bool,
    pub(super) explain: Vec<String>,
    /// The destination does not hold the entry yet (the store knows no destination id).
    pub(super) create: bool,
}

impl Work {
    pub(super) fn new(model: usize, id: String, explain: Vec<String>) -> Work {
        Work {
            model,
            id,
            content: None,
            edges: None,
            publish: Vec::new(),
            unpublish: Vec::new(),
            rounds: Vec::new(),
            drafts: false,
            publish_drafts: Vec::new(),
            check: false,
            explain,
            create: false,
        }
    }

    pub(super) fn publication(&self) -> bool {
        !self.publish.is_empty()
            || !self.unpublish.is_empty()
            || !self.rounds.is_empty()
            || !self.publish_drafts.is_empty()
    }
}

pub(super) fn select<'e>(entry: &'e Entry, sel: &Sel) -> &'e Version {
    match sel {
        Sel::Draft => &entry.draft,
        Sel::Stage(stage) => entry.stages.get(stage).unwrap_or(&entry.draft),
    }
}

/// Whether every stage the draft's write waits for holds the source's version in the
/// destination (all but `w.publish_drafts`, published after it), and none the source left.
pub(super) fn rounds_done(entry: &Entry, acked: &Acked, configured: &[String], w: &Work) -> bool {
    let held = held(acked, configured);
    held.keys().all(|s| entry.stages.contains_key(s))
        && entry
            .stages
            .iter()
            .all(|(s, v)| w.publish_drafts.contains(s) || held.get(s) == Some(&Some(key(v))))
}

/// Decides what one entry needs, from its fresh read and what the destination acknowledged.
/// `configured`: the synced non-draft stages.
pub(super) fn plan_entry(
    m: usize,
    entry: &Entry,
    seen: &crate::store::Hashes,
    record: &NodeRecord,
    full: bool,
    explain: Vec<String>,
    configured: &[String],
) -> Option<Work> {
    // A full pass forgets what was acknowledged, but not what the destination is known to hold
    // (its id, its stages), so it rewrites everything without duplicating or over-unpublishing.
    let acked = if full {
        Acked {
            stages: record.acked.stages.clone(),
            locales: record.acked.locales.clone(),
            file: record.acked.file.clone(),
            ..Default::default()
        }
    } else {
        record.acked.clone()
    };
    let new = record.dest_id.is_none();
    let mut w = Work::new(m, entry.id.clone(), explain);
    w.create = new;
    let publication_changed = acked.publication != Some(seen.publication);
    let side_effect_only = publication_changed
        && !full
        && !new
        && acked.publication_content == Some(seen.publication_content)
        && acked.stages.as_ref() == Some(&entry.stages.keys().cloned().collect::<Vec<_>>());
    if side_effect_only {
        w.check = true;
        if acked.content != Some(seen.content) {
            w.content = Some(Sel::Draft);
        }
        if acked.edges != Some(seen.edges) {
            w.edges = Some(Sel::Draft);
        }
    } else {
        let (draft, held) = if new {
            ((None, None), BTreeMap::new())
        } else {
            ((acked.content, acked.edges), held(&acked, configured))
        };
        plan_publication(&mut w, entry, draft, &held);
    }
    if w.content.is_none() && w.edges.is_none() && !w.publication() && !w.check {
        return None;
    }
    Some(w)
}

/// Plans the rounds of one entry: each distinct version that stages needing it hold (PUBLISHED's
/// first) is written and published to them; the draft comes last, with the stages holding its
/// version. `draft`: the content and edges hashes the destination's draft holds (`None`:
/// unknown, written); `held`: see [`held`].
pub(super) fn plan_publication(
    w: &mut Work,
    entry: &Entry,
    draft: (Option<Hash>, Option<Hash>),
    held: &BTreeMap<String, Option<VersionKey>>,
) {
    let mut order: Vec<&String> = entry.stages.keys().collect();
    order.sort_by_key(|s| s.as_str() != "PUBLISHED");
    let mut groups: Vec<(VersionKey, Vec<String>)> = Vec::new();
    for stage in order {
        let k = key(&entry.stages[stage]);
        if held.get(stage) == Some(&Some(k)) {
            continue;
        }
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, stages)) => stages.push(stage.clone()),
            None => groups.push((k, vec![stage.clone()])),
        }
    }
    w.unpublish = held
        .keys()
        .filter(|s| !entry.stages.contains_key(*s))
        .cloned()
        .collect();
    let draft_key = key(&entry.draft);
    let with_draft = match groups.iter().position(|(k, _)| *k == draft_key) {
        Some(i) => groups.remove(i).1,
        None => Vec::new(),
    };
    let mut current = draft;
    let mut rounds: Vec<Round> = groups
        .into_iter()
        .map(|(k, to)| {
            let round = Round {
                sel: Sel::Stage(to[0].clone()),
                content: current.0 != Some(k.0),
                edges: current.1 != Some(k.1),
                to,
            };
            current = (Some(k.0), Some(k.1));
            round
        })
        .collect();
    if rounds.is_empty() {
        w.content = (current.0 != Some(draft_key.0)).then_some(Sel::Draft);
        w.edges = (current.1 != Some(draft_key.1)).then_some(Sel::Draft);
        w.publish = with_draft;
    } else {
        let first = rounds.remove(0);
        w.content = first.content.then(|| first.sel.clone());
        w.edges = first.edges.then(|| first.sel.clone());
        w.publish = first.to;
        w.rounds = rounds;
        // The last round's version is not the draft's: the draft is written after it.
        w.drafts = true;
        w.publish_drafts = with_draft;
    }
}

/// A round writes a stage's version into the destination's draft and publishes it. Where
/// that version holds a target of a relation whose targets have one owner (`single_owner`:
/// such fields of the entry's model) that the entry's own draft no longer holds, the target
/// has moved to another owner's draft, and that owner's draft write in the same run takes it
/// from this entry's destination draft. The round then writes its relations even though the
/// destination's draft was acknowledged with them (after the draft writes: see
/// `apply_edges`), so the published version keeps the target.
pub(super) fn rewrite_rounds_holding_moved_targets(
    w: &mut Work,
    entry: &Entry,
    single_owner: &[&str],
) {
    let moved = |stage: &str| {
        entry.stages.get(stage).is_some_and(|v| {
            single_owner.iter().any(|f| {
                v.edges.get(*f).is_some_and(|targets| {
                    targets
                        .iter()
                        .any(|t| !entry.draft.edges.get(*f).is_some_and(|d| d.contains(t)))
                })
            })
        })
    };
    // The first round runs inline: its stage is the first it publishes to.
    if w.drafts && w.edges.is_none() {
        if let Some(stage) = w.publish.first().filter(|s| moved(s)).cloned() {
            w.edges = Some(Sel::Stage(stage));
        }
    }
    for round in w.rounds.iter_mut().filter(|r| !r.edges) {
        if let Sel::Stage(stage) = &round.sel {
            round.edges = moved(stage);
        }
    }
}

/// What a run will write: per model, the counts of a dry run's report (the columns a run
/// reports, see `render::COUNT_COLUMNS`) and, with `--explain`, why each entry is written or
/// deleted. Data only: `commands` renders it as a table or as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub models: Vec<ModelPlan>,
}

/// The plan of one model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelPlan {
    pub model: String,
    /// Entries the destination does not hold yet.
    pub created: u64,
    /// Entries whose content is rewritten (not counting the created ones).
    pub updated: u64,
    /// Entries read and found with nothing to write.
    pub unchanged: u64,
    /// Entries deleted in the destination (none with `deletions.policy = "keep"`).
    pub deleted: u64,
    /// Entries whose relations are rewritten.
    pub edges: u64,
    /// Entries whose publication changes (the table's PUBLISHED column): published to a stage,
    /// unpublished from one, or both.
    pub publication: u64,
    /// Entries published to at least one stage.
    pub published: u64,
    /// Entries unpublished from at least one stage.
    pub unpublished: u64,
    /// Entries whose published relations are compared with the destination before anything
    /// is written (related entries' publication changed them).
    pub checked: u64,
    /// With `--explain`: each entry written or deleted, and why.
    pub entries: Vec<EntryPlan>,
    /// Fields not synced, and why.
    pub skipped: Vec<SkippedField>,
}

/// One entry of a plan and why it is in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPlan {
    /// The source id.
    pub id: String,
    pub action: Action,
    /// Changed fields (`title`, `stage PUBLISHED`, `new`), or why else it is written.
    pub why: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Write,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Write => "write",
            Action::Delete => "delete",
        }
    }
}

/// A field of the source the destination cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedField {
    pub field: String,
    pub reason: String,
}

/// Why an entry whose change was not explained is written.
const UNACKNOWLEDGED: &str = "not yet acknowledged by the destination";
const CHECKED: &str = "published relations changed by related entries (checked in the destination)";

impl ModelPlan {
    /// The plan of one model from its work items. `gone`: source ids of tracked entries the
    /// source no longer has (deleted only when `mirror`); `explain`: list entries and why.
    pub(super) fn new(
        model: String,
        work: &[&Work],
        gone: &[String],
        unchanged: u64,
        mirror: bool,
        explain: bool,
    ) -> ModelPlan {
        let count = |f: &dyn Fn(&Work) -> bool| work.iter().filter(|w| f(w)).count() as u64;
        let created = count(&|w| w.create);
        let mut plan = ModelPlan {
            model,
            created,
            updated: count(&|w| w.content.is_some()).saturating_sub(created),
            unchanged,
            deleted: if mirror { gone.len() as u64 } else { 0 },
            edges: count(&|w| w.edges.is_some()),
            publication: count(&Work::publication),
            published: count(&|w| {
                !w.publish.is_empty() || !w.rounds.is_empty() || !w.publish_drafts.is_empty()
            }),
            unpublished: count(&|w| !w.unpublish.is_empty()),
            checked: count(&|w| w.check),
            ..Default::default()
        };
        if explain {
            for w in work {
                let mut why = w.explain.clone();
                if w.check {
                    why.push(CHECKED.into());
                }
                if why.is_empty() {
                    why.push(UNACKNOWLEDGED.into());
                }
                plan.entries.push(EntryPlan {
                    id: w.id.clone(),
                    action: Action::Write,
                    why,
                });
            }
            for id in gone {
                plan.entries.push(EntryPlan {
                    id: id.clone(),
                    action: Action::Delete,
                    why: vec!["deleted in the source".into()],
                });
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::acks::{refresh_publication, set_stage};
    use serde_json::json;

    fn version(body: &str) -> Version {
        let mut v = Version::default();
        v.fields.insert("body".into(), json!(body));
        v
    }

    fn entry(draft: &str, stages: &[(&str, &str)]) -> Entry {
        Entry {
            id: "e1".into(),
            draft: version(draft),
            stages: stages
                .iter()
                .map(|(s, b)| (s.to_string(), version(b)))
                .collect(),
        }
    }

    fn configured() -> Vec<String> {
        vec!["PUBLISHED".into(), "QA".into()]
    }

    /// The record after a sync of `e` acknowledged everything.
    fn synced(e: &Entry) -> NodeRecord {
        let mut acked = Acked {
            content: Some(e.draft.content_hash()),
            edges: Some(e.draft.edges_hash()),
            stages: Some(Vec::new()),
            ..Default::default()
        };
        for (s, v) in &e.stages {
            set_stage(&mut acked, &configured(), s, Some(key(v)));
        }
        refresh_publication(&mut acked, &configured());
        NodeRecord {
            seen: Some(e.hashes()),
            acked,
            dest_id: Some("d1".into()),
            ..Default::default()
        }
    }

    fn plan(e: &Entry, record: &NodeRecord) -> Option<Work> {
        plan_entry(0, e, &e.hashes(), record, false, Vec::new(), &configured())
    }

    #[test]
    fn one_version_in_every_stage_is_one_round() {
        let e = entry("v1", &[("PUBLISHED", "v1"), ("QA", "v1")]);
        let w = plan(&e, &NodeRecord::default()).unwrap();
        assert_eq!(w.content, Some(Sel::Draft));
        assert_eq!(w.edges, Some(Sel::Draft));
        assert_eq!(w.publish, ["PUBLISHED", "QA"]);
        assert!(w.rounds.is_empty() && !w.drafts && w.publish_drafts.is_empty());
        assert!(plan(&e, &synced(&e)).is_none(), "synced: nothing to do");
    }

    #[test]
    fn three_versions_are_two_rounds_then_the_draft() {
        let e = entry("draft", &[("PUBLISHED", "p"), ("QA", "q")]);
        let w = plan(&e, &NodeRecord::default()).unwrap();
        assert_eq!(w.content, Some(Sel::Stage("PUBLISHED".into())));
        assert_eq!(w.publish, ["PUBLISHED"]);
        assert_eq!(w.rounds.len(), 1);
        assert_eq!(w.rounds[0].sel, Sel::Stage("QA".into()));
        assert_eq!(w.rounds[0].to, ["QA"]);
        assert!(
            w.rounds[0].content && !w.rounds[0].edges,
            "same (empty) edges"
        );
        assert!(w.drafts && w.publish_drafts.is_empty());
    }

    #[test]
    fn a_stage_holding_the_draft_is_published_after_it() {
        let e = entry("v2", &[("PUBLISHED", "v1"), ("QA", "v2")]);
        let w = plan(&e, &NodeRecord::default()).unwrap();
        assert_eq!(w.publish, ["PUBLISHED"]);
        assert!(w.rounds.is_empty());
        assert!(w.drafts);
        assert_eq!(w.publish_drafts, ["QA"]);
    }

    #[test]
    fn only_the_changed_stage_is_republished() {
        let before = entry("v1", &[("PUBLISHED", "v1"), ("QA", "v1")]);
        let record = synced(&before);
        let after = entry("v1", &[("PUBLISHED", "v1"), ("QA", "v2")]);
        let w = plan(&after, &record).unwrap();
        assert_eq!(w.content, Some(Sel::Stage("QA".into())));
        assert_eq!(w.edges, None);
        assert_eq!(w.publish, ["QA"]);
        assert!(w.drafts && w.unpublish.is_empty());
    }

    #[test]
    fn leaving_one_stage_unpublishes_from_that_stage_only() {
        let before = entry("v1", &[("PUBLISHED", "v1"), ("QA", "v1")]);
        let record = synced(&before);
        let after = entry("v1", &[("PUBLISHED", "v1")]);
        let w = plan(&after, &record).unwrap();
        assert_eq!(w.unpublish, ["QA"]);
        assert!(w.content.is_none() && w.edges.is_none() && w.publish.is_empty());
    }

    #[test]
    fn a_half_done_entry_resumes_with_the_missing_stage() {
        let e = entry("draft", &[("PUBLISHED", "p"), ("QA", "q")]);
        // Killed after PUBLISHED's round: the destination's draft holds PUBLISHED's version.
        let mut acked = Acked {
            content: Some(e.stages["PUBLISHED"].content_hash()),
            edges: Some(e.stages["PUBLISHED"].edges_hash()),
            stages: Some(Vec::new()),
            ..Default::default()
        };
        set_stage(
            &mut acked,
            &configured(),
            "PUBLISHED",
            Some(key(&e.stages["PUBLISHED"])),
        );
        refresh_publication(&mut acked, &configured());
        assert_ne!(acked.publication, Some(e.publication_hash()));
        let record = NodeRecord {
            acked,
            dest_id: Some("d1".into()),
            ..Default::default()
        };
        let w = plan(&e, &record).unwrap();
        assert_eq!(w.content, Some(Sel::Stage("QA".into())));
        assert_eq!(w.publish, ["QA"]);
        assert!(w.rounds.is_empty() && w.drafts);
    }

    #[test]
    fn a_model_plan_counts_what_its_work_writes_and_says_why() {
        let before = entry("v1", &[("PUBLISHED", "v1"), ("QA", "v1")]);
        let new = plan(&entry("v1", &[("PUBLISHED", "v1")]), &NodeRecord::default()).unwrap();
        let left_qa = plan(&entry("v1", &[("PUBLISHED", "v1")]), &synced(&before)).unwrap();
        let mut edited = plan(
            &entry("v2", &[("PUBLISHED", "v1"), ("QA", "v1")]),
            &synced(&before),
        )
        .unwrap();
        edited.explain = vec!["body".into()];
        let work = [&new, &left_qa, &edited];
        let gone = ["old".to_string()];
        let p = ModelPlan::new("Post".into(), &work, &gone, 4, true, true);
        let counts = (
            p.created,
            p.updated,
            p.unchanged,
            p.deleted,
            p.edges,
            p.publication,
            p.published,
            p.unpublished,
        );
        assert_eq!(counts, (1, 1, 4, 1, 1, 2, 1, 1), "{p:?}");
        let why: Vec<(Action, String)> = p
            .entries
            .iter()
            .map(|e| (e.action, e.why.join(", ")))
            .collect();
        let expected = [
            (Action::Write, UNACKNOWLEDGED),
            (Action::Write, UNACKNOWLEDGED),
            (Action::Write, "body"),
            (Action::Delete, "deleted in the source"),
        ]
        .map(|(a, w)| (a, w.to_string()));
        assert_eq!(why, expected);
        // Kept, not deleted; without `--explain`, no entries.
        let kept = ModelPlan::new("Post".into(), &work, &gone, 4, false, false);
        assert_eq!(kept.deleted, 0);
        assert!(kept.entries.is_empty());
    }
}
