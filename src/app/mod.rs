//! Builds every stage from a validated [`Config`], runs each as a supervised task
//! ([`crate::supervise`]), and owns the shutdown order: stop polling → drain the
//! pipeline (the batch in flight is committed) → let each delivery worker finish its
//! current send → close the store. A dead critical task stops the daemon the same way
//! and makes [`run`] fail. SIGHUP reloads the configuration (`reload`): keywords,
//! routes, receivers and sources swap without a restart. The service manager hears
//! `READY=1`, `RELOADING=1`, `STOPPING=1`, `STATUS=` and, while the daemon makes
//! progress, `WATCHDOG=1` ([`crate::service`]); a heartbeat row tells `mentiond status`
//! that the daemon runs.

pub mod bench;
mod reload;
mod report;
pub use report::Clock as ReportClock;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::alerts::responsibility::EscalationLoop;
use crate::alerts::surge::{SURGE_CHECK, SurgeLoop};
use crate::alerts::{self, Notifier, Wakers};
use crate::api;
use crate::config::Config;
use crate::console;
use crate::http;
use crate::intake;
use crate::metrics::{Metrics, StoreWrite, WriteFailure};
use crate::pipeline::Pipeline;
use crate::pipeline::snapshot::SharedKeywords;
use crate::service::{Pulses, ServiceManager, Watchdog};
use crate::shutdown::ReloadSignals;
use crate::sources::{SharedRules, Source, SourceContext, SourceKind};
use crate::store::{DaemonInfo, DaemonLock, PURGE_BATCH, Purge, SourceHealth, Store, StoreHandle};
use crate::supervise::{RestartPolicy, Spawner, Supervisor, TaskFailures};

/// Time between two retention purges; the first runs at start.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Time between two checkpoints of the WAL, off the writer thread.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Time between two checks for hits past their SLA.
const ESCALATION_CHECK: Duration = Duration::from_secs(30);

/// Pages that may wait for the pipeline before pollers feel backpressure.
const PIPELINE_QUEUE: usize = 16;

/// A source loop that ran this long before dying starts its restart backoff afresh.
const SOURCE_HEALTHY_AFTER: Duration = Duration::from_secs(300);

/// Time between two heartbeats (and watchdog probes, when `WatchdogSec=` is longer).
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);

/// Time between two `STATUS=` lines to the service manager.
const STATUS_EVERY: Duration = Duration::from_secs(30);

/// After a critical task died, the longest the ordered stop may take before [`run`]
/// fails anyway (a live process that does nothing is what supervision prevents).
const FAILURE_GRACE: Duration = Duration::from_secs(30);

/// Parts added to those built from the configuration: the seam through which tests
/// inject faults and an embedding program adds sources or receivers of its own.
#[derive(Default)]
pub struct Extras {
    /// Sources polled beside the configured ones (names must be unique: a name keys
    /// its cursor).
    pub sources: Vec<ExtraSource>,
    /// Notifiers that take the place of the configured receiver of the same name (so
    /// routes reach them), or are added when no receiver has that name.
    pub notifiers: Vec<Arc<dyn Notifier>>,
    /// The service manager to notify instead of the one `NOTIFY_SOCKET` names.
    pub service: Option<ServiceManager>,
    /// The clock the daily reports are scheduled by, instead of the system's.
    pub report_clock: Option<ReportClock>,
}

/// A source added through [`Extras`].
pub struct ExtraSource {
    /// Time between polls.
    pub interval: Duration,
    /// Builds the source; called again each time its poll loop is restarted.
    pub make: Box<dyn Fn() -> Box<dyn Source> + Send + Sync>,
}

/// Runs the daemon until `shutdown` is cancelled, then stops in order. Fails when a
/// critical task (pipeline, store thread, delivery worker, escalation loop, API,
/// reload) dies.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    run_with(config, shutdown, Extras::default()).await
}

