//! The demo itself: two emulated environments on 127.0.0.1, a seeded source project, an initial
//! sync, a handful of edits, the plan and the incremental sync that writes only those, and a
//! verify — all through the same engine a real run uses. The story goes to stdout; logs stay
//! at the level the command line asked for (none by default).

use std::path::PathBuf;

use serde_json::{json, Value};

use super::files::FileServer;
use super::project::{self, ProjectSpec, Rng};
use crate::config::Config;
use crate::emulator::{Emulator, EmulatorOptions};
use crate::hygraph::{Client, EndpointConfig, Idempotency};
use crate::model::ContentModel;
use crate::render::table;
use crate::store::{RunMode, RunRecord, Store};
use crate::sync::{self, shape::Shape, RunOptions};

/// The conference project the demo syncs (also `tests/fixtures/conference.toml`).
pub const CONFERENCE_MODEL: &str = include_str!("../../tests/fixtures/conference.toml");

pub struct DemoOptions {
    pub entries: usize,
    /// Keep the emulators running after the story: [`Tour::running`] holds them.
    pub keep: bool,
    /// Where the state is kept (else a temporary directory, removed with the tour).
    pub state_dir: Option<PathBuf>,
    /// Draw progress bars on stderr during the syncs.
    pub progress: bool,
}

/// How the demo ended.
pub struct Tour {
    /// verify found both sides equal.
    pub matched: bool,
    /// With `keep`: the emulators, still serving until this is dropped.
    pub running: Option<Running>,
}

/// The emulators and the files of a kept demo.
pub struct Running {
    pub config: PathBuf,
    pub source_token_file: PathBuf,
    pub source_url: String,
    _source: Emulator,
    _dest: Emulator,
    _files: FileServer,
    _work: tempfile::TempDir,
}

