//! The run loop: the one task that decides when runs start. Cron ticks, triggers from the
//! control socket, retries after failures and the catch-up at start all arrive here, so
//! "never two runs at once" is a single `Option` in one place.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_cron_scheduler::{Job, JobScheduler};
use tracing::Instrument;

use super::control::{self, ControlServer, TriggerAnswer, TriggerCommand};
use super::notify;
use super::runner::{RunFailure, RunRequest, Runner};
use super::schedule::Schedule;
use super::status::{CurrentRun, DaemonState, Phase};
use super::DaemonError;
use crate::hygraph::retry::Backoff;
use crate::store::{RunMode, RunRecord, RunStatus, Store};

/// How the loop is set up; everything the binary reads from config and environment.
pub struct ServiceOptions {
    pub schedule: Schedule,
    /// When to run a repair (`sync --repair`) on its own; `None`: only after a run that did not
    /// end cleanly.
    pub repair_schedule: Option<Schedule>,
    pub retry: Backoff,
    pub socket: std::path::PathBuf,
    /// How long a stop waits for the current run to reach a safe point before abandoning it.
    pub stop_timeout: Duration,
    /// `WATCHDOG=1` period (half of `$WATCHDOG_USEC`).
    pub watchdog: Option<Duration>,
}

struct Running {
    handle: JoinHandle<Result<RunRecord, RunFailure>>,
    cancel: watch::Sender<bool>,
    mode: RunMode,
    reason: &'static str,
    started: std::time::Instant,
}

