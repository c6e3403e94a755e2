//! Integration tests: the sync engine (`sync`, `plan`, `verify`) with the real binary between
//! two emulators on 127.0.0.1.

use std::time::Duration;

use serde_json::{json, Value};
use stagesync::demo::files::FileServer;
use stagesync::demo::project::{seed, ProjectSpec};
use stagesync::model::{ContentModel, FieldKind, Scalar};
use stagesync::sync::shape::Shape;

use super::harness::{conference, duplicates, expect_writes, writes, Pair};

async fn seeded_pair(entries: usize, extra: &str, dest_rps: u32) -> (Pair, FileServer) {
    let content = conference();
    let pair = Pair::start_configured(content.clone(), extra, dest_rps).await;
    let mut spec = ProjectSpec::new(entries);
    spec.assets = 6;
    let files = pair.seed_source(spec).await;
    (pair, files)
}

/// A plain, non-unique, non-localized String or Int field of a model, and a way to write a
/// new value of it as a GraphQL literal.
fn plain_string(content: &ContentModel, model: &str) -> Option<String> {
    plain_field(content, model).map(|(name, _)| name)
}

fn plain_field(content: &ContentModel, model: &str) -> Option<(String, bool)> {
    let m = content.model(model)?;
    let shape = Shape::new(content, m);
    let find = |scalar: Scalar| {
        shape
            .plain
            .iter()
            .find(|f| f.kind == FieldKind::Scalar { scalar } && !f.unique && !f.list)
            .map(|f| f.name.clone())
    };
    find(Scalar::String)
        .map(|n| (n, true))
        .or_else(|| find(Scalar::Int).map(|n| (n, false)))
}

/// A GraphQL literal for edit number `n` of a field found by `plain_field`.
fn literal(is_string: bool, n: u64) -> String {
    if is_string {
        format!("\"edit {n}\"")
    } else {
        format!("{}", 10_000 + n)
    }
}

fn localized_string(content: &ContentModel, model: &str) -> Option<String> {
    let m = content.model(model)?;
    let shape = Shape::new(content, m);
    shape
        .localized
        .iter()
        .find(|f| {
            matches!(
                f.kind,
                FieldKind::Scalar {
                    scalar: Scalar::String
                }
            ) && !f.list
        })
        .map(|f| f.name.clone())
}

/// (model, field, target) of an owned list relation between two content models.
fn owned_list_relation(content: &ContentModel) -> (String, String, String) {
    for m in &content.models {
        if m.asset.is_some() {
            continue;
        }
        let shape = Shape::new(content, m);
        for f in &shape.owned {
            if let FieldKind::Relation(r) = &f.kind {
                if f.list
                    && r.union.is_none()
                    && r.targets.len() == 1
                    && content
                        .model(&r.targets[0])
                        .is_some_and(|t| t.asset.is_none())
                {
                    return (m.name.clone(), f.name.clone(), r.targets[0].clone());
                }
            }
        }
    }
    panic!("the conference model has an owned list relation");
}

/// Owners (by `owner.field`) currently holding `target` when the relation is one-to-many (a
/// target then has one owner, and connecting it elsewhere moves it).
async fn previous_owners(
    pair: &Pair,
    owner: &str,
    field: &str,
    target_model: &str,
    target: &str,
) -> Vec<String> {
    let f = pair.content.model(owner).unwrap().field(field).unwrap();
    let Some(reverse) = f
        .relation()
        .filter(|r| r.cardinality == stagesync::model::Cardinality::OneToMany)
        .and_then(|r| r.reverse().map(String::from))
    else {
        return Vec::new();
    };
    let t = pair.content.model(target_model).unwrap();
    let data = pair
        .source_gql(
            &format!(
                "query {{ t: {}(where: {{ id: \"{target}\" }}, stage: DRAFT) {{ {reverse} {{ id }} }} }}",
                t.singular
            ),
            json!({}),
        )
        .await;
    data["t"][reverse.as_str()]["id"]
        .as_str()
        .map(|s| vec![s.to_owned()])
        .unwrap_or_default()
}

