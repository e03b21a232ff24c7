//! Builds every stage from a validated [`Config`], runs each as a supervised task
//! ([`crate::supervise`]), and owns the shutdown order: stop polling → drain the
//! pipeline (the batch in flight is committed) → let each delivery worker finish its
//! current send → close the store. A dead critical task stops the daemon the same way
//! and makes [`run`] fail. SIGHUP reloads the keywords (`reload_on_signal`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::alerts::responsibility::EscalationLoop;
use crate::alerts::{self, DeliveryWorker, Notifier};
use crate::api;
use crate::config::{self, Config, SectionDigests};
use crate::escape;
use crate::http;
use crate::pipeline::Pipeline;
use crate::pipeline::poll_loop::PollLoop;
use crate::pipeline::snapshot::{KeywordSnapshot, SharedKeywords};
use crate::routing::Router;
use crate::shutdown::ReloadSignals;
use crate::sources::{self, Source, SourceContext};
use crate::store::{PURGE_BATCH, Purge, Store, StoreHandle};
use crate::supervise::{RestartPolicy, Supervisor, TaskFailures};

/// Time between two retention purges; the first runs at start.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Time between two checks for hits past their SLA.
const ESCALATION_CHECK: Duration = Duration::from_secs(30);

/// Pages that may wait for the pipeline before pollers feel backpressure.
const PIPELINE_QUEUE: usize = 16;