/// Runs the demo.
pub async fn run(opts: DemoOptions) -> anyhow::Result<Tour> {
    let content: ContentModel = crate::model::from_model_file(CONFERENCE_MODEL, "conference.toml")?;
    let mut rng = Rng::new(2026);
    let source_token = format!("demo-source-{:016x}", rng.next_u64());
    let dest_token = format!("demo-destination-{:016x}", rng.next_u64());
    let start = |token: &str| {
        let mut o = EmulatorOptions::new(content.clone());
        o.token = Some(token.to_owned());
        o
    };
    let source = Emulator::start(start(&source_token)).await?;
    let dest = Emulator::start(start(&dest_token)).await?;
    let files = FileServer::start().await?;
    let work = tempfile::tempdir()?;
    let state_dir = opts
        .state_dir
        .clone()
        .unwrap_or_else(|| work.path().join("state"));
    std::fs::write(work.path().join("source.token"), &source_token)?;
    std::fs::write(work.path().join("destination.token"), &dest_token)?;
    let config_path = work.path().join("stagesync.toml");
    std::fs::write(
        &config_path,
        format!(
            "state_dir = \"{}\"\n\n[source]\nurl = \"{}\"\ntoken_file = \"{}\"\nrequests_per_second = 200\nburst = 20\n\n[destination]\nurl = \"{}\"\ntoken_file = \"{}\"\nrequests_per_second = 200\nburst = 20\n",
            state_dir.display(),
            source.url(),
            work.path().join("source.token").display(),
            dest.url(),
            work.path().join("destination.token").display()
        ),
    )?;
    let config = Config::load(&config_path, None)?;

    say(&format!(
        "Two emulated Hygraph environments are up:\n  source      {}\n  destination {}\nSeeding the source with about {} entries of the conference model (relations both ways, a union, two locales, assets with real bytes, drafts, published entries and newer drafts)...",
        source.url(),
        dest.url(),
        opts.entries
    ));
    let source_client = client(&source, &source_token, "source")?;
    let mut spec = ProjectSpec::new(opts.entries);
    spec.assets = (opts.entries / 100).clamp(3, 40);
    spec.file_base = Some(files.url().to_owned());
    let seeded = project::seed(&source_client, &content, &spec).await?;
    let total: usize = seeded.ids.values().map(Vec::len).sum();
    say(&format!("Seeded {total} entries and assets.\n"));

    let store = Store::open(&config.state_dir)?;
    say("1. The initial sync: every entry, edge, localization, asset and publication state.");
    let first = sync_once(&config, &store, RunMode::Incremental, opts.progress).await?;
    print!("{}", crate::render::run_table(&first));

    say("\n2. Editing a handful of source entries: a field, a relation, a publish, a deletion, a new asset.");
    let edits = edit(&source_client, &content, &seeded, files.url()).await?;
    for e in &edits {
        say(&format!("   - {e}"));
    }

    say("\n3. The plan (nothing written yet):");
    let mut plan_opts = RunOptions::new(RunMode::DryRun);
    plan_opts.explain = true;
    let plan = sync::run(&config, &store, plan_opts).await?;
    if let Some(plan) = &plan.plan {
        print!("{}", crate::render::plan_table(plan));
    }
    say("   The incremental sync writes only those changes:");
    let second = sync_once(&config, &store, RunMode::Incremental, opts.progress).await?;
    print!("{}", crate::render::run_table(&second));
    let row = |what: &str, a: u64, b: u64| vec![what.to_owned(), a.to_string(), b.to_string()];
    say("");
    print!(
        "{}",
        table(
            &["requests", "initial sync", "after edits"],
            &[
                row("source", first.source.requests, second.source.requests),
                row(
                    "destination",
                    first.destination.requests,
                    second.destination.requests
                ),
                row(
                    "mutations",
                    first.destination.mutations,
                    second.destination.mutations
                ),
            ],
        )
    );
    say(&format!(
        "{} edits in the source -> {} destination mutations in the incremental run (initial: {}).",
        edits.len(),
        second.destination.mutations,
        first.destination.mutations
    ));

    say(
        "\n4. verify: reading both sides completely and comparing every entry, stage and locale...",
    );
    let report = sync::verify(&config, Some(&store)).await?;
    print!("{}", crate::render::sides_table(&report.models));
    for d in report.differences.iter().take(20) {
        say(&format!(
            "   DIFFERENCE {} {} [{}]: {}",
            d.model, d.id, d.stage, d.what
        ));
    }
    let matched = report.matches();
    if matched {
        say("   Both sides match.");
    } else {
        say(&format!("   {} differences.", report.differences.len()));
    }
    store.flush()?;
    drop(store);

    match &opts.state_dir {
        Some(dir) => say(&format!(
            "\n5. The state is kept in {} (a sled store). Inspect it with:\n   stagesync checkpoints --state-dir {}\n   stagesync checkpoints models --state-dir {}",
            dir.display(),
            dir.display(),
            dir.display()
        )),
        None if opts.keep => say(&format!(
            "\n5. The state is in {} (a temporary directory, removed at Ctrl-C). Inspect it meanwhile with:\n   stagesync checkpoints --state-dir {}",
            state_dir.display(),
            state_dir.display()
        )),
        None => say(
            "\n5. The state was in a temporary directory, removed now. To keep it and inspect it afterwards:\n   stagesync demo --state-dir DIR    then    stagesync checkpoints --state-dir DIR",
        ),
    }
    let running = opts.keep.then(|| Running {
        config: config_path.clone(),
        source_token_file: work.path().join("source.token"),
        source_url: source.url().trim_end_matches('/').to_owned(),
        _source: source,
        _dest: dest,
        _files: files,
        _work: work,
    });
    Ok(Tour { matched, running })
}

fn say(line: &str) {
    println!("{line}");
}

fn client(emulator: &Emulator, token: &str, name: &str) -> anyhow::Result<Client> {
    let cfg =
        EndpointConfig::new(name, url::Url::parse(&emulator.url())?).with_token(token.to_owned());
    Ok(Client::new(cfg)?)
}

async fn sync_once(
    config: &Config,
    store: &Store,
    mode: RunMode,
    progress: bool,
) -> anyhow::Result<RunRecord> {
    let mut opts = RunOptions::new(mode);
    opts.progress_bars = progress;
    Ok(sync::run(config, store, opts).await?.record)
}