/// [`run`] with [`Extras`] added to what the configuration builds.
pub async fn run_with(
    config: Config,
    shutdown: CancellationToken,
    extras: Extras,
) -> anyhow::Result<()> {
    // Held until the daemon returns: a second `run` on this database is refused.
    let lock = Arc::new(
        Store::lock_exclusive(&config.storage_path)
            .with_context(|| format!("opening database {}", config.storage_path.display()))?,
    );
    let mut supervisor = Supervisor::new();
    // Cancelled by the caller's shutdown or by a dead critical task.
    let stop = shutdown.child_token();
    let mut store = Store::open(&config.storage_path)
        .with_context(|| format!("opening database {}", config.storage_path.display()))?;
    store.set_feedback_off_after(config.matcher.feedback_off_after);
    store
        .leave_checkpoints_to_another_connection()
        .context("configuring the database")?;
    warn_shared_directories(&config);
    let service = Arc::new(extras.service.unwrap_or_else(ServiceManager::from_env));
    let pulses = Pulses::new(service.watchdog_period());
    let (store, writer) = StoreHandle::new(store);
    let store_stop = CancellationToken::new();
    let store_task = TaskTracker::new();
    supervisor
        .spawn_critical_thread(&store_task, "store", store_stop.clone(), move || {
            writer.run()
        })
        .context("spawning the store thread")?;
    store_task.close();
    let noisy = reload::noisy_variants(&store).await;
    let keywords = Arc::new(SharedKeywords::new(reload::compile(&config, &noisy)?));
    let source_http = http::client(&config.poll.user_agent, config.poll.request_timeout, true)
        .context("building HTTP client")?;
    let alert_http = http::client(&config.poll.user_agent, config.delivery.timeout, false)
        .context("building HTTP client")?;

    let deliveries_stop = CancellationToken::new();
    let delivery_tasks = TaskTracker::new();
    let poll_tasks = TaskTracker::new();
    let (batches, pipeline_input) = mpsc::channel(PIPELINE_QUEUE);
    let wakers = Arc::new(Wakers::default());
    let metrics = Arc::new(Metrics::new());
    let inventory = Arc::new(api::Inventory::default());
    let rules: SharedRules = Arc::new(ArcSwap::new(Arc::clone(&keywords.current().rules)));
    let intake_channels: intake::SharedChannels =
        Arc::new(ArcSwap::from_pointee(config.intake.channels.clone()));
    // Only a served intake may hold a sender: the pipeline ends when every one is gone.
    let intake_batches = config.api.as_ref().map(|_| batches.clone());
    let mut running = reload::Running::new(
        reload::Parts {
            spawner: Spawner::clone(&supervisor),
            store: store.clone(),
            keywords: Arc::clone(&keywords),
            rules: Arc::clone(&rules),
            wakers: Arc::clone(&wakers),
            service: Arc::clone(&service),
            pulses: Arc::clone(&pulses),
            metrics: Arc::clone(&metrics),
            inventory: Arc::clone(&inventory),
            intake: Arc::clone(&intake_channels),
            delivery_tasks: delivery_tasks.clone(),
            deliveries_stop: deliveries_stop.clone(),
            alert_http: alert_http.clone(),
            poll_tasks: poll_tasks.clone(),
            stop: stop.clone(),
            batches,
            context: SourceContext {
                http: source_http,
                max_body_bytes: config.poll.max_body_bytes,
                keywords: rules,
            },
            restart: RestartPolicy {
                backoff: config.poll.backoff,
                healthy_after: SOURCE_HEALTHY_AFTER,
            },
        },
        &config,
    );

    let mut notifiers = alerts::build(&config.receivers, &alert_http, config.delivery.timeout)
        .context("building receivers")?;
    for extra in extras.notifiers {
        notifiers.retain(|notifier| notifier.name() != extra.name());
        running.extra_receivers.insert(extra.name().clone());
        notifiers.push(extra);
    }
    wakers.set_operators(keywords.current().router.operator_receivers());
    let report_recipients = report::Recipients {
        notifiers: notifiers
            .iter()
            .filter(|notifier| {
                config
                    .report
                    .send_to
                    .iter()
                    .any(|name| name == notifier.name().as_str())
            })
            .cloned()
            .collect(),
        wakers: Some(Arc::clone(&wakers)),
    };
    for notifier in notifiers {
        let digest = match running.extra_receivers.contains(notifier.name()) {
            true => None,
            false => config.sections.entry("receivers", notifier.name().as_str()),
        };
        running.start_worker(notifier, digest);
    }

    let pipeline_task = TaskTracker::new();
    supervisor.spawn_critical(
        &pipeline_task,
        "pipeline",
        stop.clone(),
        Pipeline {
            batches: pipeline_input,
            keywords: Arc::clone(&keywords),
            store: store.clone(),
            wakers: Arc::clone(&wakers),
            backfill: config.poll.backfill,
            metrics: Arc::clone(&metrics),
            pulse: pulses.pulse("pipeline"),
        }
        .run(),
    );
    pipeline_task.close();
    // Runs even without an SLA: a reload may add one; each check reads the routes in force.
    let current = Arc::clone(&keywords);
    supervisor.spawn_critical(
        &delivery_tasks,
        "escalation",
        deliveries_stop.clone(),
        EscalationLoop {
            router: Arc::new(move || Arc::clone(&current.current().router)),
            store: store.clone(),
            wakers: Arc::clone(&wakers),
            every: ESCALATION_CHECK,
            cancel: deliveries_stop.clone(),
        }
        .run(),
    );
    let current = Arc::clone(&keywords);
    supervisor.spawn_critical(
        &delivery_tasks,
        "surge",
        deliveries_stop.clone(),
        SurgeLoop {
            router: Arc::new(move || Arc::clone(&current.current().router)),
            store: store.clone(),
            wakers: Arc::clone(&wakers),
            settings: config.surge.clone(),
            every: SURGE_CHECK,
            cancel: deliveries_stop.clone(),
        }
        .run(),
    );
    delivery_tasks.close();

    if let (Some(settings), Some(batches)) = (&config.api, intake_batches) {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("binding the API to {}", settings.listen))?;
        info!(address = %listener.local_addr()?, "api listening");
        if !settings.listen.ip().is_loopback() {
            warn!(address = %settings.listen, "api listens beyond loopback; put a TLS reverse proxy in front");
        }
        let console_routes = match &config.console {
            Some(console) => {
                info!("console served");
                let mut state = console::ConsoleState::new(
                    store.clone(),
                    console.clone(),
                    Arc::clone(&keywords),
                    stop.clone(),
                );
                state.platforms = config
                    .sources
                    .iter()
                    .map(|source| (source.name.to_string(), source.kind.kind_name().to_string()))
                    .chain(
                        config
                            .intake
                            .channels
                            .iter()
                            .map(|channel| (channel.name.to_string(), "intake".to_string())),
                    )
                    .collect();
                let state = Arc::new(state);
                running.console = Some(Arc::clone(&state));
                console::router(state)
            }
            None => axum::Router::new(),
        };
        supervisor.spawn_critical(
            &poll_tasks,
            "api",
            stop.clone(),
            api::serve(
                listener,
                settings.clone(),
                store.clone(),
                api::Observed {
                    metrics: Arc::clone(&metrics),
                    inventory: Arc::clone(&inventory),
                    wakers: Arc::clone(&wakers),
                },
                intake::routes(intake::Intake {
                    channels: intake_channels,
                    limits: config.intake.limits,
                    batches,
                    store: store.clone(),
                })
                .merge(console_routes),
                stop.clone(),
            ),
        );
    }
    running.start_configured_sources(&config);
    for source in extras.sources {
        running.start_source(source, None);
    }
    // Installed before readiness is reported: from then on SIGHUP never ends the daemon.
    let reload_signals = ReloadSignals::install().context("installing the SIGHUP handler")?;
    supervisor.spawn_critical(
        &poll_tasks,
        "reload",
        stop.clone(),
        reload::reload_on_signal(reload_signals, config.file.clone(), running),
    );
    supervisor.spawn_critical(
        &poll_tasks,
        "checkpoint",
        stop.clone(),
        checkpoint_wal(config.storage_path.clone(), stop.clone()),
    );
    if let Some(retention) = config.retention {
        supervisor.spawn_critical(
            &poll_tasks,
            "retention",
            stop.clone(),
            purge_old_rows(store.clone(), retention, stop.clone()),
        );
    }
    if config.report.enabled {
        let clock = extras
            .report_clock
            .clone()
            .unwrap_or_else(|| Arc::new(chrono::Utc::now));
        supervisor.spawn_critical(
            &poll_tasks,
            "report",
            stop.clone(),
            report::write_reports(
                config.report.clone(),
                store.clone(),
                clock,
                report_recipients,
                stop.clone(),
            ),
        );
    }
    // Written last, so a start that failed leaves the previous run's row as it was.
    let daemon = DaemonInfo {
        pid: std::process::id(),
        host: std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_string())
            .unwrap_or_default(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        every: HEARTBEAT_EVERY,
    };
    let pid = daemon.pid;
    // A failure here is mostly a store thread that died; the ordered stop below then
    // reports it by name, and this error only if no task failed.
    let started = store
        .call(move |store| store.start_heartbeat(&daemon, chrono::Utc::now()))
        .await
        .and_then(|written| written);
    if started.is_ok() {
        ready(&config, &service);
        supervisor.spawn_critical(
            &poll_tasks,
            "lock-note",
            stop.clone(),
            note_failing_writes(Arc::clone(&lock), metrics.store_failures(), stop.clone()),
        );
        // Started after READY=1, so the manager never hears a ping before it.
        let (probe_store, status_store) = (store.clone(), store.clone());
        let probe_metrics = Arc::clone(&metrics);
        supervisor.spawn_critical(
            &poll_tasks,
            "watchdog",
            stop.clone(),
            Watchdog {
                manager: Arc::clone(&service),
                pulses,
                probe_every: HEARTBEAT_EVERY,
                status_every: STATUS_EVERY,
                // The heartbeat is written on the store thread: an answer proves it works.
                // A write that fails (a full disk) still proves the thread alive: a
                // restart would not give the disk space back, and the daemon retries.
                probe: move || {
                    let (store, metrics) = (probe_store.clone(), Arc::clone(&probe_metrics));
                    async move {
                        let beat = store.call(move |store| store.beat(pid, chrono::Utc::now()));
                        match beat.await {
                            Ok(Ok(())) => {
                                metrics.store_write(StoreWrite::Heartbeat, Ok(()));
                                true
                            }
                            Ok(Err(err)) => {
                                warn!(error = %err, "cannot write the heartbeat");
                                metrics.store_write(StoreWrite::Heartbeat, Err(&err));
                                true
                            }
                            Err(_) => false,
                        }
                    }
                },
                status: move || {
                    let (store, inventory) = (status_store.clone(), Arc::clone(&inventory));
                    async move {
                        let now = chrono::Utc::now();
                        let counts = store.call(move |store| {
                            let health = store.source_health(now)?;
                            let open = store.hit_counts()?.open;
                            let pending = store
                                .outbox_depth()?
                                .iter()
                                .map(|depth| depth.pending)
                                .sum::<u64>();
                            Ok::<_, crate::store::StoreError>((health, open, pending))
                        });
                        match counts.await {
                            Ok(Ok((health, open, pending))) => {
                                let names: Vec<_> = inventory
                                    .sources()
                                    .into_iter()
                                    .map(|(name, _)| name)
                                    .collect();
                                Some(status_line(&names, &health, open, pending))
                            }
                            _ => None,
                        }
                    }
                },
                stop: stop.clone(),
            }
            .run(),
        );
    }
    poll_tasks.close();

    let first = match started {
        Ok(()) => tokio::select! {
            _ = stop.cancelled() => None,
            failure = supervisor.failure() => Some(failure),
        },
        Err(_) => None,
    };
    stop.cancel();
    service.stopping();
    let stopped = async {
        poll_tasks.wait().await;
        pipeline_task.wait().await;
        deliveries_stop.cancel();
        delivery_tasks.wait().await;
        // Marked stopped only once nothing else writes; a dead store thread leaves the
        // row to go stale, which `mentiond status` reads the same way.
        let _ = store
            .call(move |store| store.stop_heartbeat(pid, chrono::Utc::now()))
            .await;
        store_stop.cancel();
        drop(store);
        store_task.wait().await;
    };
    if first.is_some() {
        if tokio::time::timeout(FAILURE_GRACE, stopped).await.is_err() {
            error!(
                grace_secs = FAILURE_GRACE.as_secs(),
                "tasks still running after a task died"
            );
        }
    } else {
        stopped.await;
    }
    // Tasks may also die while stopping (a panic while draining).
    let failures: Vec<_> = first
        .into_iter()
        .chain(supervisor.take_failures())
        .collect();
    if !failures.is_empty() {
        return Err(TaskFailures(failures).into());
    }
    started.context("writing the heartbeat")?;
    info!("mentiond stopped");
    Ok(())
}

