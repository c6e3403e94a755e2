//! The sync engine: one run makes the destination hold what the source holds, writing only what
//! changed since the last acknowledged write.
//!
//! read → canonicalize + hash → snapshot → plan → apply (assets, content, edges, publication,
//! drafts, deletions) → commit. See `shared/DESIGN.md`, "The sync, one run".

use std::sync::Arc;

mod acks;
mod apply;
mod assets;
pub mod canonical;
mod compat;
mod engine;
mod journal;
mod order;
mod plan;
pub mod progress;
pub mod read;
mod repair;
mod run;
mod scan;
pub mod shape;
mod verify;
pub mod write;

pub use plan::{Action, EntryPlan, ModelPlan, Plan, SkippedField};
pub use run::{now_ms, record_run, succeeded};
pub use verify::{verify, Difference, VerifyReport};

use std::collections::HashSet;

use crate::config::{Config, Endpoint};
use crate::hygraph::{Client, ClientError};
use crate::model::{ContentModel, ModelError};
use crate::store::{Checkpoint, RunMode, RunRecord, Store, StoreError};
use shape::Shape;

/// What a caller asks of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub mode: RunMode,
    /// Ignore acknowledged hashes: set for `Full`; with `DryRun`, plans a full pass.
    pub full: bool,
    /// With `DryRun`: list changed fields per entry.
    pub explain: bool,
    /// Let deletions beyond `deletions.max` through for this run.
    pub allow_mass_delete: bool,
    /// Draw progress bars on stderr (the caller decides: `--progress`).
    pub progress_bars: bool,
    /// Set to `true` to stop the run at the next safe point (between batches).
    pub cancel: tokio::sync::watch::Receiver<bool>,
    /// Live progress, for `status` while a daemon runs.
    pub live: Option<Arc<std::sync::Mutex<Option<Checkpoint>>>>,
}

impl RunOptions {
    pub fn new(mode: RunMode) -> RunOptions {
        let (_tx, cancel) = tokio::sync::watch::channel(false);
        RunOptions {
            mode,
            full: mode == RunMode::Full,
            explain: false,
            allow_mass_delete: false,
            progress_bars: false,
            cancel,
            live: None,
        }
    }
}

/// The outcome of a run that got to its end (possibly with failed entries).
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The record also stored in the `runs` tree.
    pub record: RunRecord,
    /// The plan, for dry runs (rendered by `commands`).
    pub plan: Option<Plan>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{endpoint} request failed")]
    Client {
        endpoint: String,
        #[source]
        source: Box<ClientError>,
    },
    #[error("{endpoint}: reading {model} failed: {message}")]
    Read {
        endpoint: String,
        model: String,
        message: String,
    },
    #[error(transparent)]
    QueryTooLarge(#[from] read::QueryTooLarge),
    #[error("{endpoint}: the schema does not describe a Hygraph project")]
    Schema {
        endpoint: String,
        #[source]
        source: Box<ModelError>,
    },
    #[error(transparent)]
    Canonical(#[from] canonical::CanonicalError),
    #[error(
        "the destination cannot hold what the source has; nothing was written. Align the destination's schema (or exclude these with `skip_models`):\n  - {}",
        .0.join("\n  - ")
    )]
    Incompatible(Vec<String>),
    #[error(
        "the destination's schema has no mutations (its token is read-only, or the schema was exported with one); nothing was written. Give stagesync a destination token with write permission"
    )]
    ReadOnlyDestination,
    #[error("config names models the source does not have: {}; `stagesync schema <source URL>` lists them", .0.join(", "))]
    UnknownModels(Vec<String>),
    #[error(
        "config `stages` names stages the schemas do not have: {}. Remove them from `stages`, or add the stage to that project (Project settings → Content stages)",
        .0.join("; ")
    )]
    UnknownStages(Vec<String>),
    #[error(
        "config `locales` names locales the schemas do not have: {}. Remove them from `locales` (leave it out to sync every locale), or add the locale to that project (Project settings → Locales)",
        .0.join("; ")
    )]
    UnknownLocales(Vec<String>),
    #[error(
        "the config's [relations] table does not fit the source's schema:\n  - {}\n`stagesync schema <source URL>` lists the relations and how each is paired",
        .0.join("\n  - ")
    )]
    Relations(Vec<String>),
    #[error(
        "required relations form a cycle: {}. No entry of these models can be created before another one exists, so nothing was written. Make one of these relations optional in the schema (its \"Required\" setting in Hygraph)",
        .0.join(", ")
    )]
    RequiredCycle(Vec<String>),
    #[error("identity.{model} = \"{field}\": {problem}")]
    Identity {
        model: String,
        field: String,
        problem: String,
    },
    #[error(
        "deletion guard: {count} of {tracked} tracked {model} entries are gone from the source, more than the configured maximum ({limit}); nothing was written. If the source really lost them, rerun with --allow-mass-delete (or raise deletions.max)"
    )]
    DeletionGuard {
        model: String,
        count: u64,
        tracked: u64,
        limit: String,
    },
    #[error("the store has no snapshot of {model} {id}; run `stagesync sync --full`")]
    MissingSnapshot { model: String, id: String },
    #[error("{endpoint}: asset {id}: {message}")]
    Asset {
        endpoint: String,
        id: String,
        message: String,
    },
    #[error(
        "the run was stopped before it finished; the next run resumes from the acknowledged state"
    )]
    Cancelled,
}

