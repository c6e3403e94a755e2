//! `stagesync schema`: print the content model derived from a schema file (SDL or introspection
//! JSON), a model file (TOML) or a live endpoint, as tables or as JSON.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use crate::cli::SchemaArgs;
use crate::model::{
    self, introspection::INTROSPECTION_QUERY, Access, Cardinality, ContentModel, Field, FieldKind,
    PairedBy, Pairing, Relation,
};

use super::{Exit, UsageError};

pub fn run(args: SchemaArgs) -> anyhow::Result<Exit> {
    let mut content = if args.source.starts_with("http://") || args.source.starts_with("https://") {
        from_endpoint(&args.source, args.token_env.as_deref())?
    } else {
        from_file(Path::new(&args.source))?
    };
    if let Some(path) = &args.config {
        let rules = crate::config::load_relations(path)?;
        content.apply_relations(&rules).map_err(|problems| {
            UsageError(format!(
                "{}: the [relations] table does not fit {}:\n  - {}",
                path.display(),
                args.source,
                problems.join("\n  - ")
            ))
        })?;
    }
    // On stderr, so `--json` output stays one object; the tables repeat it.
    for line in undecided_warnings(&content) {
        eprintln!("warning: {line}");
    }
    if args.json {
        super::print_json(&content)?;
    } else {
        print!("{}", tables(&content));
    }
    Ok(Exit::Ok)
}

fn from_file(path: &Path) -> anyhow::Result<ContentModel> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read {origin}: {e}")))?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let derived = match extension.as_str() {
        "graphql" | "gql" => model::from_sdl(&text, &origin),
        "toml" => model::from_model_file(&text, &origin),
        "json" => {
            let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                UsageError(format!("{origin}: not JSON ({e}); expected an introspection answer"))
            })?;
            model::from_introspection(&json, &origin)
        }
        _ => {
            return Err(UsageError(format!(
                "{origin}: unknown kind of file; give a .graphql/.gql schema, a .json introspection answer, a .toml model file or an http(s):// endpoint"
            ))
            .into())
        }
    };
    derived.map_err(|e| UsageError(e.to_string()).into())
}

fn from_endpoint(endpoint: &str, token_env: Option<&str>) -> anyhow::Result<ContentModel> {
    let url = url::Url::parse(endpoint)
        .map_err(|e| UsageError(format!("{endpoint}: not a valid URL ({e})")))?;
    let token = match token_env {
        Some(name) if !crate::config::is_variable_name(name) => {
            return Err(UsageError(
                "--token-env: not an environment variable name (A-Z, 0-9, _; the value is not shown: if it is a token, rotate it); pass the name of the variable holding the token, e.g. --token-env SOURCE_TOKEN".into(),
            )
            .into())
        }
        Some(name) => Some(secrecy::SecretString::from(std::env::var(name).map_err(|_| {
            UsageError(format!(
                "environment variable {name} (from --token-env) is not set; export the endpoint's token in it"
            ))
        })?)),
        None => None,
    };
    let origin = url.as_str().to_string();
    let json: serde_json::Value = super::runtime()?.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let mut request = client
            .post(url.clone())
            .json(&serde_json::json!({ "query": INTROSPECTION_QUERY }));
        if let Some(token) = &token {
            use secrecy::ExposeSecret as _;
            request = request.bearer_auth(token.expose_secret());
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{origin}: introspection request failed"))?;
        let status = response.status();
        if !status.is_success() {
            let hint = if status.as_u16() == 401 || status.as_u16() == 403 {
                "; check the token (--token-env) and its permissions"
            } else {
                ""
            };
            anyhow::bail!("{origin}: introspection answered HTTP {status}{hint}");
        }
        response
            .json()
            .await
            .with_context(|| format!("{origin}: the introspection answer is not JSON"))
    })?;
    Ok(model::from_introspection(&json, &origin)?)
}

/// The content model as plain-text tables.
pub(crate) fn tables(content: &ContentModel) -> String {
    let mut out = String::new();
    let others: Vec<&str> = content
        .locales
        .iter()
        .map(String::as_str)
        .filter(|l| *l != content.default_locale)
        .collect();
    let _ = writeln!(
        out,
        "Locales: {} (default){}{}",
        content.default_locale,
        if others.is_empty() { "" } else { ", " },
        others.join(", ")
    );
    let _ = writeln!(out, "Stages: {}", content.stages.join(", "));

    for m in &content.models {
        let asset = match m.asset {
            Some(system) => format!(
                ", asset system: {}",
                serde_json::to_value(system)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            ),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "\nModel {} ({} / {}{asset})",
            m.name,
            m.singular,
            m.connection()
        );
        field_table(&mut out, &m.fields);
        let relations: Vec<Vec<String>> = m
            .fields
            .iter()
            .filter_map(|f| {
                let r = f.relation()?;
                Some(vec![
                    f.name.clone(),
                    match &r.union {
                        Some(u) => format!("{u} = {}", r.targets.join(" | ")),
                        None => r.targets.join(" | "),
                    },
                    reverses(r),
                    cardinality(r.cardinality).into(),
                    paired(r),
                ])
            })
            .collect();
        if !relations.is_empty() {
            let _ = writeln!(out, "  relations:");
            table(
                &mut out,
                &["RELATION", "TARGET", "REVERSE", "CARDINALITY", "PAIRED"],
                relations,
            );
        }
    }
    for c in &content.components {
        let _ = writeln!(out, "\nComponent {}", c.name);
        field_table(&mut out, &c.fields);
    }
    // What `sync` will not write, in the words `plan` uses, so a gap is visible before a run.
    let skipped: Vec<String> = content
        .models
        .iter()
        .flat_map(|m| {
            crate::sync::shape::Shape::new(content, m)
                .skipped
                .into_iter()
                .map(|(f, reason)| format!("  skipped {}.{}: {reason}", m.name, f.name))
                .collect::<Vec<_>>()
        })
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(out, "\nNot synced");
        for line in skipped {
            let _ = writeln!(out, "{line}");
        }
    }
    if !content.enumerations.is_empty() {
        let _ = writeln!(out, "\nEnumerations");
        for e in &content.enumerations {
            let _ = writeln!(out, "  {}: {}", e.name, e.values.join(", "));
        }
    }
    out
}

