//! Integration tests: writes that create entries and cannot be repeated safely — `create` of a
//! model without a unique field, asset uploads of both asset systems — and upserts whose key is
//! renamed after a lost answer never leave a duplicate (issue 11, "No duplicate, ever"). The
//! real binary is killed between a create's answer and its commit (the next run adopts what
//! was created instead of creating it again), or the destination loses the answer after
//! applying the write (the same run looks it up and adopts it). Oracles: the destination's own entries counted and compared by content, `verify`
//! (which reports every destination entry no source entry matches), and the destination's
//! mutation counts.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use stagesync::demo::files::FileServer;
use stagesync::emulator::FaultSpec;
use stagesync::model::ContentModel;

use super::harness::{duplicates, options, writes, Pair, DEST_TOKEN, SOURCE_TOKEN};

/// `Note` has no unique field (created with `createNote`, journaled); `Tag` is upserted by its
/// unique `slug`.
fn notes_model(asset_system: &str) -> ContentModel {
    let text = format!(
        r#"
locales = [{{ code = "en", default = true }}, "de"]
stages = ["DRAFT", "PUBLISHED"]

[asset]
system = "{asset_system}"

[[models]]
name = "Note"
fields = [
  {{ name = "title", type = "String", required = true }},
  {{ name = "body", type = "String", localized = true }},
]

[[models]]
name = "Tag"
fields = [
  {{ name = "slug", type = "String", required = true, unique = true }},
  {{ name = "label", type = "String" }},
]
"#
    );
    stagesync::model::from_model_file(&text, "notes.toml").expect("the notes model")
}

const NOTES: usize = 4;
const TAGS: usize = 3;
const ASSETS: usize = 3;

/// Seeds the source: notes (one published), tags, and assets whose files the returned server
/// serves.
async fn seed(pair: &Pair, legacy: bool) -> FileServer {
    let files = FileServer::start().await.unwrap();
    for n in 0..NOTES {
        let created = pair
            .source_gql(
                "mutation ($d: NoteCreateInput!) { createNote(data: $d) { id } }",
                json!({ "d": {
                    "title": format!("note {n}"),
                    "body": format!("body {n}"),
                    "localizations": { "create": [{ "locale": "de", "data": { "body": format!("Text {n}") } }] }
                } }),
            )
            .await;
        if n == 0 {
            pair.source_gql(
                "mutation ($id: ID!) { publishNote(where: { id: $id }, to: PUBLISHED, locales: [en, de]) { id } }",
                json!({ "id": created["createNote"]["id"] }),
            )
            .await;
        }
    }
    for n in 0..TAGS {
        pair.source_gql(
            "mutation ($d: TagCreateInput!) { createTag(data: $d) { id } }",
            json!({ "d": { "slug": format!("tag-{n}"), "label": format!("Tag {n}") } }),
        )
        .await;
    }
    let client = pair.source_client();
    for n in 0..ASSETS {
        let url = format!("{}/journal-{n}.bin", files.url());
        if legacy {
            client.post_form("upload", &[("url", &url)]).await.unwrap();
        } else {
            pair.source_gql(
                "mutation ($u: String!) { createAsset(data: { uploadUrl: $u }) { id } }",
                json!({ "u": url }),
            )
            .await;
        }
    }
    if !legacy {
        // The source fetches uploaded files in the background: wait until it holds them all.
        for _ in 0..200 {
            let data = pair
                .source_gql(
                    "{ assets(first: 100, stage: DRAFT) { upload { status } } }",
                    json!({}),
                )
                .await;
            let done = data["assets"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["upload"]["status"] == "ASSET_UPLOAD_COMPLETE");
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    files
}

/// Each model's draft entries as comparable content, one item per entry (so a duplicate shows
/// as an extra item): notes by title and bodies, tags by slug and label, assets by file bytes.
async fn contents(emulator: &stagesync::emulator::Emulator, token: &str) -> Value {
    let client = super::harness::client(emulator, token, "side");
    let data = super::harness::gql(
        &client,
        "{ notes(first: 100, stage: DRAFT, locales: [en, de]) { title localizations(includeCurrent: true, locales: [en, de]) { locale body } documentInStages(stages: [PUBLISHED]) { stage } }
           tags(first: 100, stage: DRAFT) { slug label }
           assets(first: 100, stage: DRAFT) { url } }",
        json!({}),
    )
    .await;
    let mut notes: Vec<String> = data["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let mut locs: Vec<String> = n["localizations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| format!("{}={}", l["locale"], l["body"]))
                .collect();
            locs.sort();
            format!(
                "{} {} published:{}",
                n["title"],
                locs.join(","),
                n["documentInStages"].as_array().map_or(0, Vec::len)
            )
        })
        .collect();
    notes.sort();
    let mut tags: Vec<String> = data["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{} {}", t["slug"], t["label"]))
        .collect();
    tags.sort();
    let mut assets = Vec::new();
    for a in data["assets"].as_array().unwrap() {
        let bytes = client
            .get_bytes(a["url"].as_str().unwrap())
            .await
            .expect("the asset's file");
        assets.push(blake3::hash(&bytes).to_hex().to_string());
    }
    assets.sort();
    json!({ "notes": notes, "tags": tags, "assets": assets })
}