/// Keeps the lock file's note on the kinds of database write failing now, for
/// `mentiond status` to read while the database cannot take it.
async fn note_failing_writes(
    lock: Arc<DaemonLock>,
    mut failures: watch::Receiver<Vec<WriteFailure>>,
    stop: CancellationToken,
) {
    loop {
        let noted = lock.note(&failures.borrow_and_update());
        if let Err(err) = noted {
            warn!(error = %err, "cannot write the note in the lock file");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            changed = failures.changed() => if changed.is_err() { return },
        }
    }
}

/// Logs readiness and tells the service manager (`READY=1`).
fn ready(config: &Config, service: &ServiceManager) {
    info!(
        sources = config.sources.len(),
        receivers = config.receivers.len(),
        brands = config.keywords.brands.len(),
        database = %config.storage_path.display(),
        "mentiond ready"
    );
    service.ready();
}

/// The one-line summary the service manager shows (`systemctl status`), e.g.
/// `3 sources ok, 1 failing; 12 open hits; 4 deliveries pending`.
fn status_line(
    sources: &[crate::model::SourceName],
    health: &[SourceHealth],
    open_hits: u64,
    pending: u64,
) -> String {
    let (mut ok, mut failing, mut unpolled) = (0u64, 0, 0);
    for name in sources {
        match health.iter().find(|h| &h.source == name) {
            Some(h) if h.failures == 0 => ok += 1,
            Some(_) => failing += 1,
            None => unpolled += 1,
        }
    }
    let count = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let waiting = if unpolled > 0 {
        format!(", {unpolled} not polled yet")
    } else {
        String::new()
    };
    format!(
        "{} ok, {failing} failing{waiting}; {}; {} pending",
        count(ok, "source", "sources"),
        count(open_hits, "open hit", "open hits"),
        count(pending, "delivery", "deliveries"),
    )
}

