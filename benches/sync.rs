//! The benchmark: stagesync against the naive strategy it replaces, on the conference model,
//! against the emulator, in one run. Prints a markdown table.
//!
//! ```sh
//! cargo bench --bench sync                         # N = 1,000, 10,000, 100,000
//! cargo bench --bench sync -- --sizes 1000 --no-naive
//! ```
//!
//! Per size: stagesync's initial sync, no-op rerun, and rerun after 1% of entries changed
//! (fields, edges, publication), each as a separate `stagesync sync` process (wall time, CPU
//! time, peak RSS from `wait4`); the naive strategy (read every page, then one upsert per entry
//! per request, sequentially, then relations one request per entry) for the same three; request
//! counts and bytes from the emulators' own counters; the store's size on disk. Then the initial
//! sync and 1% rerun at N = 1,000 under a 5 requests/second limit, with the lower bound.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use stagesync::demo::project::{entry_data, seed, ProjectSpec, Rng};
use stagesync::emulator::{Emulator, EmulatorOptions, RateLimit};
use stagesync::hygraph::{Client, EndpointConfig, Idempotency};
use stagesync::model::{ContentModel, FieldKind};
use stagesync::sync::shape::Shape;

const TOKEN_S: &str = "bench-source";
const TOKEN_D: &str = "bench-destination";

struct Args {
    sizes: Vec<usize>,
    naive: bool,
    limited: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        sizes: vec![1_000, 10_000, 100_000],
        naive: true,
        limited: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--sizes" => {
                args.sizes = it
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|s| s.trim().replace('_', "").parse().ok())
                    .collect()
            }
            "--no-naive" => args.naive = false,
            "--no-limited" => args.limited = false,
            _ => {} // cargo passes --bench
        }
    }
    args
}

#[derive(Debug, Default, Clone)]
struct Measure {
    wall: Duration,
    cpu: Duration,
    max_rss_kb: i64,
    source_reads: u64,
    dest_requests: u64,
    dest_write_requests: u64,
    dest_mutations: u64,
    bytes_sent: u64,
    rate_limited: u64,
    store_bytes: u64,
}

fn stat(e: &Emulator, key: &str) -> u64 {
    serde_json::to_value(e.stats()).unwrap()[key]
        .as_u64()
        .unwrap_or(0)
}

fn du(path: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(path) {
        for e in rd.flatten() {
            let m = e.metadata().unwrap();
            total += if m.is_dir() { du(&e.path()) } else { m.len() };
        }
    }
    total
}

/// Runs `stagesync sync` as a child and measures it with wait4.
fn run_stagesync(config: &Path) -> (Duration, Duration, i64, bool) {
    let start = Instant::now();
    // `STAGESYNC_BENCH_WRAP="heaptrack -o /tmp/ht"` runs stagesync under a profiler (the
    // measured numbers are then the profiler's, not stagesync's).
    let wrap = std::env::var("STAGESYNC_BENCH_WRAP").unwrap_or_default();
    let mut words = wrap.split_whitespace();
    let mut child = match words.next() {
        Some(program) => {
            let mut c = std::process::Command::new(program);
            c.args(words).arg(env!("CARGO_BIN_EXE_stagesync"));
            c
        }
        None => std::process::Command::new(env!("CARGO_BIN_EXE_stagesync")),
    };
    let mut child = child
        .args(["sync", "-q", "--json", "--config"])
        .arg(config)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("stagesync starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).ok();
        text
    });
    let pid = child.id() as i32;
    let mut status = 0;
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child with valid out-pointers.
    let r = unsafe { nix::libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let wall = start.elapsed();
    let tv = |t: nix::libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    std::mem::forget(child);
    // The process reports its own peak RSS (VmHWM after exec): wait4's ru_maxrss would count
    // the benchmark's own memory, which the child shares between fork and exec.
    let report: serde_json::Value =
        serde_json::from_str(&reader.join().unwrap_or_default()).unwrap_or_default();
    let rss = report["process"]["peak_rss_kb"].as_i64().unwrap_or(0);
    (wall, cpu, rss, status == 0)
}

struct Setup {
    content: ContentModel,
    source: Emulator,
    dest: Emulator,
    dir: tempfile::TempDir,
    config: PathBuf,
}