impl SyncError {
    /// The config asks for something the schemas do not have: a configuration error.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            SyncError::UnknownModels(_)
                | SyncError::UnknownStages(_)
                | SyncError::UnknownLocales(_)
                | SyncError::Identity { .. }
                | SyncError::Relations(_)
                | SyncError::RequiredCycle(_)
                | SyncError::ReadOnlyDestination
                | SyncError::QueryTooLarge(_)
        )
    }

    /// A write failed in a way that may hide its having been applied — a 5xx, a timeout after
    /// it was sent, a dropped or garbled answer — and the endpoint is not given up on: a
    /// journaled write looks up whether it landed before it is sent again (see `journal`).
    pub(crate) fn answer_lost(&self) -> bool {
        match self {
            SyncError::Client { source, .. } => {
                source.write_may_have_applied()
                    && !matches!(
                        **source,
                        ClientError::GaveUp { .. } | ClientError::HttpStatus { .. }
                    )
            }
            _ => false,
        }
    }

    pub(crate) fn client(endpoint: impl Into<String>, source: ClientError) -> SyncError {
        SyncError::Client {
            endpoint: endpoint.into(),
            source: Box::new(source),
        }
    }
}

/// Runs one sync.
pub async fn run(config: &Config, store: &Store, opts: RunOptions) -> Result<RunReport, SyncError> {
    run::run(config, store, opts).await
}

pub(crate) fn endpoint_client(endpoint: &Endpoint) -> Result<Client, SyncError> {
    Client::new(endpoint.clone()).map_err(|source| SyncError::client(endpoint.name.clone(), source))
}

pub(crate) async fn introspect(client: &Client) -> Result<ContentModel, SyncError> {
    let json = client
        .introspect()
        .await
        .map_err(|source| SyncError::client(client.name().to_owned(), source))?;
    crate::model::from_introspection(&json, client.name()).map_err(|source| SyncError::Schema {
        endpoint: client.name().to_owned(),
        source: Box::new(source),
    })
}

/// Both content models, read from the endpoints.
pub(crate) struct Schemas {
    pub source: ContentModel,
    pub dest: ContentModel,
}

/// Both schemas, introspected at once, with the config's `[relations]` applied to both before
/// anything uses them. Entries naming what the source lacks are a configuration error; the
/// destination takes the entries its own schema can (a field it lacks is reported by the
/// compatibility check, naming the fix).
pub(crate) async fn prepare(
    config: &Config,
    source: &Client,
    dest: &Client,
) -> Result<Schemas, SyncError> {
    let (s, d) = futures::join!(introspect(source), introspect(dest));
    let mut schemas = Schemas {
        source: s?,
        dest: d?,
    };
    if !config.relations.is_empty() {
        schemas
            .source
            .apply_relations(&config.relations)
            .map_err(SyncError::Relations)?;
        let fitting: Vec<crate::config::RelationRule> = config
            .relations
            .iter()
            .filter(|rule| {
                schemas
                    .dest
                    .clone()
                    .apply_relations(std::slice::from_ref(rule))
                    .is_ok()
            })
            .cloned()
            .collect();
        if let Err(problems) = schemas.dest.apply_relations(&fitting) {
            tracing::warn!(problems = %problems.join("; "), "[relations] left out for the destination");
        }
    }
    for (model, field, target) in schemas.source.undecided_relations() {
        tracing::warn!(
            "relation {model}.{field} → {target} is undecided (several fields of {target} could be its reverse): synced and verified from both sides; name its reverse in the config's [relations] (`stagesync schema` lists them)"
        );
    }
    Ok(schemas)
}

/// Everything a run derives once from config and schemas.
pub(crate) struct Prepared<'a> {
    /// The source's content model.
    pub content: &'a ContentModel,
    /// The destination's.
    pub dest: &'a ContentModel,
    pub shapes: Vec<Shape<'a>>,
    pub queries: Vec<read::PageQuery>,
    /// Identity field per shape (`id` or a unique field).
    pub identity: Vec<String>,
    pub locales: Vec<String>,
    /// Synced stages other than DRAFT, in config order.
    pub stages: Vec<String>,
    pub default_locale: String,
    /// Models whose schema changed since the last run: compared as if nothing was acknowledged.
    pub full_models: HashSet<String>,
    /// Recorded when a run gets to its end, so an interrupted full pass is redone.
    pub fingerprints: Vec<(String, [u8; 32])>,
    /// Per shape: the required relations its creates connect (see `order`).
    pub required: Vec<Vec<&'a crate::model::Field>>,
    /// Per shape: the level its content is written at (see `order::levels`).
    pub levels: Vec<usize>,
}