/// A source loop that ran this long before dying starts its restart backoff afresh.
const SOURCE_HEALTHY_AFTER: Duration = Duration::from_secs(300);

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
    let _lock = Store::lock_exclusive(&config.storage_path)
        .with_context(|| format!("opening database {}", config.storage_path.display()))?;
    let mut supervisor = Supervisor::new();
    // Cancelled by the caller's shutdown or by a dead critical task.
    let stop = shutdown.child_token();
    let store = Store::open(&config.storage_path)
        .with_context(|| format!("opening database {}", config.storage_path.display()))?;
    let (store, writer) = StoreHandle::new(store);
    let store_stop = CancellationToken::new();
    let store_task = TaskTracker::new();
    supervisor
        .spawn_critical_thread(&store_task, "store", store_stop.clone(), move || {
            writer.run()
        })
        .context("spawning the store thread")?;
    store_task.close();
    let keywords = Arc::new(SharedKeywords::new(KeywordSnapshot::new(
        config.keywords.clone(),
    )?));
    let router = Arc::new(
        Router::new(config.routes.clone()).carrying_every_hit(
            config
                .receivers
                .iter()
                .filter_map(|receiver| {
                    let size = receiver.kind.hits_per_message()?;
                    Some((receiver.name.clone(), size))
                })
                .collect(),
        ),
    );
    let source_http = http::client(&config.poll.user_agent, config.poll.request_timeout, true)
        .context("building HTTP client")?;
    let alert_http = http::client(&config.poll.user_agent, config.delivery.timeout, false)
        .context("building HTTP client")?;

    let deliveries_stop = CancellationToken::new();
    let delivery_tasks = TaskTracker::new();
    let mut notifiers = alerts::build(&config.receivers, &alert_http, config.delivery.timeout)
        .context("building receivers")?;
    for extra in extras.notifiers {
        notifiers.retain(|notifier| notifier.name() != extra.name());
        notifiers.push(extra);
    }
    let wakers: Vec<Arc<Notify>> = notifiers.iter().map(|_| Arc::new(Notify::new())).collect();
    let operator_receivers = router.operator_receivers();
    let operators = Arc::new(alerts::OperatorReceivers {
        receivers: notifiers
            .iter()
            .zip(&wakers)
            .filter(|(notifier, _)| {
                operator_receivers
                    .iter()
                    .any(|name| name == notifier.name())
            })
            .map(|(notifier, wake)| (notifier.name().clone(), Arc::clone(wake)))
            .collect(),
    });
    for (notifier, wake) in notifiers.into_iter().zip(wakers.iter().cloned()) {
        supervisor.spawn_critical(
            &delivery_tasks,
            format!("delivery:{}", notifier.name()),
            deliveries_stop.clone(),
            DeliveryWorker {
                notifier,
                store: store.clone(),
                settings: config.delivery.clone(),
                wake,
                cancel: deliveries_stop.clone(),
                operators: Arc::clone(&operators),
            }
            .run(),
        );
    }

    let (batches, pipeline_input) = mpsc::channel(PIPELINE_QUEUE);
    let pipeline_task = TaskTracker::new();
    supervisor.spawn_critical(
        &pipeline_task,
        "pipeline",
        stop.clone(),
        Pipeline {
            batches: pipeline_input,
            keywords: Arc::clone(&keywords),
            router: Arc::clone(&router),
            store: store.clone(),
            wakers: wakers.clone(),
            backfill: config.poll.backfill,
        }
        .run(),
    );
    pipeline_task.close();
    // Without an SLA the loop has nothing to do and returns at once: not a death.
    if router.longest_sla().is_some() {
        supervisor.spawn_critical(
            &delivery_tasks,
            "escalation",
            deliveries_stop.clone(),
            EscalationLoop {
                router,
                store: store.clone(),
                wakers,
                every: ESCALATION_CHECK,
                cancel: deliveries_stop.clone(),
            }
            .run(),
        );
    }
    delivery_tasks.close();

    let context = SourceContext {
        http: source_http,
        max_body_bytes: config.poll.max_body_bytes,
        keywords: Arc::clone(&keywords.current().rules),
    };
    let poll_tasks = TaskTracker::new();
    if let Some(settings) = &config.api {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("binding the API to {}", settings.listen))?;
        info!(address = %listener.local_addr()?, "api listening");
        if !settings.listen.ip().is_loopback() {
            warn!(address = %settings.listen, "api listens beyond loopback; put a TLS reverse proxy in front");
        }
        supervisor.spawn_critical(
            &poll_tasks,
            "api",
            stop.clone(),
            api::serve(listener, settings.clone(), store.clone(), stop.clone()),
        );
    }
    let restart = RestartPolicy {
        backoff: config.poll.backoff,
        healthy_after: SOURCE_HEALTHY_AFTER,
    };
    let configured = config.sources.iter().map(|source| {
        let (settings, context) = (source.clone(), context.clone());
        ExtraSource {
            interval: source.interval,
            make: Box::new(move || sources::build(&settings, &context)),
        }
    });
    for ExtraSource { interval, make } in configured.chain(extras.sources) {
        let mut first = Some(make());
        let name = format!(
            "source:{}",
            first.as_ref().map_or("", |source| source.name().as_str())
        );
        let (store, batches, stop_loop) = (store.clone(), batches.clone(), stop.clone());
        let (jitter, backoff) = (config.poll.jitter, config.poll.backoff);
        // A restart builds the source afresh; it resumes from its committed cursor.
        supervisor.spawn_restarting(&poll_tasks, name, stop.clone(), restart, move || {
            PollLoop {
                source: first.take().unwrap_or_else(&make),
                interval,
                jitter,
                backoff,
                store: store.clone(),
                batches: batches.clone(),
                cancel: stop_loop.clone(),
            }
            .run()
        });
    }
    // Installed before readiness is reported: from then on SIGHUP never ends the daemon.
    let reload_signals = ReloadSignals::install().context("installing the SIGHUP handler")?;
    supervisor.spawn_critical(
        &poll_tasks,
        "reload",
        stop.clone(),
        reload_on_signal(
            reload_signals,
            config.file.clone(),
            Arc::clone(&keywords),
            config.sections.clone(),
            stop.clone(),
        ),
    );
    if let Some(retention) = config.retention {
        supervisor.spawn_critical(
            &poll_tasks,
            "retention",
            stop.clone(),
            purge_old_rows(
                store.clone(),
                config.storage_path.clone(),
                retention,
                stop.clone(),
            ),
        );
    }
    poll_tasks.close();
    drop(batches);
    info!(
        sources = config.sources.len(),
        receivers = config.receivers.len(),
        brands = config.keywords.brands.len(),
        database = %config.storage_path.display(),
        "mentiond ready"
    );

    let first = tokio::select! {
        _ = stop.cancelled() => None,
        failure = supervisor.failure() => Some(failure),
    };
    stop.cancel();
    let stopped = async {
        poll_tasks.wait().await;
        pipeline_task.wait().await;
        deliveries_stop.cancel();
        delivery_tasks.wait().await;
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
    info!("mentiond stopped");
    Ok(())
}