async fn setup(content: &ContentModel, n: usize, rate: Option<u32>) -> Setup {
    let opts = |token: &str, limit: Option<u32>| {
        let mut o = EmulatorOptions::new(content.clone());
        o.token = Some(token.to_owned());
        o.rate_limit = limit.map(|per_second| RateLimit {
            per_second,
            retry_after_header: true,
        });
        o
    };
    let source = Emulator::start(opts(TOKEN_S, None)).await.unwrap();
    let dest = Emulator::start(opts(TOKEN_D, rate)).await.unwrap();
    let client = client(&source, TOKEN_S);
    let files = stagesync::demo::files::FileServer::start().await.unwrap();
    let mut spec = ProjectSpec::new(n);
    spec.assets = (n / 200).clamp(5, 50);
    spec.file_base = Some(files.url().to_owned());
    seed(&client, content, &spec).await.expect("seed");
    drop(files);
    if let Some(r) = rate {
        // The source is under the same plan limit as the destination.
        let dump = source.dump();
        let limited = Emulator::start(opts(TOKEN_S, Some(r))).await.unwrap();
        limited.load(&dump).unwrap();
        return finish_setup(content, limited, dest, r);
    }
    finish_setup(content, source, dest, 2000)
}

fn finish_setup(content: &ContentModel, source: Emulator, dest: Emulator, rps: u32) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.token"), TOKEN_S).unwrap();
    std::fs::write(dir.path().join("d.token"), TOKEN_D).unwrap();
    let config = dir.path().join("stagesync.toml");
    let burst = rps.clamp(1, 50);
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{}\"\n[source]\nurl = \"{}\"\ntoken_file = \"{}\"\nrequests_per_second = {rps}\nburst = {burst}\nmax_in_flight = 8\n[destination]\nurl = \"{}\"\ntoken_file = \"{}\"\nrequests_per_second = {rps}\nburst = {burst}\nmax_in_flight = 8\n[batch]\nconcurrency = 4\n",
            dir.path().join("state").display(),
            source.url(),
            dir.path().join("s.token").display(),
            dest.url(),
            dir.path().join("d.token").display()
        ),
    )
    .unwrap();
    Setup {
        content: content.clone(),
        source,
        dest,
        dir,
        config,
    }
}

fn client(e: &Emulator, token: &str) -> Client {
    let mut cfg =
        EndpointConfig::new("bench", url::Url::parse(&e.url()).unwrap()).with_token(token);
    cfg.requests_per_second = 10_000;
    cfg.burst = 1000;
    Client::new(cfg).unwrap()
}

async fn measure_stagesync(s: &Setup) -> Measure {
    s.source.reset_stats();
    s.dest.reset_stats();
    let config = s.config.clone();
    let (wall, cpu, rss, ok) = tokio::task::spawn_blocking(move || run_stagesync(&config))
        .await
        .unwrap();
    assert!(ok, "stagesync sync failed");
    Measure {
        wall,
        cpu,
        max_rss_kb: rss,
        source_reads: stat(&s.source, "queries"),
        dest_requests: stat(&s.dest, "requests"),
        dest_write_requests: stat(&s.dest, "mutations"),
        dest_mutations: stat(&s.dest, "mutation_fields"),
        bytes_sent: stat(&s.dest, "bytes_in"),
        rate_limited: stat(&s.dest, "rate_limited") + stat(&s.source, "rate_limited"),
        store_bytes: du(&s.dir.path().join("state")),
    }
}

/// Changes 1% of the entries: a third fields, a third edges, a third publication.
async fn change_one_percent(s: &Setup, n: usize, round: usize) -> usize {
    let c = client(&s.source, TOKEN_S);
    let content = &s.content;
    let mut rng = Rng::new(99 + round as u64);
    let target = (n / 100).max(3);
    let talk = content.model("Talk").unwrap();
    let shape = Shape::new(content, talk);
    let ids: Vec<String> = all_ids(&c, "talks").await;
    let speakers: Vec<String> = all_ids(&c, "speakers").await;
    let rel = shape
        .owned
        .iter()
        .find(|f| f.list && matches!(&f.kind, FieldKind::Relation(r) if r.union.is_none()));
    let mut changed = 0;
    for k in 0..target {
        let id = &ids[rng.below(ids.len() as u64) as usize];
        let (q, v) = match k % 3 {
            0 => (
                "mutation($id: ID!, $d: TalkUpdateInput!) { updateTalk(where: { id: $id }, data: $d) { id } }".to_string(),
                json!({ "id": id, "d": entry_data(content, &shape, k + 1_000_000, round + 2, false) }),
            ),
            1 => match rel {
                Some(f) => {
                    let pool = if f.relation().unwrap().targets[0] == "Speaker" { &speakers } else { &ids };
                    let t = &pool[rng.below(pool.len() as u64) as usize];
                    (
                        format!("mutation($id: ID!) {{ updateTalk(where: {{ id: $id }}, data: {{ {}: {{ set: [{{ id: \"{t}\" }}] }} }}) {{ id }} }}", f.name),
                        json!({ "id": id }),
                    )
                }
                None => continue,
            },
            _ => (
                format!("mutation($id: ID!) {{ publishTalk(where: {{ id: $id }}, to: [PUBLISHED], locales: [{}]) {{ id }} }}", content.locales.join(", ")),
                json!({ "id": id }),
            ),
        };
        let r = c.graphql(&q, v, Idempotency::Unsafe).await.unwrap();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        changed += 1;
    }
    changed
}