impl<'a> Prepared<'a> {
    pub fn new(
        config: &Config,
        store: Option<&Store>,
        schemas: &'a Schemas,
    ) -> Result<Prepared<'a>, SyncError> {
        let content = &schemas.source;
        let names = select_models(config, content)?;
        let skips = compat::check(content, &schemas.dest, &names)?;
        let stages = compat::stages(&config.stages, content, &schemas.dest)?;
        let locales = match &config.locales {
            Some(l) => compat::locales(l, content, &schemas.dest)?,
            None => content.locales.clone(),
        };
        let mut prepared = Prepared {
            content,
            dest: &schemas.dest,
            shapes: Vec::new(),
            queries: Vec::new(),
            identity: Vec::new(),
            locales,
            stages: stages.iter().filter(|s| *s != "DRAFT").cloned().collect(),
            default_locale: content.default_locale.clone(),
            full_models: HashSet::new(),
            fingerprints: Vec::new(),
            required: Vec::new(),
            levels: Vec::new(),
        };
        let mut all_required = Vec::new();
        for name in &names {
            let model = content.model(name).expect("selected from the model");
            let mut shape = Shape::new(content, model);
            for (_, field, reason) in skips.iter().filter(|(m, _, _)| m == name) {
                shape.skip(field, reason.clone());
            }
            prepared.identity.push(identity(config, model)?);
            let limit = config
                .source
                .max_query_bytes
                .min(config.destination.max_query_bytes);
            prepared.queries.push(read::page_query_within(
                &shape,
                content,
                &stages,
                limit,
                prepared.locales.len(),
            )?);
            if let Some(store) = store {
                let fingerprint = compat::fingerprint(model, schemas.dest.model(name));
                let stored = store.model_fingerprint(name)?;
                if stored != Some(fingerprint) {
                    if stored.is_some() {
                        tracing::info!(model = %name, "schema changed since the last run: full pass for this model");
                    }
                    prepared.full_models.insert(name.clone());
                }
                prepared.fingerprints.push((name.clone(), fingerprint));
            }
            let dest = schemas.dest.model(name);
            prepared.required.push(order::required_fields(&shape, dest));
            all_required.push(order::all_required(&shape, dest));
            prepared.shapes.push(shape);
        }
        // A run (it writes) cannot create the models of a cycle of required relations: refused
        // before anything is read or written. `verify` only reads, and compares them all the same.
        match order::levels(&prepared.shapes, &all_required) {
            Ok(levels) => prepared.levels = levels,
            Err(cycle) if store.is_some() => return Err(SyncError::RequiredCycle(cycle)),
            Err(_) => prepared.levels = vec![1; prepared.shapes.len()],
        }
        // Bound only once the config is known to fit the schemas: a config error writes nothing.
        if let Some(store) = store {
            store.bind_pair(&config.pair())?;
        }
        Ok(prepared)
    }

    /// Locales read and written for a model. Asset files are per locale in Hygraph; only the
    /// default locale's file is synced.
    pub fn locales_for(&self, shape: &Shape<'_>) -> Vec<String> {
        if shape.is_asset() {
            vec![self.default_locale.clone()]
        } else {
            self.locales.clone()
        }
    }
}

fn select_models(config: &Config, content: &ContentModel) -> Result<Vec<String>, SyncError> {
    let mut unknown = Vec::new();
    for name in config.models.iter().flatten().chain(&config.skip_models) {
        if content.model(name).is_none() {
            unknown.push(name.clone());
        }
    }
    for name in config.identity.keys() {
        if content.model(name).is_none() {
            unknown.push(format!("{name} (in [identity])"));
        }
    }
    if !unknown.is_empty() {
        return Err(SyncError::UnknownModels(unknown));
    }
    // Assets first, so that their uploads are done before entries link to them.
    let mut names: Vec<String> = content
        .models
        .iter()
        .filter(|m| config.models.as_ref().is_none_or(|l| l.contains(&m.name)))
        .filter(|m| !config.skip_models.contains(&m.name))
        .map(|m| m.name.clone())
        .collect();
    names.sort_by_key(|n| content.model(n).is_none_or(|m| m.asset.is_none()));
    Ok(names)
}

fn identity(config: &Config, model: &crate::model::Model) -> Result<String, SyncError> {
    if let Some(field) = config.identity.get(&model.name) {
        if field == "id" {
            return Ok(field.clone());
        }
        return match model.field(field) {
            Some(f) if f.unique => Ok(field.clone()),
            Some(_) => Err(SyncError::Identity {
                model: model.name.clone(),
                field: field.clone(),
                problem: "the field is not unique; use `id` or a unique field".into(),
            }),
            None => Err(SyncError::Identity {
                model: model.name.clone(),
                field: field.clone(),
                problem: "the model has no such field".into(),
            }),
        };
    }
    let unique: Vec<&crate::model::Field> = model.unique_fields().collect();
    Ok(match unique.as_slice() {
        [one] => one.name.clone(),
        _ => "id".into(),
    })
}