fn field_table(out: &mut String, fields: &[Field]) {
    let yes = |b: bool| if b { "yes" } else { "-" }.to_string();
    let rows = fields
        .iter()
        .map(|f| {
            vec![
                f.name.clone(),
                if f.embeds.is_empty() {
                    kind(&f.kind)
                } else {
                    format!("{} embeds {}", kind(&f.kind), f.embeds.join(" | "))
                },
                yes(f.list),
                yes(f.required),
                yes(f.localized),
                yes(f.unique),
                match &f.access {
                    Access::Writable => "writable".into(),
                    Access::ReadOnly(reason) => format!("read-only: {reason}"),
                },
            ]
        })
        .collect();
    table(
        out,
        &[
            "FIELD",
            "KIND",
            "LIST",
            "REQUIRED",
            "LOCALIZED",
            "UNIQUE",
            "ACCESS",
        ],
        rows,
    );
}

fn kind(kind: &FieldKind) -> String {
    match kind {
        FieldKind::Scalar { scalar } => format!("{scalar:?}"),
        FieldKind::Enumeration { name } => format!("enum {name}"),
        FieldKind::Relation(r) => format!(
            "relation → {}",
            r.union.clone().unwrap_or_else(|| r.targets.join(" | "))
        ),
        FieldKind::Component { targets, union } => format!(
            "component {}",
            union.clone().unwrap_or_else(|| targets.join(" | "))
        ),
    }
}

/// The reverse field: one name, or per member of a union (`Article.pages, Video.appearsOn`).
fn reverses(r: &Relation) -> String {
    if let Some(one) = r.reverse() {
        return one.to_owned();
    }
    let named: Vec<String> = r
        .pairing
        .iter()
        .filter_map(|p| Some(format!("{}.{}", p.target, p.reverse.as_deref()?)))
        .collect();
    if named.is_empty() {
        "-".into()
    } else {
        named.join(", ")
    }
}

/// How the relation was paired: one word when every target was paired alike, else per target.
fn paired(r: &Relation) -> String {
    let word = |p: &Pairing| match (p.by, &p.reverse) {
        (PairedBy::Config, None) => "one-way by config",
        (by, _) => by.describe(),
    };
    match r.pairing.first() {
        Some(first) if r.pairing.iter().all(|p| word(p) == word(first)) => word(first).into(),
        _ => r
            .pairing
            .iter()
            .map(|p| format!("{}: {}", p.target, word(p)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// One line per undecided relation end, with the `[relations]` entry that would decide it.
fn undecided_warnings(content: &ContentModel) -> Vec<String> {
    let mut lines = Vec::new();
    for (model, field, target) in content.undecided_relations() {
        let candidates: Vec<String> = content
            .model(target)
            .into_iter()
            .flat_map(|m| &m.fields)
            .filter(|f| {
                !(target == model && f.name == field)
                    && f.relation().is_some_and(|r| {
                        r.pairing
                            .iter()
                            .any(|p| p.target == model && p.by == PairedBy::Undecided)
                    })
            })
            .map(|f| format!("{target}.{}", f.name))
            .collect();
        let example = candidates
            .first()
            .map_or_else(|| format!("{target}.field"), Clone::clone);
        lines.push(format!(
            "{model}.{field} → {target}: undecided between {}; stagesync reads, writes and verifies it from both sides as separate one-way relations. Say which field is its reverse in the config: [relations] \"{model}.{field}\" = \"{example}\" (or = \"one-way\"), and pass it here with --config",
            candidates.join(", ")
        ));
    }
    lines
}

fn cardinality(c: Cardinality) -> &'static str {
    match c {
        Cardinality::OneToOne => "one-to-one",
        Cardinality::OneToMany => "one-to-many",
        Cardinality::ManyToOne => "many-to-one",
        Cardinality::ManyToMany => "many-to-many",
        Cardinality::OneWay => "one-way",
    }
}

/// Writes rows under a header, columns padded to their widest cell, indented by two spaces.
fn table(out: &mut String, header: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::from("  ");
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = w - cell.chars().count();
                let _ = write!(line, "{cell}{}  ", " ".repeat(pad));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}
