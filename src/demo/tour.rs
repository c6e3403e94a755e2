//! The demo itself: two emulated environments on 127.0.0.1, a seeded source project, an initial
//! sync, a handful of edits, the plan and the incremental sync that writes only those, and a
//! verify — all through the same engine a real run uses. The story goes to stdout; logs stay
//! at the level the command line asked for (none by default).
//!
//! The project is the built-in conference model, or any real Hygraph schema ([`DemoSchema`]):
//! both emulators serve that schema itself, and the generator fills every model of it. The
//! edits pick one model of the project: `Talk` in the conference, else the first model with
//! enough entries whose entries no required relation points at (deleting one would leave its
//! owners unreadable, which is the next run's failure to report, not the demo's story); where
//! every model is such a target, the deletion is left out.

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
    /// A real schema to run on instead of the conference model.
    pub schema: Option<DemoSchema>,
    /// Seed of the generated project.
    pub seed: u64,
    /// Keep the emulators running after the story: [`Tour::running`] holds them.
    pub keep: bool,
    /// Where the state is kept (else a temporary directory, removed with the tour).
    pub state_dir: Option<PathBuf>,
    /// Draw progress bars on stderr during the syncs.
    pub progress: bool,
}

/// A real Hygraph schema the demo runs on, read and checked before anything starts.
pub struct DemoSchema {
    /// The file's name, for the story.
    pub name: String,
    /// Emulator options serving it (the content model derived from it included).
    pub options: EmulatorOptions,
}

/// Why a schema file cannot be demonstrated on.
#[derive(Debug, thiserror::Error)]
pub enum DemoSchemaError {
    #[error("cannot read the schema file {path}: {source}; pass a Hygraph schema exported as SDL or as the JSON answer of the introspection query")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Schema(#[from] crate::emulator::EmulatorError),
    #[error("the schema {path} has no mutations (it was exported with a read-only token): the demo writes content into it; export the schema again with a token that may write")]
    ReadOnly { path: String },
}

impl DemoSchema {
    /// Reads a schema file (SDL, or introspection JSON with or without `{"data": ...}`).
    pub fn load(path: &std::path::Path) -> Result<DemoSchema, DemoSchemaError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| DemoSchemaError::Read {
            path: origin.clone(),
            source,
        })?;
        let options = EmulatorOptions::from_schema(&text, &origin)?;
        if !options.model.mutations {
            return Err(DemoSchemaError::ReadOnly { path: origin });
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or(origin);
        Ok(DemoSchema { name, options })
    }
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
    let (what, base) = match opts.schema {
        Some(schema) => (format!("the schema {}", schema.name), schema.options),
        None => (
            "the conference model".to_owned(),
            EmulatorOptions::new(crate::model::from_model_file(
                CONFERENCE_MODEL,
                "conference.toml",
            )?),
        ),
    };
    let content: ContentModel = base.model.clone();
    let mut rng = Rng::new(2026);
    let source_token = format!("demo-source-{:016x}", rng.next_u64());
    let dest_token = format!("demo-destination-{:016x}", rng.next_u64());
    let start = |token: &str| {
        let mut o = base.clone();
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
        "Two emulated Hygraph environments are up:\n  source      {}\n  destination {}\nSeeding the source with about {} entries of {what} ({} models; relations both ways, unions, {} locales, assets with real bytes, drafts, published entries and newer drafts)...",
        source.url(),
        dest.url(),
        opts.entries,
        content.models.len(),
        content.locales.len(),
    ));
    let source_client = client(&source, &source_token, "source")?;
    let mut spec = ProjectSpec::new(opts.entries);
    spec.seed = opts.seed;
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

/// The model the demo edits, and whether one of its entries may be deleted (no required
/// relation points at it).
fn edited_model<'c>(
    content: &'c ContentModel,
    seeded: &project::Project,
) -> Option<(&'c crate::model::Model, bool)> {
    let required_targets: std::collections::BTreeSet<&str> = content
        .models
        .iter()
        .flat_map(|m| m.fields.iter())
        .chain(content.components.iter().flat_map(|c| c.fields.iter()))
        .filter(|f| f.required)
        .filter_map(|f| f.relation())
        .flat_map(|r| r.targets.iter().map(String::as_str))
        .collect();
    let candidates: Vec<&crate::model::Model> = content
        .models
        .iter()
        .filter(|m| m.asset.is_none())
        .filter(|m| seeded.ids.get(&m.name).is_some_and(|ids| ids.len() >= 4))
        .collect();
    let deletable = |m: &crate::model::Model| !required_targets.contains(m.name.as_str());
    candidates
        .iter()
        .find(|m| m.name == "Talk" && deletable(m))
        .or_else(|| candidates.iter().find(|m| deletable(m)))
        .map(|m| (*m, true))
        .or_else(|| candidates.first().map(|m| (*m, false)))
}