/// Both sides hold the same entries, each once; `verify` agrees.
async fn converged(pair: &Pair, what: &str) {
    let source = contents(&pair.source, SOURCE_TOKEN).await;
    let dest = contents(&pair.dest, DEST_TOKEN).await;
    assert_eq!(
        source, dest,
        "{what}: the destination differs from the source"
    );
    assert_eq!(dest["notes"].as_array().unwrap().len(), NOTES, "{what}");
    assert_eq!(dest["assets"].as_array().unwrap().len(), ASSETS, "{what}");
    let dump = pair.dest.dump();
    let tags_and_assets = json!({ "models": {
        "Tag": dump["models"]["Tag"], "Asset": dump["models"]["Asset"]
    } });
    assert!(duplicates(&tags_and_assets).is_empty(), "{what}");
    pair.verify_passes().await;
}

/// Runs `stagesync sync` with `STAGESYNC_CRASH_AT=<at>`: it must die there.
async fn sync_crashing_at(pair: &Pair, at: &str) {
    let out = tokio::process::Command::new(super::common::stagesync_bin())
        .args(["sync", "--config"])
        .arg(&pair.config)
        .env("STAGESYNC_CRASH_AT", at)
        .output()
        .await
        .unwrap();
    assert!(
        !out.status.success(),
        "the sync was to be aborted at {at}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("aborting before the commit"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dest_count(pair: &Pair, model: &str) -> usize {
    pair.dest.dump()["models"][model]
        .as_array()
        .map_or(0, Vec::len)
}

/// Killed after an asset upload was answered but before its commit, then after the creates of
/// entries without a unique field were answered but before their commit: the next run adopts
/// them all (no `createNote`, no upload) and converges.
async fn killed_creates_are_adopted(legacy: bool) {
    let system = if legacy { "legacy" } else { "upload-url" };
    let pair = Pair::start(notes_model(system)).await;
    let _files = seed(&pair, legacy).await;

    sync_crashing_at(&pair, "upload:2").await;
    assert_eq!(
        dest_count(&pair, "Asset"),
        2,
        "killed after the second upload"
    );
    // Content goes level by level: the assets' batch is `content:1`, the notes' and tags' next.
    sync_crashing_at(&pair, "content:2").await;
    assert_eq!(dest_count(&pair, "Asset"), ASSETS);
    assert_eq!(
        dest_count(&pair, "Note"),
        NOTES,
        "killed after the creates were applied"
    );

    pair.dest.reset_stats();
    let out = pair.ok(&["sync"]).await;
    let log = String::from_utf8_lossy(&out.stderr);
    let sent = writes(&pair);
    assert_eq!(
        sent.get("createNote"),
        None,
        "notes created again: {sent:?}"
    );
    assert_eq!(
        sent.get("createAsset"),
        None,
        "assets created again: {sent:?}"
    );
    assert_eq!(dest_count(&pair, "Asset"), ASSETS, "assets uploaded again");
    assert!(
        log.contains("a create whose answer was lost is adopted"),
        "the journal adopted them:\n{log}"
    );
    converged(&pair, &format!("{system}: killed twice, then one sync")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_killed_before_their_commit_are_adopted_legacy_assets() {
    killed_creates_are_adopted(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_killed_before_their_commit_are_adopted_upload_url_assets() {
    killed_creates_are_adopted(false).await;
}

/// The destination applies a create and loses its answer (`drop-after`, once): a create is
/// never resent blindly; the run looks up what landed (by content, or by the file's bytes,
/// among the entries created since the pending record), adopts it, and completes — in the same
/// run, each write sent once.
async fn lost_answer_is_adopted(system: &str, only: &str, model: &str) {
    let content = notes_model(system);
    let mut dest = options(&content, DEST_TOKEN);
    dest.faults =
        Some(FaultSpec::parse(&format!("rate=1,kinds=drop-after,only={only},max=1")).unwrap());
    let pair = Pair::start_with(
        content.clone(),
        options(&content, SOURCE_TOKEN),
        dest,
        "",
        500,
    )
    .await;
    let _files = seed(&pair, system == "legacy").await;
    let out = pair.ok(&["sync"]).await;
    let log = String::from_utf8_lossy(&out.stderr);
    let faults = serde_json::to_value(pair.dest.stats()).unwrap()["faults"].clone();
    assert_eq!(faults["drop-after"], 1, "{faults}");
    assert!(
        log.contains("a create whose answer was lost had landed")
            || log.contains("a create whose answer was lost is adopted"),
        "the lost write was looked up and adopted:\n{log}"
    );
    let sent = writes(&pair);
    let stats = pair.dest.stats();
    match model {
        "Note" => assert_eq!(sent.get("createNote"), Some(&(NOTES as u64)), "{sent:?}"),
        _ if system == "legacy" => assert_eq!(stats.uploads, ASSETS as u64, "uploads"),
        _ => assert_eq!(sent.get("createAsset"), Some(&(ASSETS as u64)), "{sent:?}"),
    }
    converged(
        &pair,
        &format!("{model} ({system}): a lost answer, in one sync"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_answer_is_adopted_not_repeated() {
    lost_answer_is_adopted("legacy", "createNote", "Note").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_legacy_upload_answer_is_adopted_not_repeated() {
    lost_answer_is_adopted("legacy", "url=http", "Asset").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_asset_answer_is_adopted_not_repeated() {
    lost_answer_is_adopted("upload-url", "StagesyncCreateAsset", "Asset").await;
}

/// An upsert applied, the run killed before its commit, then the entry's unique key renamed in
/// the source: the next run finds the entry by the key it sent and renames it, instead of
/// upserting the new key into a second entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_renamed_after_a_lost_upsert_answer_does_not_duplicate() {
    let pair = Pair::start(notes_model("legacy")).await;
    let _files = seed(&pair, true).await;
    // `content:1` is the assets' batch (the first level), `content:2` the tags' and notes'.
    sync_crashing_at(&pair, "content:2").await;
    assert_eq!(dest_count(&pair, "Tag"), TAGS, "the upserts were applied");
    pair.source_gql(
        "mutation { updateTag(where: { slug: \"tag-1\" }, data: { slug: \"tag-1-renamed\" }) { id } }",
        json!({}),
    )
    .await;
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    let dest_slugs: BTreeMap<String, usize> = pair.dest.dump()["models"]["Tag"]
        .as_array()
        .unwrap()
        .iter()
        .fold(BTreeMap::new(), |mut m, t| {
            let slug = t["stages"]["DRAFT"]["fields"]["slug"]
                .as_str()
                .unwrap()
                .to_owned();
            *m.entry(slug).or_default() += 1;
            m
        });
    assert_eq!(
        dest_slugs.keys().collect::<Vec<_>>(),
        ["tag-0", "tag-1-renamed", "tag-2"],
        "one entry per tag, renamed in place: {dest_slugs:?}"
    );
    assert!(dest_slugs.values().all(|n| *n == 1), "{dest_slugs:?}");
    converged(&pair, "a tag renamed after a lost upsert answer").await;
}

/// A key renamed in the source after a completed sync, then a repair before any sync: the
/// repair keeps the store's mapping of that entry (no other source entry holds its old key)
/// and renames it, instead of matching by the new key alone and upserting a second entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_after_a_key_rename_renames_in_place() {
    let pair = Pair::start(notes_model("legacy")).await;
    let _files = seed(&pair, true).await;
    pair.ok(&["sync"]).await;
    pair.source_gql(
        "mutation { updateTag(where: { slug: \"tag-2\" }, data: { slug: \"tag-2-renamed\" }) { id } }",
        json!({}),
    )
    .await;
    pair.dest.reset_stats();
    pair.ok(&["sync", "--repair"]).await;
    let sent = writes(&pair);
    assert_eq!(sent.get("upsertTag"), None, "{sent:?}");
    assert_eq!(sent.get("updateTag"), Some(&1), "{sent:?}");
    assert_eq!(dest_count(&pair, "Tag"), TAGS);
    converged(&pair, "a tag renamed, then a repair").await;
}

/// Gives a legacy source asset a new file, as an editor does: a new upload (the carrier) whose
/// handle moves onto the asset, then the carrier deleted.
async fn change_legacy_file(pair: &Pair, files: &FileServer, name: &str) {
    let assets = pair
        .source_gql("{ assets(first: 1, stage: DRAFT) { id } }", json!({}))
        .await;
    let asset = assets["assets"][0]["id"].as_str().unwrap().to_owned();
    let carrier = pair
        .source_client()
        .post_form("upload", &[("url", &format!("{}/{name}", files.url()))])
        .await
        .unwrap();
    let carrier = carrier["id"].as_str().unwrap().to_owned();
    let handle = pair
        .source_gql(
            "query ($id: ID!) { asset(where: { id: $id }, stage: DRAFT) { handle } }",
            json!({ "id": carrier }),
        )
        .await["asset"]["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    pair.source_gql(
        "mutation ($id: ID!, $c: ID!, $h: String!) { updateAsset(where: { id: $id }, data: { handle: $h }) { id } deleteAsset(where: { id: $c }) { id } }",
        json!({ "id": asset, "c": carrier, "h": handle }),
    )
    .await;
}

/// A changed legacy file goes by a carrier: a new asset uploaded from the source's file,
/// whose handle then moves onto the destination's asset before the carrier is deleted. Killed
/// between the carrier's upload and that swap (issue 11's kill torture, seed
/// 1795915394411610130, attempt 36), the next run finds the carrier by its bytes (it was
/// journaled) and finishes the swap: no extra asset stays in the destination, and the file is
/// not uploaded a third time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_carrier_left_by_a_kill_before_its_swap_is_swapped_in_not_left_over() {
    let pair = Pair::start(notes_model("legacy")).await;
    let files = seed(&pair, true).await;
    pair.ok(&["sync"]).await;
    change_legacy_file(&pair, &files, "changed-file.bin").await;

    sync_crashing_at(&pair, "carrier:1").await;
    assert_eq!(
        dest_count(&pair, "Asset"),
        ASSETS + 1,
        "killed after the carrier was uploaded, before the swap"
    );
    pair.dest.reset_stats();
    let out = pair.ok(&["sync"]).await;
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("the carrier of a changed file, left by an interrupted run, is swapped in"),
        "{log}"
    );
    let uploads = pair.dest.stats().uploads;
    assert_eq!(uploads, 0, "the file was uploaded again");
    converged(
        &pair,
        "a changed file killed before its swap, then one sync",
    )
    .await;
}