async fn ids_of(pair: &Pair, model: &str, stage: &str) -> Vec<String> {
    let m = pair.content.model(model).unwrap();
    let data = pair
        .source_gql(
            &format!(
                "query {{ list: {}(first: 100, stage: {stage}) {{ id }} }}",
                m.plural
            ),
            json!({}),
        )
        .await;
    data["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Ids of entries of `model` that are draft-only / published.
async fn draft_only_and_published(pair: &Pair, model: &str) -> (Vec<String>, Vec<String>) {
    let drafts = ids_of(pair, model, "DRAFT").await;
    let published = ids_of(pair, model, "PUBLISHED").await;
    (
        drafts
            .iter()
            .filter(|d| !published.contains(d))
            .cloned()
            .collect(),
        published,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_then_noop_then_each_single_change() {
    let (pair, files) = seeded_pair(300, "", 500).await;
    let content = pair.content.clone();

    // 1. Initial sync: verify passes, and the dumps match with ids mapped.
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    super::harness::assert_same_content(&pair);
    assert!(duplicates(&pair.dest.dump()).is_empty());

    // 2. No change: zero mutations, no more reads than the pages needed.
    pair.dest.reset_stats();
    pair.source.reset_stats();
    let out = pair.ok(&["sync", "--json"]).await;
    assert_eq!(
        pair.dest_mutation_count(),
        0,
        "a no-op run wrote: {:?}",
        writes(&pair)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let dump = pair.source.dump();
    let pages: u64 = dump["models"]
        .as_object()
        .unwrap()
        .values()
        .map(|e| (e.as_array().unwrap().len() as u64).div_ceil(100).max(1))
        .sum();
    let source_stats = serde_json::to_value(pair.source.stats()).unwrap();
    assert!(
        source_stats["queries"].as_u64().unwrap() <= pages + 1,
        "read {} requests for {pages} pages (+1 introspection): {report}",
        source_stats["queries"]
    );

    // 3. Each single change writes exactly what matches it.
    let talk = content.model("Talk").expect("Talk model");
    let (field, is_string) = plain_field(&content, "Talk").expect("a plain field on Talk");
    let (drafts, published) = draft_only_and_published(&pair, "Talk").await;
    let target = &drafts[0];

    // One field.
    pair.dest.reset_stats();
    pair.source_gql(&format!("mutation {{ updateTalk(where: {{ id: \"{target}\" }}, data: {{ {field}: {} }}) {{ id }} }}", literal(is_string, 1)), json!({})).await;
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("updateTalk", 1)]);
    pair.verify_passes().await;

    // One localization.
    let loc_field = localized_string(&content, "Talk").expect("a localized field on Talk");
    let other = content
        .locales
        .iter()
        .find(|l| **l != content.default_locale)
        .unwrap()
        .clone();
    pair.dest.reset_stats();
    pair.source_gql(
        &format!("mutation {{ updateTalk(where: {{ id: \"{target}\" }}, data: {{ localizations: {{ update: [{{ locale: {other}, data: {{ {loc_field}: \"geändert\" }} }}] }} }}) {{ id }} }}"),
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("updateTalk", 1)]);
    pair.verify_passes().await;

    // One relation edge, written from the side that owns it.
    let (owner, rel_field, rel_target) = owned_list_relation(&content);
    let owner_id = ids_of(&pair, &owner, "DRAFT").await[1].clone();
    let new_target = ids_of(&pair, &rel_target, "DRAFT")
        .await
        .last()
        .unwrap()
        .clone();
    // When the target held by another owner on a one-to-many side, that owner's list changes too.
    let previous_owners =
        previous_owners(&pair, &owner, &rel_field, &rel_target, &new_target).await;
    pair.dest.reset_stats();
    pair.source_gql(
        &format!("mutation {{ update{owner}(where: {{ id: \"{owner_id}\" }}, data: {{ {rel_field}: {{ connect: [{{ where: {{ id: \"{new_target}\" }} }}] }} }}) {{ id }} }}"),
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    let moved_from = previous_owners.iter().filter(|o| **o != owner_id).count() as u64;
    expect_writes(&pair, &[(&format!("update{owner}"), 1 + moved_from)]);
    pair.verify_passes().await;

    // Publish a draft-only entry: only the publish. (A fresh entry, so that no published entry
    // holds a relation to it that was invisible until now.)
    let talk_shape = Shape::new(&content, talk);
    let fresh = pair
        .source_gql(
            "mutation($d: TalkCreateInput!) { createTalk(data: $d) { id } }",
            json!({ "d": stagesync::demo::project::entry_data(&content, &talk_shape, 8888, 0, true) }),
        )
        .await["createTalk"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    pair.ok(&["sync"]).await;
    pair.dest.reset_stats();
    let loc = if talk.has_localized_fields() {
        format!(", locales: [{}]", content.locales.join(", "))
    } else {
        String::new()
    };
    pair.source_gql(&format!("mutation {{ publishTalk(where: {{ id: \"{fresh}\" }}, to: [PUBLISHED]{loc}) {{ id }} }}"), json!({})).await;
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("publishTalk", 1)]);
    pair.verify_passes().await;

    // Publishing an entry that published entries point at: those whose visible published
    // relations now differ in the destination are republished too, nothing else.
    pair.dest.reset_stats();
    pair.source_gql(
        &format!(
            "mutation {{ publishTalk(where: {{ id: \"{}\" }}, to: [PUBLISHED]{loc}) {{ id }} }}",
            drafts[1]
        ),
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    let w = writes(&pair);
    assert!(w.get("publishTalk").copied().unwrap_or(0) >= 1, "{w:?}");
    // Nothing is created or deleted for a publish.
    assert!(
        w.keys()
            .all(|k| k.starts_with("publish") || k.starts_with("update")),
        "{w:?}"
    );
    pair.verify_passes().await;

    // Unpublish.
    pair.dest.reset_stats();
    pair.source_gql(
        &format!(
            "mutation {{ unpublishTalk(where: {{ id: \"{}\" }}, from: [PUBLISHED]) {{ id }} }}",
            published[0]
        ),
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("unpublishTalk", 1)]);
    pair.verify_passes().await;

    // A new draft over a published entry.
    pair.dest.reset_stats();
    pair.source_gql(
        &format!(
            "mutation {{ updateTalk(where: {{ id: \"{}\" }}, data: {{ {field}: {} }}) {{ id }} }}",
            published[1],
            literal(is_string, 2)
        ),
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("updateTalk", 1)]);
    pair.verify_passes().await;

    // A new entry (no relations), then its deletion.
    let shape = Shape::new(&content, talk);
    let data = stagesync::demo::project::entry_data(&content, &shape, 9999, 0, true);
    let created = pair
        .source_gql(
            "mutation($d: TalkCreateInput!) { createTalk(data: $d) { id } }",
            json!({ "d": data }),
        )
        .await;
    let new_id = created["createTalk"]["id"].as_str().unwrap().to_owned();
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("upsertTalk", 1)]);
    pair.verify_passes().await;
    pair.dest.reset_stats();
    pair.source_gql(
        &format!("mutation {{ deleteTalk(where: {{ id: \"{new_id}\" }}) {{ id }} }}"),
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("deleteTalk", 1)]);
    pair.verify_passes().await;

    // An asset's file: the new file is uploaded and moved onto the same destination asset.
    if let Some(asset) = content.asset_model() {
        let asset_id = ids_of(&pair, &asset.name, "DRAFT").await[0].clone();
        let carrier = pair
            .source_client()
            .post_form(
                "upload",
                &[("url", &format!("{}/changed-v2.bin", files.url()))],
            )
            .await
            .unwrap();
        let carrier_id = carrier["id"].as_str().unwrap();
        let handle = pair
            .source_gql(&format!("query {{ a: asset(where: {{ id: \"{carrier_id}\" }}, stage: DRAFT) {{ handle }} }}"), json!({}))
            .await["a"]["handle"]
            .as_str()
            .unwrap()
            .to_owned();
        pair.source_gql(
            &format!("mutation {{ updateAsset(where: {{ id: \"{asset_id}\" }}, data: {{ handle: \"{handle}\" }}) {{ id }} deleteAsset(where: {{ id: \"{carrier_id}\" }}) {{ id }} }}"),
            json!({}),
        )
        .await;
        pair.dest.reset_stats();
        pair.ok(&["sync"]).await;
        // Swap the handle onto the existing asset, drop the carrier, write the metadata.
        expect_writes(&pair, &[("updateAsset", 2), ("deleteAsset", 1)]);
        pair.verify_passes().await;
    }
    assert!(duplicates(&pair.dest.dump()).is_empty());
    super::harness::assert_same_content(&pair);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_state_and_full_resync_create_no_duplicates() {
    let (pair, _files) = seeded_pair(150, "", 500).await;
    pair.ok(&["sync"]).await;
    std::fs::remove_dir_all(pair.state_dir()).unwrap();
    pair.ok(&["sync"]).await;
    assert!(
        duplicates(&pair.dest.dump()).is_empty(),
        "{:?}",
        duplicates(&pair.dest.dump())
    );
    pair.verify_passes().await;
    pair.ok(&["sync", "--full"]).await;
    assert!(
        duplicates(&pair.dest.dump()).is_empty(),
        "{:?}",
        duplicates(&pair.dest.dump())
    );
    pair.verify_passes().await;
    super::harness::assert_same_content(&pair);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_writes_nothing_and_the_deletion_guard_holds() {
    let (pair, _files) = seeded_pair(120, "", 500).await;
    pair.dest.reset_stats();
    let out = pair.ok(&["plan", "--explain"]).await;
    assert_eq!(pair.dest_mutation_count(), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Talk"), "{text}");
    pair.ok(&["sync"]).await;

    // The source suddenly lost most talks.
    let talks = ids_of(&pair, "Talk", "DRAFT").await;
    let gone = talks.len() * 3 / 4;
    for id in &talks[..gone] {
        pair.source_gql(
            &format!("mutation {{ deleteTalk(where: {{ id: \"{id}\" }}) {{ id }} }}"),
            json!({}),
        )
        .await;
    }
    pair.dest.reset_stats();
    let out = pair.run(&["sync"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("deletion guard")
            && err.contains("Talk")
            && err.contains(&format!("{gone} of")),
        "{err}"
    );
    assert_eq!(
        pair.dest_mutation_count(),
        0,
        "the guard let writes through: {:?}",
        writes(&pair)
    );
    pair.ok(&["sync", "--allow-mass-delete"]).await;
    assert_eq!(
        pair.dest_writes().get("deleteTalk").copied(),
        Some(gone as u64)
    );
    pair.verify_passes().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incompatible_destination_fails_before_any_write() {
    let content = conference();
    let mut dest_model = content.clone();
    let talk = dest_model
        .models
        .iter_mut()
        .find(|m| m.name == "Talk")
        .unwrap();
    let removed = plain_string(&content, "Talk").unwrap();
    talk.fields.retain(|f| f.name != removed);
    let retyped = talk
        .fields
        .iter_mut()
        .find(|f| {
            matches!(
                f.kind,
                FieldKind::Scalar {
                    scalar: Scalar::Int | Scalar::Float | Scalar::Boolean
                }
            )
        })
        .expect("a numeric field on Talk");
    retyped.kind = FieldKind::Scalar {
        scalar: Scalar::String,
    };
    let retyped = retyped.name.clone();
    let pair = Pair::start_with(
        content.clone(),
        super::harness::options(&content, super::harness::SOURCE_TOKEN),
        super::harness::options(&dest_model, super::harness::DEST_TOKEN),
        "",
        500,
    )
    .await;
    seed(&pair.source_client(), &content, &ProjectSpec::new(20))
        .await
        .unwrap();
    pair.dest.reset_stats();
    let out = pair.run(&["sync"]).await;
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("Talk.{removed} is missing")), "{err}");
    assert!(err.contains(&format!("Talk.{retyped}")), "{err}");
    assert_eq!(pair.dest_mutation_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_any_moment_the_destination_converges() {
    // Small batches and a rate limit make the run long enough to be killed in every phase.
    let (pair, _files) = seeded_pair(200, "[batch]\nmax_mutations = 4\nconcurrency = 2", 25).await;
    let (field, is_string) = plain_field(&pair.content, "Talk").unwrap();
    let talks = ids_of(&pair, "Talk", "DRAFT").await;
    let mut kills = 0;
    let mut aborts = 0;
    for i in 0..24u64 {
        // Keep giving the run something to do.
        let id = &talks[(i as usize * 7) % talks.len()];
        pair.source_gql(&format!("mutation {{ updateTalk(where: {{ id: \"{id}\" }}, data: {{ {field}: {} }}) {{ id }} }}", literal(is_string, i)), json!({})).await;
        let mut cmd = std::process::Command::new(super::common::stagesync_bin());
        cmd.arg("sync")
            .arg("--config")
            .arg(&pair.config)
            .stderr(std::process::Stdio::null());
        if i % 4 == 3 {
            // Die exactly between an acknowledged write and its commit.
            let phase = ["content", "edges", "publication", "content"][(i / 4) as usize % 4];
            cmd.env("STAGESYNC_CRASH_AT", format!("{phase}:{}", 1 + i % 3));
            // A full pass has many batches in every phase, so the crash point is always met.
            cmd.arg("--full");
            let status = tokio::task::spawn_blocking(move || cmd.status())
                .await
                .unwrap()
                .unwrap();
            if !status.success() {
                kills += 1;
                aborts += 1;
            }
            continue;
        }
        // A full pass rewrites everything (idempotently), so every run has work to be killed in.
        cmd.arg("--full");
        let mut child = cmd.spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(40 + (i * 97) % 900)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        let _ = child.wait();
    }
    assert!(kills >= 20, "only {kills} runs were killed mid-way");
    assert_eq!(
        aborts, 6,
        "every run told to die between a write and its commit did"
    );
    pair.ok(&["sync"]).await;
    assert!(
        duplicates(&pair.dest.dump()).is_empty(),
        "{:?}",
        duplicates(&pair.dest.dump())
    );
    pair.verify_passes().await;
    super::harness::assert_same_content(&pair);
}

/// Typenames of a page's sections, draft stage.
async fn section_types(pair: &Pair, dest: bool, slug: &str) -> Vec<String> {
    let query = format!(
        "query {{ page(where: {{ slug: \"{slug}\" }}, stage: DRAFT) {{ sections {{ __typename }} }} }}"
    );
    let data = if dest {
        pair.dest_gql(&query, json!({})).await
    } else {
        pair.source_gql(&query, json!({})).await
    };
    data["page"]["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["__typename"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upserts_read_nothing_first_and_fix_an_adopted_entry_that_differs() {
    // No newer drafts: after a lost store, every entry's draft then equals what the upsert
    // writes, so any follow-up update would be a false difference.
    let content = conference();
    let pair = Pair::start_configured(content.clone(), "", 500).await;
    let mut spec = ProjectSpec::new(60);
    spec.assets = 4;
    spec.newer_draft_percent = 0;
    let _files = pair.seed_source(spec).await;
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    // Upserts of new entries only set the key in their update half and read their content back
    // in the answer, so nothing reads the destination before writing: the two queries are the
    // schema's introspection and the asset-orphan lookup.
    assert_eq!(pair.dest.stats().queries, 2, "{:?}", pair.dest.stats());
    pair.verify_passes().await;

    // The destination's copy of a page gains a section; then the state is lost, so the next
    // run upserts every entry again and must notice that this one's content differs.
    let data = pair
        .source_gql(
            "query { pages(first: 1, stage: DRAFT, orderBy: slug_ASC) { slug } }",
            json!({}),
        )
        .await;
    let slug = data["pages"][0]["slug"].as_str().unwrap().to_owned();
    pair.dest_gql(
        "mutation($slug: String!) { updatePage(where: { slug: $slug }, data: { title: \"not in the source\", sections: { create: [{ Quote: { data: { text: \"not in the source\" }, position: { start: true } } }] } }) { id } }",
        json!({ "slug": slug }),
    )
    .await;
    let title = |dest: bool| {
        let query =
            format!("query {{ page(where: {{ slug: \"{slug}\" }}, stage: DRAFT) {{ title }} }}");
        let pair = &pair;
        async move {
            let data = if dest {
                pair.dest_gql(&query, json!({})).await
            } else {
                pair.source_gql(&query, json!({})).await
            };
            data["page"]["title"].clone()
        }
    };
    assert_ne!(title(true).await, title(false).await);
    let expected = section_types(&pair, false, &slug).await;
    assert_ne!(section_types(&pair, true, &slug).await, expected);
    std::fs::remove_dir_all(pair.state_dir()).unwrap();
    let out = pair.ok(&["sync"]).await;
    assert_eq!(section_types(&pair, true, &slug).await, expected);
    assert_eq!(title(true).await, title(false).await);
    // Exactly one upsert met other content (the page's title): every other entry's answer
    // matched its source content (no false differences in any model).
    let log = String::from_utf8_lossy(&out.stderr);
    let follow_ups: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("already held this entry with other content"))
        .collect();
    assert_eq!(follow_ups.len(), 1, "{log}");
    assert!(follow_ups[0].contains("Page"), "{log}");
    // Nothing was created twice, and the adopted entries' relations and publication are right.
    assert!(duplicates(&pair.dest.dump()).is_empty());
    pair.verify_passes().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_the_destination_cannot_write_is_skipped_and_named() {
    let content = conference();
    // An optional plain field (a required one could not be created without it).
    let field = content
        .model("Speaker")
        .and_then(|m| {
            m.fields.iter().find(|f| {
                !f.required
                    && !f.localized
                    && matches!(f.kind, FieldKind::Scalar { .. })
                    && f.is_writable()
            })
        })
        .expect("an optional scalar field on Speaker")
        .name
        .clone();
    // The destination's schema has the field, but not in its input types (as for a token
    // without write permission on it, or a remote field there).
    let mut dest_model = content.clone();
    dest_model
        .models
        .iter_mut()
        .find(|m| m.name == "Speaker")
        .and_then(|m| m.fields.iter_mut().find(|f| f.name == field))
        .unwrap()
        .access = stagesync::model::Access::ReadOnly("not in the destination's inputs".into());
    let pair = Pair::start_with(
        content.clone(),
        super::harness::options(&content, super::harness::SOURCE_TOKEN),
        super::harness::options(&dest_model, super::harness::DEST_TOKEN),
        "",
        500,
    )
    .await;
    let _files = pair.seed_source(ProjectSpec::new(20)).await;

    let plan = pair.ok(&["plan"]).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&plan.stdout),
        String::from_utf8_lossy(&plan.stderr)
    );
    assert!(
        text.contains(&format!(
            "skipped Speaker.{field}: not writable in the destination"
        )),
        "{text}"
    );
    pair.ok(&["sync"]).await;
    // verify compares the field anyway: the destination does not hold the source's values,
    // and every difference is that field, named with the reason it is not written.
    let out = pair.run(&["verify"]).await;
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(4), "{report}");
    let differences: Vec<&str> = report
        .lines()
        .filter(|l| l.contains(" [DRAFT]: ") || l.contains(" [PUBLISHED]: "))
        .collect();
    assert!(!differences.is_empty(), "{report}");
    for line in differences {
        assert!(
            line.contains(&format!(
                "field {field} (stagesync does not write it: not writable in the destination"
            )),
            "{line}"
        );
    }
    let data = pair
        .dest_gql(
            &format!("query {{ speakers(first: 100, stage: DRAFT) {{ {field} }} }}"),
            json!({}),
        )
        .await;
    let speakers = data["speakers"].as_array().unwrap();
    assert!(!speakers.is_empty());
    assert!(speakers.iter().all(|s| s[&field].is_null()), "{data}");
}