/// Warns about each jsonl source whose file shares the database's directory: the
/// source watches its directory, so every write of the database (thousands a second
/// under load) would wake its watcher and cost the writer thread a sixth of its time.
fn warn_shared_directories(config: &Config) {
    let directory = |path: &std::path::Path| {
        let parent = path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf())
    };
    let database = directory(&config.storage_path);
    for source in &config.sources {
        if let SourceKind::Jsonl(jsonl) = &source.kind
            && directory(&jsonl.path) == database
        {
            warn!(
                source = %source.name,
                directory = %database.display(),
                "the file shares its directory with the database, so every database write wakes the file's watcher: move one of them to a directory of its own"
            );
        }
    }
}

/// Every [`CHECKPOINT_EVERY`] until `stop`: copies the pages committed to the WAL into
/// the database file from a connection of its own, so the writer thread (whose
/// automatic checkpoints are off) spends its time on commits and the WAL stays short.
/// A busy database skips one turn; any other error is logged and the next turn tries
/// again (a full disk must not stop the daemon).
async fn checkpoint_wal(database: PathBuf, stop: CancellationToken) -> anyhow::Result<()> {
    let mut checkpointer = Store::open(&database)
        .with_context(|| format!("opening database {}", database.display()))?;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = tokio::time::sleep(CHECKPOINT_EVERY) => {}
        }
        let result;
        (checkpointer, result) = tokio::task::spawn_blocking(move || {
            let result = checkpointer.checkpoint();
            (checkpointer, result)
        })
        .await
        .context("checkpointing")?;
        if let Err(err) = &result
            && !err.is_transient()
        {
            warn!(error = %err, "checkpoint failed");
        }
    }
}