async fn all_ids(c: &Client, plural: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = format!("query($a: String) {{ p: {plural}Connection(first: 100, after: $a, stage: DRAFT) {{ edges {{ node {{ id }} }} pageInfo {{ hasNextPage endCursor }} }} }}");
        let r = c
            .graphql(&q, json!({ "a": after }), Idempotency::Safe)
            .await
            .unwrap();
        let d = r.data.unwrap();
        for e in d["p"]["edges"].as_array().unwrap() {
            out.push(e["node"]["id"].as_str().unwrap().to_owned());
        }
        if d["p"]["pageInfo"]["hasNextPage"].as_bool() != Some(true) {
            break;
        }
        after = d["p"]["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    out
}

/// What the original script did: read every page, then one upsert per entry per request,
/// sequentially, then the relations one request per entry. Every run, whatever changed.
async fn naive(s: &Setup) -> Measure {
    s.source.reset_stats();
    s.dest.reset_stats();
    let start = Instant::now();
    let src = client(&s.source, TOKEN_S);
    let dst = client(&s.dest, TOKEN_D);
    let content = &s.content;
    let locales = content.locales.clone();
    let mut slug_to_dest: std::collections::HashMap<(String, String), String> = Default::default();
    let mut relations: Vec<(String, String, Value)> = Vec::new();
    for model in content.models.iter().filter(|m| m.asset.is_none()) {
        let shape = Shape::new(content, model);
        let query = stagesync::sync::read::page_query(&shape, content, &["DRAFT".into()]);
        let mut cursor: Option<String> = None;
        let mut entries = Vec::new();
        loop {
            let page = stagesync::sync::read::read_page(
                &src,
                &query,
                &shape,
                &locales,
                &content.default_locale,
                cursor.as_deref(),
            )
            .await
            .expect("naive read");
            entries.extend(page.entries);
            match page.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        for e in &entries {
            let slug = e.draft.fields.get("slug").cloned().unwrap_or(Value::Null);
            let create = stagesync::sync::write::content_data(
                &shape,
                &e.draft,
                &content.default_locale,
                true,
                &[],
            );
            let mut update = stagesync::sync::write::content_data(
                &shape,
                &e.draft,
                &content.default_locale,
                false,
                &[],
            );
            // The script rewrote components on create only: drop stagesync's component-list
            // markers (which it resolves against the destination) from the update half.
            if let Some(map) = update.as_object_mut() {
                map.retain(|_, v| v.get("__stagesyncComponents").is_none());
            }
            let q = format!(
                "mutation($w: {m}WhereUniqueInput!, $u: {m}UpsertInput!) {{ upsert{m}(where: $w, upsert: $u) {{ id }} }}",
                m = model.name
            );
            let r = dst
                .graphql(
                    &q,
                    json!({ "w": { "slug": slug }, "u": { "create": create, "update": update } }),
                    Idempotency::Safe,
                )
                .await
                .expect("naive upsert");
            if let Some(id) = r
                .data
                .as_ref()
                .and_then(|d| d[format!("upsert{}", model.name)]["id"].as_str())
            {
                slug_to_dest.insert((model.name.clone(), e.id.clone()), id.to_owned());
            }
            let mut data = serde_json::Map::new();
            for f in &shape.owned {
                let targets = e.draft.edges.get(&f.name).cloned().unwrap_or_default();
                data.insert(f.name.clone(), json!(targets));
            }
            relations.push((model.name.clone(), e.id.clone(), Value::Object(data)));
        }
    }
    for (model, id, data) in relations {
        let Some(dest_id) = slug_to_dest.get(&(model.clone(), id)) else {
            continue;
        };
        let mut out = serde_json::Map::new();
        for (field, targets) in data.as_object().unwrap() {
            let list: Vec<Value> = targets
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|t| {
                    let (ty, tid) = t.as_str()?.split_once(':')?;
                    let d = slug_to_dest.get(&(ty.to_owned(), tid.to_owned()))?;
                    Some(json!({ "id": d }))
                })
                .collect();
            let single = content
                .model(&model)
                .and_then(|m| m.field(field))
                .is_some_and(|f| !f.list);
            if single {
                if let Some(w) = list.into_iter().next() {
                    out.insert(field.clone(), json!({ "connect": w }));
                }
            } else {
                out.insert(field.clone(), json!({ "set": list }));
            }
        }
        if out.is_empty() {
            continue;
        }
        let q = format!("mutation($id: ID!, $d: {model}UpdateInput!) {{ update{model}(where: {{ id: $id }}, data: $d) {{ id }} }}");
        let _ = dst
            .graphql(
                &q,
                json!({ "id": dest_id, "d": Value::Object(out) }),
                Idempotency::Safe,
            )
            .await;
    }
    Measure {
        wall: start.elapsed(),
        source_reads: stat(&s.source, "queries"),
        dest_requests: stat(&s.dest, "requests"),
        dest_write_requests: stat(&s.dest, "mutations"),
        dest_mutations: stat(&s.dest, "mutation_fields"),
        bytes_sent: stat(&s.dest, "bytes_in"),
        ..Default::default()
    }
}

fn row(label: &str, n: usize, m: &Measure, entries: usize) -> String {
    let cpu_per_entry = if m.cpu.is_zero() {
        "—".to_string()
    } else {
        format!(
            "{:.1} µs",
            m.cpu.as_secs_f64() * 1e6 / entries.max(1) as f64
        )
    };
    let rss = if m.max_rss_kb == 0 {
        "—".to_string()
    } else {
        format!("{:.0} MB", m.max_rss_kb as f64 / 1024.0)
    };
    let store = if m.store_bytes == 0 {
        "—".to_string()
    } else {
        format!("{:.1} MB", m.store_bytes as f64 / 1e6)
    };
    format!(
        "| {n} | {label} | {:.2} s | {} | {} ({} writes) | {} | {:.1} MB | {cpu_per_entry} | {rss} | {store} | {} |",
        m.wall.as_secs_f64(),
        m.source_reads,
        m.dest_requests,
        m.dest_write_requests,
        m.dest_mutations,
        m.bytes_sent as f64 / 1e6,
        m.rate_limited
    )
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conference.toml"),
    )
    .unwrap();
    let content = stagesync::model::from_model_file(&text, "conference.toml").unwrap();
    let mut rows = vec![
        "| N | case | wall | source reads | destination requests | mutations | bytes sent | stagesync CPU / entry | peak RSS | store | 429s |".to_string(),
        "|---|---|---|---|---|---|---|---|---|---|---|".to_string(),
    ];
    for &n in &args.sizes {
        eprintln!("== N = {n}: seeding the source...");
        let s = setup(&content, n, None).await;
        let entries: usize = serde_json::to_value(s.source.dump()).unwrap()["models"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_array().unwrap().len())
            .sum();
        eprintln!("   {entries} entries; stagesync initial sync...");
        let first = measure_stagesync(&s).await;
        rows.push(row("stagesync initial", n, &first, entries));
        let noop = measure_stagesync(&s).await;
        rows.push(row("stagesync no-op rerun", n, &noop, entries));
        let changed = change_one_percent(&s, n, 0).await;
        let pct = measure_stagesync(&s).await;
        rows.push(row(
            &format!("stagesync 1% rerun ({changed} changes)"),
            n,
            &pct,
            entries,
        ));
        println!("{}", rows.join("\n"));
        if args.naive {
            eprintln!("   naive strategy...");
            let fresh = Emulator::start({
                let mut o = EmulatorOptions::new(content.clone());
                o.token = Some(TOKEN_D.into());
                o
            })
            .await
            .unwrap();
            let naive_setup = finish_setup(&content, s.source, fresh, 2000);
            let m = naive(&naive_setup).await;
            rows.push(row("naive initial", n, &m, entries));
            let m = naive(&naive_setup).await;
            rows.push(row("naive rerun (no-op or 1%: same work)", n, &m, entries));
        }
    }
    if args.limited {
        let n = 1000;
        eprintln!("== N = {n} under a 5 requests/second limit...");
        let s = setup(&content, n, Some(5)).await;
        let entries: usize = s.source.dump()["models"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_array().unwrap().len())
            .sum();
        let first = measure_stagesync(&s).await;
        rows.push(row("stagesync initial @ 5 req/s", n, &first, entries));
        let changed = change_one_percent(&s, n, 1).await;
        let pct = measure_stagesync(&s).await;
        rows.push(row(
            &format!("stagesync 1% rerun @ 5 req/s ({changed} changes)"),
            n,
            &pct,
            entries,
        ));
    }
    println!("\n{}", rows.join("\n"));
}
