//! Builds every stage from a validated [`Config`], runs them, and owns the shutdown
//! order: stop polling → drain the pipeline (the batch in flight is committed) → let
//! each delivery worker finish its current send → close the store.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::alerts::responsibility::{EscalationLoop, OwnHandles};
use crate::alerts::{self, DeliveryWorker, Router};
use crate::api;
use crate::config::Config;
use crate::http;
use crate::matcher::{Matcher, SharedMatcher};
use crate::pipeline::Pipeline;
use crate::sources::{self, SourceContext, poll_loop::PollLoop};
use crate::store::{Store, StoreHandle};

/// Time between two checks for hits past their SLA.
const ESCALATION_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// Pages that may wait for the pipeline before pollers feel backpressure.
const PIPELINE_QUEUE: usize = 16;

/// Runs the daemon until `shutdown` is cancelled, then stops in order.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    // Held until the daemon returns: a second `run` on this database is refused.
    let _lock = Store::lock_exclusive(&config.storage_path)
        .with_context(|| format!("opening database {}", config.storage_path.display()))?;
    let store = Store::open(&config.storage_path)
        .with_context(|| format!("opening database {}", config.storage_path.display()))?;
    let (store, store_thread) = StoreHandle::spawn(store);
    let matcher = Arc::new(SharedMatcher::new(Matcher::new(&config.keywords)?));
    let router = Arc::new(Router::new(config.routes.clone(), &config.keywords));
    let source_http = http::client(&config.poll.user_agent, config.poll.request_timeout, true)
        .context("building HTTP client")?;
    let alert_http = http::client(&config.poll.user_agent, config.delivery.timeout, false)
        .context("building HTTP client")?;

    let deliveries_stop = CancellationToken::new();
    let delivery_tasks = TaskTracker::new();
    let notifiers = alerts::build(&config.receivers, &alert_http, config.delivery.timeout)
        .context("building receivers")?;
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
            .map(|(notifier, wake)| (notifier.name().to_string(), Arc::clone(wake)))
            .collect(),
    });
    for (notifier, wake) in notifiers.into_iter().zip(wakers.iter().cloned()) {
        delivery_tasks.spawn(
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
    let pipeline = tokio::spawn(
        Pipeline {
            batches: pipeline_input,
            matcher,
            router: Arc::clone(&router),
            own_handles: Arc::new(OwnHandles::new(&config.keywords)),
            store: store.clone(),
            wakers: wakers.clone(),
            backfill: config.poll.backfill,
        }
        .run(),
    );
    delivery_tasks.spawn(
        EscalationLoop {
            router,
            store: store.clone(),
            wakers,
            every: ESCALATION_CHECK,
            cancel: deliveries_stop.clone(),
        }
        .run(),
    );
    delivery_tasks.close();

    let context = SourceContext {
        http: source_http,
        max_body_bytes: config.poll.max_body_bytes,
        keywords: Arc::new(config.keywords.clone()),
    };
    let api = match &config.api {
        Some(settings) => {
            let listener = tokio::net::TcpListener::bind(settings.listen)
                .await
                .with_context(|| format!("binding the API to {}", settings.listen))?;
            info!(address = %listener.local_addr()?, "api listening");
            if !settings.listen.ip().is_loopback() {
                warn!(address = %settings.listen, "api listens beyond loopback; put a TLS reverse proxy in front");
            }
            Some(tokio::spawn(api::serve(
                listener,
                settings.clone(),
                store.clone(),
                shutdown.clone(),
            )))
        }
        None => None,
    };
    let poll_tasks = TaskTracker::new();
    for source in &config.sources {
        poll_tasks.spawn(
            PollLoop {
                source: sources::build(source, &context),
                interval: source.interval,
                jitter: config.poll.jitter,
                backoff: config.poll.backoff,
                store: store.clone(),
                batches: batches.clone(),
                cancel: shutdown.clone(),
            }
            .run(),
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

    shutdown.cancelled().await;
    if let Some(api) = api {
        api.await.context("api task failed")??;
    }
    poll_tasks.wait().await;
    pipeline.await.context("pipeline task failed")?;
    deliveries_stop.cancel();
    delivery_tasks.wait().await;
    drop(store);
    tokio::task::spawn_blocking(move || store_thread.join())
        .await
        .context("joining the store thread")?
        .map_err(|_| anyhow::anyhow!("store thread panicked"))?;
    info!("mentiond stopped");
    Ok(())
}