/// At start and every [`RETENTION_EVERY`] until `stop`: purges what is older than
/// `retention`, one [`PURGE_BATCH`]-row step per store job, so the pipeline's batch
/// commits run between the steps (the checkpointer copies each step's pages out of
/// the WAL); one `purged` line per run. A busy database or one that cannot be written
/// (a full disk) ends the run, and the next one resumes; any other store error fails
/// the task.
async fn purge_old_rows(
    store: StoreHandle,
    retention: Duration,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        let mut purge = Purge::new(chrono::Utc::now(), retention, PURGE_BATCH);
        let mut longest = Duration::ZERO;
        while !purge.is_done() && !stop.is_cancelled() {
            let (stepped, took, result) = store
                .call(move |store| {
                    let started = std::time::Instant::now();
                    let result = store.purge_step(&mut purge);
                    (purge, started.elapsed(), result)
                })
                .await?;
            purge = stepped;
            longest = longest.max(took);
            match result {
                Ok(()) => {}
                Err(err) if err.is_transient() || err.is_disk_full() => {
                    warn!(error = %err, "purge step failed, the next run goes on");
                    break;
                }
                Err(err) => return Err(err).context("purging old rows"),
            }
        }
        let removed = purge.removed();
        info!(
            deliveries = removed.deliveries,
            hits = removed.hits,
            posts = removed.posts,
            steps = purge.steps(),
            longest_step_ms = longest.as_millis() as u64,
            "purged"
        );
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = tokio::time::sleep(RETENTION_EVERY) => {}
        }
    }
}