/// Runs the daemon until `stop` turns `true`; then stops the current run safely, flushes the
/// store and returns.
pub async fn serve(
    store: Store,
    runner: Arc<dyn Runner>,
    mut opts: ServiceOptions,
    mut stop: watch::Receiver<bool>,
) -> Result<(), DaemonError> {
    let state = Arc::new(Mutex::new(DaemonState::new(&opts.schedule)));
    let (trigger_tx, mut triggers) = mpsc::channel::<TriggerCommand>(16);
    let socket = control::bind(&opts.socket)?;
    let server = ControlServer {
        state: state.clone(),
        store: store.clone(),
        triggers: trigger_tx,
    };
    let socket = Arc::new(socket);
    let server_task = {
        let socket = socket.clone();
        tokio::spawn(async move { server.serve(&socket).await })
    };

    // The cron job only reports ticks; deciding what a tick means is this loop's job.
    let (tick_tx, mut ticks) = mpsc::channel::<()>(1);
    let (repair_tx, mut repair_ticks) = mpsc::channel::<()>(1);
    let mut scheduler = JobScheduler::new()
        .await
        .map_err(|e| DaemonError::Scheduler(e.to_string()))?;
    add_job(&scheduler, &opts.schedule, tick_tx).await?;
    if let Some(repair) = &opts.repair_schedule {
        add_job(&scheduler, repair, repair_tx).await?;
    }
    scheduler
        .start()
        .await
        .map_err(|e| DaemonError::Scheduler(e.to_string()))?;

    set(&state, |s| s.phase = Phase::Idle);
    let ready = format!(
        "ready; schedule {}; next run {}",
        opts.schedule.expr(),
        next_text(&opts.schedule)
    );
    notify::ready(&ready);
    tracing::info!(socket = %opts.socket.display(), schedule = opts.schedule.expr(), "daemon ready");

    let mut running: Option<Running> = None;
    // Set after a run that completed with failed entries: the next run compares the destination
    // first. (An interrupted or failed run leaves its checkpoint, and the engine repairs then.)
    let mut repair_next = false;
    let mut retry_at: Option<(tokio::time::Instant, RunMode)> = None;
    let mut watchdog = opts.watchdog.map(|period| {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });

    let last_success = store.last_success()?;
    if opts.schedule.missed_run(last_success, Utc::now()) {
        tracing::info!(
            last_success = last_success
                .map(crate::render::rfc3339)
                .unwrap_or_else(|| "never".into()),
            "the last successful run is older than one schedule period; running now"
        );
        running = Some(start(&runner, &state, RunMode::Incremental, "catch-up"));
    }

    loop {
        set(&state, |s| {
            s.next_scheduled = opts.schedule.next_after(Utc::now())
        });
        tokio::select! {
            _ = stop.changed() => {
                if *stop.borrow() {
                    break;
                }
            }
            Some(()) = ticks.recv() => {
                if let Some(run) = &running {
                    set(&state, |s| s.skipped_ticks += 1);
                    tracing::warn!(
                        mode = run.mode.as_str(),
                        running_for_secs = run.started.elapsed().as_secs(),
                        "scheduled tick skipped: the previous run is still in progress"
                    );
                } else {
                    // A tick during a retry wait is the retry, in the failed run's mode.
                    let mode = retry_at.take().map_or(RunMode::Incremental, |(_, m)| m);
                    let mode = if std::mem::take(&mut repair_next) { merge(Some(mode), RunMode::Repair) } else { mode };
                    running = Some(start(&runner, &state, mode, "schedule"));
                }
            }
            Some(()) = repair_ticks.recv() => {
                if running.is_some() {
                    let queued = set(&state, |s| {
                        let mode = merge(s.queued, RunMode::Repair);
                        s.queued = Some(mode);
                        mode
                    });
                    tracing::info!(mode = queued.as_str(), "scheduled repair queued behind the run in progress");
                } else {
                    retry_at = None;
                    repair_next = false;
                    running = Some(start(&runner, &state, RunMode::Repair, "repair schedule"));
                }
            }
            Some(command) = triggers.recv() => {
                let answer = if running.is_some() {
                    let queued = set(&state, |s| {
                        let mode = merge(s.queued, command.mode);
                        s.queued = Some(mode);
                        mode
                    });
                    tracing::info!(mode = queued.as_str(), "trigger queued behind the run in progress");
                    TriggerAnswer {
                        mode: queued.as_str().into(),
                        outcome: "queued".into(),
                        message: format!(
                            "a run is in progress; {} starts when it ends",
                            a_run(queued)
                        ),
                    }
                } else {
                    retry_at = None;
                    running = Some(start(&runner, &state, command.mode, "trigger"));
                    TriggerAnswer {
                        mode: command.mode.as_str().into(),
                        outcome: "started".into(),
                        message: format!("{} started", a_run(command.mode)),
                    }
                };
                let _ = command.reply.send(answer);
            }
            outcome = wait(&mut running) => {
                let run = running.take().expect("wait() resolves only with a run");
                repair_next = matches!(
                    &outcome,
                    Ok(RunRecord { status: RunStatus::CompletedWithFailures(_), .. })
                );
                if let Some(retry) = finish(&state, &mut opts.retry, run, outcome) {
                    retry_at = Some(retry);
                }
                if let Some(mode) = set(&state, |s| s.queued.take()) {
                    retry_at = None;
                    running = Some(start(&runner, &state, mode, "trigger"));
                }
            }
            _ = sleep_until(retry_at.map(|(at, _)| at)), if running.is_none() => {
                let mode = retry_at.take().map_or(RunMode::Incremental, |(_, m)| m);
                running = Some(start(&runner, &state, mode, "retry"));
            }
            _ = tick(&mut watchdog) => notify::watchdog(),
        }
    }

    set(&state, |s| s.phase = Phase::Stopping);
    notify::stopping("stopping: finishing the current batch");
    tracing::info!("stopping");
    let _ = scheduler.shutdown().await;
    if let Some(mut run) = running.take() {
        let _ = run.cancel.send(true);
        match tokio::time::timeout(opts.stop_timeout, &mut run.handle).await {
            Ok(outcome) => {
                let outcome = outcome.unwrap_or_else(|e| Err(panicked(e)));
                finish(&state, &mut opts.retry, run, outcome);
            }
            Err(_) => {
                // Acknowledgements are written per batch in one transaction, so dropping the
                // run between awaits loses at most unacknowledged work, which the next run redoes.
                run.handle.abort();
                tracing::warn!(
                    timeout_secs = opts.stop_timeout.as_secs(),
                    "the run did not stop in time and was abandoned; the next start resumes it"
                );
            }
        }
    }
    server_task.abort();
    let _ = server_task.await;
    drop(socket);
    store.flush()?;
    tracing::info!("stopped");
    Ok(())
}