async fn gql(client: &Client, query: &str, variables: Value) -> anyhow::Result<Value> {
    let r = client
        .graphql(query, variables, Idempotency::Unsafe)
        .await?;
    if let Some(e) = r.errors.first() {
        anyhow::bail!("editing the source: {}", e.message);
    }
    Ok(r.data.unwrap_or(Value::Null))
}

/// The demo's edits; returns what was done, in words.
async fn edit(
    client: &Client,
    content: &ContentModel,
    seeded: &project::Project,
    file_base: &str,
) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::new();
    let talk = content
        .model("Talk")
        .ok_or_else(|| anyhow::anyhow!("no Talk model"))?;
    let shape = Shape::new(content, talk);
    let talks = &seeded.ids["Talk"];
    let editable = |scalar| {
        shape
            .plain
            .iter()
            .find(|f| !f.unique && !f.list && f.kind == crate::model::FieldKind::Scalar { scalar })
    };
    let edit = editable(crate::model::Scalar::String)
        .map(|f| (f, "\"Edited in the demo\"".to_string()))
        .or_else(|| editable(crate::model::Scalar::Int).map(|f| (f, "4242".to_string())));
    if let Some((f, value)) = edit {
        gql(client, &format!("mutation {{ updateTalk(where: {{ id: \"{}\" }}, data: {{ {}: {value} }}) {{ id }} }}", talks[0], f.name), json!({})).await?;
        done.push(format!("Talk {}: field {} edited", talks[0], f.name));
    }
    if let Some(f) = shape.owned.iter().find(|f| f.list) {
        let rel = f.relation().expect("relation");
        if let Some(pool) = seeded.ids.get(&rel.targets[0]) {
            let target = &pool[pool.len() / 2];
            let w = if rel.union.is_some() {
                format!("{{ {}: {{ id: \"{target}\" }} }}", rel.targets[0])
            } else {
                format!("{{ id: \"{target}\" }}")
            };
            gql(client, &format!("mutation {{ updateTalk(where: {{ id: \"{}\" }}, data: {{ {}: {{ set: [{w}] }} }}) {{ id }} }}", talks[1], f.name), json!({})).await?;
            done.push(format!(
                "Talk {}: relation {} set to one target",
                talks[1], f.name
            ));
        }
    }
    let locales = if talk.has_localized_fields() {
        format!(", locales: [{}]", content.locales.join(", "))
    } else {
        String::new()
    };
    // A talk that is only a draft so far.
    let mut draft_only = None;
    for id in talks.iter().skip(2).take(50) {
        let found = gql(
            client,
            &format!("query {{ t: talk(where: {{ id: \"{id}\" }}, stage: PUBLISHED) {{ id }} }}"),
            json!({}),
        )
        .await?;
        if found["t"].is_null() {
            draft_only = Some(id.clone());
            break;
        }
    }
    if let Some(id) = draft_only {
        gql(client, &format!("mutation {{ publishTalk(where: {{ id: \"{id}\" }}, to: [PUBLISHED]{locales}) {{ id }} }}"), json!({})).await?;
        done.push(format!("Talk {id}: published"));
    }
    gql(
        client,
        &format!(
            "mutation {{ deleteTalk(where: {{ id: \"{}\" }}) {{ id }} }}",
            talks[3]
        ),
        json!({}),
    )
    .await?;
    done.push(format!("Talk {}: deleted", talks[3]));
    if let Some(asset) = content.asset_model() {
        let url = format!("{file_base}/demo-new-asset.bin");
        let id = match asset.asset {
            Some(crate::model::AssetSystem::Legacy) => {
                client.post_form("upload", &[("url", &url)]).await?["id"]
                    .as_str()
                    .map(str::to_owned)
            }
            _ => gql(
                client,
                "mutation($u: String!) { createAsset(data: { uploadUrl: $u }) { id } }",
                json!({ "u": url }),
            )
            .await?["createAsset"]["id"]
                .as_str()
                .map(str::to_owned),
        };
        if let Some(id) = id {
            done.push(format!("Asset {id}: uploaded"));
        }
    }
    Ok(done)
}
