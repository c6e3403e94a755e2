//! `stagesync emulator`: serve an in-memory Hygraph Content API emulator on a loopback address
//! until stopped: a real schema (`--schema`, SDL or introspection JSON) served as it is, or the
//! schema Hygraph would generate for a content-model file (`--model`). The first line on stdout is the GraphQL endpoint URL, so scripts and tests can
//! read it; everything else goes to the log on stderr.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use crate::cli::EmulatorArgs;
use crate::emulator::{Emulator, EmulatorError, EmulatorOptions, FaultSpec, RateLimit};
use crate::model::{self, ContentModel};

use super::{Exit, UsageError};

pub fn run(args: EmulatorArgs) -> anyhow::Result<Exit> {
    let options = options(args)?;
    super::runtime()?.block_on(serve(options))
}

/// Typed options from the flags; every problem is a usage error.
fn options(args: EmulatorArgs) -> anyhow::Result<EmulatorOptions> {
    let mut options = match (&args.model, &args.schema) {
        (Some(path), _) => EmulatorOptions::new(load_model(path, model::from_model_file)?),
        (None, Some(path)) => {
            EmulatorOptions::from_schema(&read(path)?, &path.display().to_string())
                .map_err(usage)?
        }
        (None, None) => {
            return Err(UsageError("emulator: pass --model FILE or --schema FILE".into()).into())
        }
    };
    options.listen = args.listen.parse::<SocketAddr>().map_err(|_| {
        UsageError(format!(
            "emulator: --listen `{}` is not an address like 127.0.0.1:0",
            args.listen
        ))
    })?;
    options.token = args.token;
    options.read_only_token = args.read_only_token;
    if let Some(per_second) = args.rate_limit {
        if per_second == 0 {
            return Err(UsageError(
                "emulator: --rate-limit must be at least 1 request per second".into(),
            )
            .into());
        }
        options.rate_limit = Some(RateLimit {
            per_second,
            retry_after_header: true,
        });
    }
    if let Some(spec) = &args.faults {
        options.faults = Some(FaultSpec::parse(spec).map_err(usage)?);
    }
    if let Some(bytes) = args.max_body_bytes {
        options.max_body_bytes = Some(bytes);
    }
    if let Some(path) = &args.seed {
        let text = read(path)?;
        let seed = serde_json::from_str(&text).map_err(|e| {
            UsageError(format!(
                "emulator: seed file {} is not JSON ({e}); it must be in the /__emulator/dump form",
                path.display()
            ))
        })?;
        options.seed = Some(seed);
    }
    Ok(options)
}

fn load_model(
    path: &Path,
    parse: fn(&str, &str) -> Result<ContentModel, model::ModelError>,
) -> anyhow::Result<ContentModel> {
    let text = read(path)?;
    parse(&text, &path.display().to_string()).map_err(|e| UsageError(e.to_string()).into())
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        UsageError(format!(
            "emulator: cannot read {}: {e}; check the path",
            path.display()
        ))
        .into()
    })
}

fn usage(err: EmulatorError) -> anyhow::Error {
    UsageError(format!("emulator: {err}")).into()
}

async fn serve(options: EmulatorOptions) -> anyhow::Result<Exit> {
    let emulator = Emulator::start(options).await.map_err(|e| match e {
        EmulatorError::Bind { .. } => anyhow::Error::from(e),
        other => usage(other),
    })?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", emulator.url())?;
    stdout.flush()?;
    drop(stdout);
    tracing::info!(url = %emulator.url(), "emulator serving; stop with Ctrl-C or SIGTERM");
    super::shutdown_signal().await;
    tracing::info!("emulator stopping");
    drop(emulator);
    Ok(Exit::Ok)
}