fn set<T>(state: &Mutex<DaemonState>, f: impl FnOnce(&mut DaemonState) -> T) -> T {
    let mut guard = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&mut guard)
}

/// Adds a cron job that only reports its ticks on `tx`.
async fn add_job(
    scheduler: &JobScheduler,
    schedule: &Schedule,
    tx: mpsc::Sender<()>,
) -> Result<(), DaemonError> {
    let job = Job::new_async(schedule.expr(), move |_, _| {
        let tx = tx.clone();
        Box::pin(async move {
            let _ = tx.try_send(());
        })
    })
    .map_err(|e| DaemonError::Scheduler(e.to_string()))?;
    scheduler
        .add(job)
        .await
        .map(|_| ())
        .map_err(|e| DaemonError::Scheduler(e.to_string()))
}

/// Two asks for a run become the one that does the most: full, then repair, then incremental.
fn merge(queued: Option<RunMode>, asked: RunMode) -> RunMode {
    if queued == Some(RunMode::Full) {
        RunMode::Full
    } else if queued == Some(RunMode::Repair) && asked != RunMode::Full {
        RunMode::Repair
    } else {
        asked
    }
}

/// "an incremental run", "a full run": for STATUS and `trigger` answers.
fn a_run(mode: RunMode) -> String {
    let article = if mode == RunMode::Incremental {
        "an"
    } else {
        "a"
    };
    format!("{article} {} run", mode.as_str())
}

fn next_text(schedule: &Schedule) -> String {
    schedule
        .next_after(Utc::now())
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "never".into())
}

fn start(
    runner: &Arc<dyn Runner>,
    state: &Mutex<DaemonState>,
    mode: RunMode,
    reason: &'static str,
) -> Running {
    let (cancel, cancel_rx) = watch::channel(false);
    let live = Arc::new(Mutex::new(None));
    set(state, |s| {
        s.phase = Phase::Running;
        s.next_retry = None;
        s.current = Some(CurrentRun {
            mode,
            started_at: Utc::now(),
            reason,
            live: live.clone(),
        });
    });
    // `sync::run` logs "run started" and "run finished" with the run id; the span adds why this
    // run started, so each run has one line at each end.
    let span = tracing::info_span!("daemon", reason);
    notify::status(&format!("running {} ({reason})", a_run(mode)));
    let handle = tokio::spawn(
        runner
            .run(RunRequest {
                mode,
                cancel: cancel_rx,
                live,
            })
            .instrument(span),
    );
    Running {
        handle,
        cancel,
        mode,
        reason,
        started: std::time::Instant::now(),
    }
}

/// Records the outcome of a run; a failure returns when and how to retry.
fn finish(
    state: &Mutex<DaemonState>,
    backoff: &mut Backoff,
    run: Running,
    outcome: Result<RunRecord, RunFailure>,
) -> Option<(tokio::time::Instant, RunMode)> {
    let secs = run.started.elapsed().as_secs_f64();
    let outcome = match outcome {
        Ok(record) => match &record.status {
            RunStatus::Failed(why) => Err(RunFailure {
                message: why.clone(),
                cancelled: false,
                retry: true,
            }),
            _ => Ok(record),
        },
        Err(e) => Err(e),
    };
    match outcome {
        Ok(record) => {
            let summary = super::inspect::summary(&record, None);
            let c = &summary.counts;
            // The run's own times, as `checkpoints` shows them (`sync::run` logged the line).
            let result = format!(
                "run {} ({}) {} in {}: read {}, created {}, updated {}, deleted {}, failed {}, requests {}",
                record.id, summary.mode, summary.status,
                crate::render::duration_ms(record.started_at, record.finished_at.unwrap_or(record.started_at)),
                c.read, c.created, c.updated, c.deleted,
                c.failed, summary.requests
            );
            backoff.reset();
            notify::status(&format!("last: {result}"));
            set(state, |s| {
                s.phase = Phase::Idle;
                s.current = None;
                s.last_result = Some(result);
                s.consecutive_failures = 0;
                s.next_retry = None;
            });
            None
        }
        Err(failure) if failure.cancelled => {
            tracing::info!(
                mode = run.mode.as_str(),
                reason = run.reason,
                duration_secs = secs,
                "run stopped: {failure}"
            );
            set(state, |s| {
                s.current = None;
                s.last_result = Some(format!("{} run stopped: {failure}", run.mode.as_str()));
            });
            None
        }
        Err(failure) => {
            // A config error or the deletion guard fails the same way until a person acts: no
            // retry; the next scheduled run (or a trigger) tries again.
            let next = failure.retry.then(|| {
                let delay = backoff.next_delay();
                let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                (delay, at)
            });
            let next_text = match next {
                Some((_, at)) => at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                None => "none: it needs a change, the next scheduled run tries again".into(),
            };
            tracing::error!(
                mode = run.mode.as_str(),
                reason = run.reason,
                duration_secs = secs,
                failures = backoff.failures(),
                next_attempt = next_text,
                "run failed: {failure}"
            );
            let result = format!("{} run failed: {failure}", run.mode.as_str());
            let then = match next {
                Some(_) => format!("retry at {next_text}"),
                None => "not retried".into(),
            };
            notify::status(&format!("last: {result}; {then}"));
            set(state, |s| {
                s.phase = if next.is_some() {
                    Phase::Retrying
                } else {
                    Phase::Idle
                };
                s.current = None;
                s.last_result = Some(result);
                s.consecutive_failures += 1;
                s.next_retry = next.map(|(_, at)| at);
            });
            next.map(|(delay, _)| (tokio::time::Instant::now() + delay, run.mode))
        }
    }
}