/// The demo's edits on the source (a field, a relation, a publication, a deletion, a new asset,
/// as the model allows); returns what was done, in words.
pub async fn edit(
    client: &Client,
    content: &ContentModel,
    seeded: &project::Project,
    file_base: &str,
) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::new();
    if let Some((model, deletable)) = edited_model(content, seeded) {
        edit_entries(client, content, seeded, model, deletable, &mut done).await?;
    }
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
                &format!(
                    "mutation($u: String!) {{ create{}(data: {{ uploadUrl: $u }}) {{ id }} }}",
                    asset.name
                ),
                json!({ "u": url }),
            )
            .await?[format!("create{}", asset.name)]["id"]
                .as_str()
                .map(str::to_owned),
        };
        if let Some(id) = id {
            done.push(format!("{} {id}: uploaded", asset.name));
        }
    }
    Ok(done)
}

async fn edit_entries(
    client: &Client,
    content: &ContentModel,
    seeded: &project::Project,
    model: &crate::model::Model,
    deletable: bool,
    done: &mut Vec<String>,
) -> anyhow::Result<()> {
    let name = &model.name;
    let shape = Shape::new(content, model);
    let ids = &seeded.ids[name];
    let editable =
        |scalar| {
            shape.plain.iter().chain(&shape.localized).find(|f| {
                !f.unique && !f.list && f.kind == crate::model::FieldKind::Scalar { scalar }
            })
        };
    let edit = editable(crate::model::Scalar::String)
        .map(|f| (f, "\"Edited in the demo\"".to_string()))
        .or_else(|| editable(crate::model::Scalar::Int).map(|f| (f, "4242".to_string())));
    if let Some((f, value)) = edit {
        gql(client, &format!("mutation {{ update{name}(where: {{ id: \"{}\" }}, data: {{ {}: {value} }}) {{ id }} }}", ids[0], f.name), json!({})).await?;
        done.push(format!("{name} {}: field {} edited", ids[0], f.name));
    }
    if let Some(f) = shape.owned.iter().find(|f| f.list && !f.required) {
        let rel = f.relation().expect("relation");
        if let Some(pool) = seeded.ids.get(&rel.targets[0]).filter(|p| !p.is_empty()) {
            let target = &pool[pool.len() / 2];
            let w = if rel.union.is_some() {
                format!("{{ {}: {{ id: \"{target}\" }} }}", rel.targets[0])
            } else {
                format!("{{ id: \"{target}\" }}")
            };
            gql(client, &format!("mutation {{ update{name}(where: {{ id: \"{}\" }}, data: {{ {}: {{ set: [{w}] }} }}) {{ id }} }}", ids[1], f.name), json!({})).await?;
            done.push(format!(
                "{name} {}: relation {} set to one target",
                ids[1], f.name
            ));
        }
    }
    let locales = if model.has_localized_fields() {
        format!(", locales: [{}]", content.locales.join(", "))
    } else {
        String::new()
    };
    // An entry that is only a draft so far.
    let mut draft_only = None;
    for id in ids.iter().skip(2).take(50) {
        let found = gql(
            client,
            &format!(
                "query {{ t: {}(where: {{ id: \"{id}\" }}, stage: PUBLISHED) {{ id }} }}",
                model.singular
            ),
            json!({}),
        )
        .await?;
        if found["t"].is_null() {
            draft_only = Some(id.clone());
            break;
        }
    }
    if let Some(id) = draft_only {
        gql(client, &format!("mutation {{ publish{name}(where: {{ id: \"{id}\" }}, to: [PUBLISHED]{locales}) {{ id }} }}"), json!({})).await?;
        done.push(format!("{name} {id}: published"));
    }
    if deletable {
        gql(
            client,
            &format!(
                "mutation {{ delete{name}(where: {{ id: \"{}\" }}) {{ id }} }}",
                ids[3]
            ),
            json!({}),
        )
        .await?;
        done.push(format!("{name} {}: deleted", ids[3]));
    }
    Ok(())
}