/// On each SIGHUP until `stop`: loads the configuration from `file` again, validated in
/// full like `mentiond check`, and when it is valid swaps a snapshot compiled from its
/// keywords into `keywords` (matcher, labels and own handles together). When it is not,
/// every problem is logged and the running keywords stay. Other settings are compared
/// with `running` (those the daemon started with) and only reported: they take effect
/// at restart.
async fn reload_on_signal(
    mut signals: ReloadSignals,
    file: Option<PathBuf>,
    keywords: Arc<SharedKeywords>,
    running: SectionDigests,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            received = signals.recv() => if received.is_none() {
                anyhow::bail!("the SIGHUP stream ended");
            },
        }
        info!(signal = "SIGHUP", "reloading keywords");
        let path = file.clone();
        // Loading reads files and compiles the matcher: seconds for a large watch list.
        let loaded = tokio::task::spawn_blocking(move || {
            let config = config::load(path.as_deref())?;
            let snapshot = KeywordSnapshot::new(config.keywords)?;
            anyhow::Ok((config.sections, snapshot))
        })
        .await
        .context("loading the configuration")?;
        match loaded {
            Ok((sections, snapshot)) => {
                let (brands, topics) = (snapshot.rules.brands.len(), snapshot.rules.topics.len());
                keywords.replace(snapshot);
                info!(brands, topics, "keywords reloaded");
                let changed = running.changed_besides_keywords(&sections);
                if !changed.is_empty() {
                    warn!(
                        sections = changed.join(", "),
                        "settings changed; they take effect at restart"
                    );
                }
            }
            Err(err) => {
                match err.downcast_ref::<config::ConfigError>() {
                    Some(invalid) => {
                        for problem in &invalid.problems {
                            error!(error = %escape::log(&problem.to_string()), "invalid configuration");
                        }
                    }
                    None => error!(error = %escape::log(&format!("{err:#}")), "invalid keywords"),
                }
                error!("reload refused, the running keywords stay");
            }
        }
    }
}

/// At start and every [`RETENTION_EVERY`] until `stop`: purges what is older than
/// `retention`, one [`PURGE_BATCH`]-row step per store job, so the pipeline's batch
/// commits run between the steps, and checkpoints each step's pages from a connection
/// of its own, off the writer thread; one `purged` line per run. A busy database ends
/// the run (the next one resumes); any other store error fails the task.
async fn purge_old_rows(
    store: StoreHandle,
    database: PathBuf,
    retention: Duration,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let mut checkpointer = Store::open(&database)
        .with_context(|| format!("opening database {}", database.display()))?;
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
                Err(err) if err.is_transient() => {
                    warn!(error = %err, "purge step failed, the next run goes on");
                    break;
                }
                Err(err) => return Err(err).context("purging old rows"),
            }
            let result;
            (checkpointer, result) = tokio::task::spawn_blocking(move || {
                let result = checkpointer.checkpoint();
                (checkpointer, result)
            })
            .await
            .context("checkpointing")?;
            // Busy: the writer is checkpointing itself at that moment, which does as well.
            if let Err(err) = &result
                && !err.is_transient()
            {
                warn!(error = %err, "checkpoint failed");
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