fn panicked(e: tokio::task::JoinError) -> RunFailure {
    RunFailure {
        message: format!("the run ended abnormally ({e})"),
        cancelled: false,
        retry: true,
    }
}

async fn wait(running: &mut Option<Running>) -> Result<RunRecord, RunFailure> {
    match running {
        Some(run) => (&mut run.handle).await.unwrap_or_else(|e| Err(panicked(e))),
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::control::{Client, Request, TriggerAnswer};
    use crate::daemon::status::StatusView;
    use crate::store::ModelCounts;
    use futures::future::BoxFuture;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Records every run; each run takes `duration` and fails while `failures_left` > 0.
    struct FakeRunner {
        store: Store,
        duration: Duration,
        failures_left: AtomicUsize,
        /// Runs that complete with a failed entry, after the failures.
        partial_left: AtomicUsize,
        active: Arc<AtomicUsize>,
        max_active: Arc<AtomicUsize>,
        modes: Arc<Mutex<Vec<RunMode>>>,
        cancelled: Arc<AtomicUsize>,
        /// The failures are worth retrying (a network error), or not (a config error).
        retry_failures: bool,
    }

    impl FakeRunner {
        fn new(store: &Store, duration: Duration, failures: usize) -> Arc<FakeRunner> {
            Arc::new(FakeRunner {
                store: store.clone(),
                duration,
                failures_left: AtomicUsize::new(failures),
                partial_left: AtomicUsize::new(0),
                active: Arc::default(),
                max_active: Arc::default(),
                modes: Arc::default(),
                cancelled: Arc::default(),
                retry_failures: true,
            })
        }
        fn with_config_error(store: &Store, duration: Duration) -> Arc<FakeRunner> {
            let mut runner = FakeRunner::new(store, duration, 1);
            Arc::get_mut(&mut runner).unwrap().retry_failures = false;
            runner
        }
        fn with_partial(store: &Store, duration: Duration, partial: usize) -> Arc<FakeRunner> {
            let runner = FakeRunner::new(store, duration, 0);
            runner.partial_left.store(partial, Ordering::SeqCst);
            runner
        }
        fn modes(&self) -> Vec<RunMode> {
            self.modes.lock().unwrap().clone()
        }
    }

    impl Runner for FakeRunner {
        fn run(
            &self,
            mut request: RunRequest,
        ) -> BoxFuture<'static, Result<RunRecord, RunFailure>> {
            let store = self.store.clone();
            let duration = self.duration;
            let fail = self
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            let partial = !fail
                && self
                    .partial_left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
            let active = self.active.clone();
            let max_active = self.max_active.clone();
            let modes = self.modes.clone();
            let cancelled = self.cancelled.clone();
            let retry = self.retry_failures;
            Box::pin(async move {
                let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                max_active.fetch_max(now, Ordering::SeqCst);
                modes.lock().unwrap().push(request.mode);
                let id = store.next_run_id().unwrap();
                *request.live.lock().unwrap() = Some(crate::store::Checkpoint {
                    run: id,
                    phase: "read".into(),
                    model: "Talk".into(),
                    ..Default::default()
                });
                let stopped = tokio::select! {
                    _ = tokio::time::sleep(duration) => false,
                    _ = request.cancel.wait_for(|c| *c) => true,
                };
                active.fetch_sub(1, Ordering::SeqCst);
                if stopped {
                    cancelled.fetch_add(1, Ordering::SeqCst);
                    return Err(RunFailure {
                        message: "stopped".into(),
                        cancelled: true,
                        retry: true,
                    });
                }
                if fail {
                    return Err(RunFailure {
                        message: if retry {
                            "source unreachable".into()
                        } else {
                            "config names models the source does not have: Tlak".into()
                        },
                        cancelled: false,
                        retry,
                    });
                }
                let record = RunRecord {
                    id,
                    started_at: Utc::now().timestamp_millis(),
                    finished_at: Some(Utc::now().timestamp_millis()),
                    mode: request.mode,
                    status: if partial {
                        RunStatus::CompletedWithFailures(1)
                    } else {
                        RunStatus::Succeeded
                    },
                    models: vec![ModelCounts {
                        model: "Talk".into(),
                        read: 1,
                        ..Default::default()
                    }],
                    failures: vec![],
                    source: Default::default(),
                    destination: Default::default(),
                };
                crate::sync::record_run(&store, &record).unwrap();
                Ok(record)
            })
        }
    }

    struct Harness {
        dir: tempfile::TempDir,
        store: Store,
        stop: watch::Sender<bool>,
        task: JoinHandle<Result<(), DaemonError>>,
    }

    fn options(dir: &std::path::Path, schedule: &str, retry: Duration) -> ServiceOptions {
        ServiceOptions {
            schedule: Schedule::parse(schedule).unwrap(),
            repair_schedule: None,
            retry: Backoff::new(retry, retry),
            socket: dir.join(control::SOCKET_NAME),
            stop_timeout: Duration::from_secs(5),
            watchdog: Some(Duration::from_millis(100)),
        }
    }

    fn start_service(
        schedule: &str,
        retry: Duration,
        make: impl FnOnce(&Store) -> Arc<FakeRunner>,
        last_success: Option<i64>,
    ) -> (Harness, Arc<FakeRunner>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        if let Some(t) = last_success {
            store.set_last_success(t).unwrap();
        }
        let runner = make(&store);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(serve(
            store.clone(),
            runner.clone(),
            options(dir.path(), schedule, retry),
            stop_rx,
        ));
        (
            Harness {
                dir,
                store,
                stop,
                task,
            },
            runner,
        )
    }

    async fn request<T: serde::de::DeserializeOwned + Send + 'static>(
        h: &Harness,
        request: Request,
    ) -> T {
        let path = h.dir.path().join(control::SOCKET_NAME);
        tokio::task::spawn_blocking(move || {
            for _ in 0..50 {
                if let Some(client) = Client::connect(&path).unwrap() {
                    return client.request(&request).unwrap();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            panic!("no daemon on {}", path.display());
        })
        .await
        .unwrap()
    }

    async fn until(what: &str, mut f: impl FnMut() -> bool) {
        for _ in 0..200 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}");
    }

    const NEVER_SOON: &str = "0 0 0 1 1 *";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_repair_runs_on_its_own_schedule() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .set_last_success(Utc::now().timestamp_millis())
            .unwrap();
        let runner = FakeRunner::new(&store, Duration::from_millis(10), 0);
        let mut opts = options(dir.path(), NEVER_SOON, Duration::from_secs(60));
        opts.repair_schedule = Some(Schedule::parse("* * * * * *").unwrap());
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(serve(store.clone(), runner.clone(), opts, stop_rx));
        until("a scheduled repair", || !runner.modes().is_empty()).await;
        assert_eq!(
            runner.modes()[0],
            RunMode::Repair,
            "the repair schedule's run"
        );
        stop.send(true).unwrap();
        task.await.unwrap().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_run_with_failed_entries_is_followed_by_a_repair() {
        let (h, runner) = start_service(
            "* * * * * *",
            Duration::from_secs(60),
            |s| FakeRunner::with_partial(s, Duration::from_millis(10), 1),
            Some(Utc::now().timestamp_millis()),
        );
        until("three runs", || runner.modes().len() >= 3).await;
        assert_eq!(
            runner.modes()[..3],
            [RunMode::Incremental, RunMode::Repair, RunMode::Incremental],
            "after entries failed, the next run compares the destination first; then back to normal"
        );
        h.stop.send(true).unwrap();
        h.task.await.unwrap().unwrap();
    }

    #[test]
    fn asks_for_runs_merge_into_the_one_that_does_most() {
        assert_eq!(merge(None, RunMode::Repair), RunMode::Repair);
        assert_eq!(
            merge(Some(RunMode::Repair), RunMode::Incremental),
            RunMode::Repair
        );
        assert_eq!(merge(Some(RunMode::Repair), RunMode::Full), RunMode::Full);
        assert_eq!(merge(Some(RunMode::Full), RunMode::Repair), RunMode::Full);
        assert_eq!(
            merge(Some(RunMode::Incremental), RunMode::Repair),
            RunMode::Repair
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tick_during_a_run_is_skipped_never_overlapped() {
        let (h, runner) = start_service(
            "* * * * * *",
            Duration::from_secs(60),
            |s| FakeRunner::new(s, Duration::from_millis(2500), 0),
            Some(Utc::now().timestamp_millis()),
        );
        until("two runs", || runner.modes().len() >= 2).await;
        assert_eq!(runner.max_active.load(Ordering::SeqCst), 1);
        let status: StatusView = request(&h, Request::Status).await;
        assert!(status.skipped_ticks >= 1, "{status:?}");
        h.stop.send(true).unwrap();
        h.task.await.unwrap().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missed_run_is_caught_up_at_start_and_a_recent_one_is_not() {
        let (h, runner) = start_service(
            "0 0 * * * *",
            Duration::from_secs(60),
            |s| FakeRunner::new(s, Duration::from_millis(10), 0),
            Some(Utc::now().timestamp_millis() - 2 * 3_600_000),
        );
        until("the catch-up run", || runner.modes().len() == 1).await;
        until("the last success", || {
            h.store.last_success().unwrap().unwrap() > Utc::now().timestamp_millis() - 60_000
        })
        .await;
        h.stop.send(true).unwrap();
        h.task.await.unwrap().unwrap();

        let (h, runner) = start_service(
            "0 0 * * * *",
            Duration::from_secs(60),
            |s| FakeRunner::new(s, Duration::from_millis(10), 0),
            Some(Utc::now().timestamp_millis()),
        );
        // The socket answers while the scheduler is still starting; wait for readiness, then
        // check that readiness did not start a catch-up run.
        let mut status: StatusView = request(&h, Request::Status).await;
        for _ in 0..100 {
            if status.daemon != Phase::Starting {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            status = request(&h, Request::Status).await;
        }
        assert_eq!(status.daemon, Phase::Idle);
        assert!(status.next_scheduled.is_some());
        assert!(runner.modes().is_empty());
        h.stop.send(true).unwrap();
        h.task.await.unwrap().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_run_is_retried_with_backoff_and_shown_in_status() {
        let (h, runner) = start_service(
            NEVER_SOON,
            Duration::from_millis(1500),
            |s| FakeRunner::new(s, Duration::from_millis(10), 1),
            None,
        );
        until("the first failure", || runner.modes().len() == 1).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let status: StatusView = request(&h, Request::Status).await;
        assert_eq!(status.consecutive_failures, 1, "{status:?}");
        assert!(status.next_retry.is_some());
        assert!(status
            .last_result
            .as_deref()
            .unwrap()
            .contains("source unreachable"));
        until("the retry", || runner.modes().len() == 2).await;
        until("success", || h.store.last_success().unwrap().is_some()).await;
        let status: StatusView = request(&h, Request::Status).await;
        assert_eq!(status.consecutive_failures, 0);
        assert_eq!(status.last_runs.len(), 1);
        h.stop.send(true).unwrap();
        h.task.await.unwrap().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_config_error_is_not_retried_but_shown_in_status() {
        let (h, runner) = start_service(
            NEVER_SOON,
            Duration::from_millis(50),
            |s| FakeRunner::with_config_error(s, Duration::from_millis(10)),
            None,
        );
        until("the catch-up run", || runner.modes().len() == 1).await;
        // The outcome and the retry decision are recorded in one step.
        let mut status: StatusView = request(&h, Request::Status).await;
        for _ in 0..200 {
            if status.last_result.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            status = request(&h, Request::Status).await;
        }
        assert!(
            status.last_result.as_deref().unwrap().contains("Tlak"),
            "{status:?}"
        );
        assert_eq!(status.daemon, Phase::Idle, "{status:?}");
        assert!(status.next_retry.is_none(), "{status:?}");
        assert_eq!(status.consecutive_failures, 1);
        assert_eq!(runner.modes().len(), 1, "retried");
        assert!(h.store.last_success().unwrap().is_none());
        h.stop.send(true).unwrap();
        h.task.await.unwrap().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn trigger_full_starts_or_queues_a_full_run() {
        let (h, runner) = start_service(
            NEVER_SOON,
            Duration::from_secs(60),
            // Long enough that the second trigger and the status request land during the run,
            // even on a loaded machine.
            |s| FakeRunner::new(s, Duration::from_millis(2500), 0),
            Some(Utc::now().timestamp_millis()),
        );
        let answer: TriggerAnswer = request(&h, Request::Trigger { full: false }).await;
        assert_eq!(answer.outcome, "started");
        assert_eq!(answer.message, "an incremental run started");
        let answer: TriggerAnswer = request(&h, Request::Trigger { full: true }).await;
        assert_eq!(
            (answer.outcome.as_str(), answer.mode.as_str()),
            ("queued", "full")
        );
        assert_eq!(
            answer.message,
            "a run is in progress; a full run starts when it ends"
        );
        let status: StatusView = request(&h, Request::Status).await;
        assert_eq!(status.daemon, Phase::Running);
        assert_eq!(status.current_run.unwrap().phase.as_deref(), Some("read"));
        until("the queued run", || runner.modes().len() == 2).await;
        assert_eq!(runner.modes(), [RunMode::Incremental, RunMode::Full]);
        until("both stored", || h.store.runs(10).unwrap().len() == 2).await;
        let list: Vec<crate::daemon::inspect::RunSummary> = request(
            &h,
            Request::Checkpoints {
                view: crate::daemon::inspect::View::List,
            },
        )
        .await;
        assert_eq!(list[0].mode, "full");
        // `status` and `checkpoints` give one run the same duration (the run's own times).
        let secs = list[0].duration_secs.unwrap();
        let shown = format!(
            "in {}:",
            crate::render::duration(Duration::from_millis((secs * 1000.0).round() as u64))
        );
        let mut status: StatusView = request(&h, Request::Status).await;
        for _ in 0..100 {
            if status.current_run.is_none() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            status = request(&h, Request::Status).await;
        }
        let last = status.last_result.unwrap();
        assert!(last.contains(&shown), "{last} vs {shown}");
        h.stop.send(true).unwrap();
        h.task.await.unwrap().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stop_cancels_the_run_flushes_and_removes_the_socket() {
        let (h, runner) = start_service(
            NEVER_SOON,
            Duration::from_secs(60),
            |s| FakeRunner::new(s, Duration::from_secs(600), 0),
            None,
        );
        until("the catch-up run", || runner.modes().len() == 1).await;
        let refused = tokio::task::spawn_blocking({
            let path = h.dir.path().join(control::SOCKET_NAME);
            move || {
                Client::connect(&path)
                    .unwrap()
                    .unwrap()
                    .request::<serde_json::Value>(&Request::Reset)
                    .unwrap_err()
                    .to_string()
            }
        })
        .await
        .unwrap();
        assert!(refused.contains("stop it first"), "{refused}");
        h.stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), h.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(runner.cancelled.load(Ordering::SeqCst), 1);
        assert!(!h.dir.path().join(control::SOCKET_NAME).exists());
    }
}
