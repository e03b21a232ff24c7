//! The `reload` task: SIGHUP loads the configuration again and, when it is valid, swaps
//! every consumer of it together. One snapshot (matcher, own handles, router) is
//! swapped for the pipeline and the escalation loop, the watch list for the search
//! sources' queries; delivery workers and poll loops whose entry changed are stopped
//! and started again, removed ones stopped, added ones started, unchanged ones left
//! running. Settings read only at start are named in a warning.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use super::ExtraSource;
use crate::alerts::{self, DeliverySettings, DeliveryWorker, Notifier, Wakers};
use crate::api;
use crate::config::{self, Config, SectionDigests};
use crate::console::{ConsoleSettings, ConsoleState};
use crate::escape;
use crate::intake;
use crate::matcher::MatcherError;
use crate::metrics::Metrics;
use crate::model::{ReceiverName, SourceName};
use crate::pipeline::Batch;
use crate::pipeline::poll_loop::PollLoop;
use crate::pipeline::snapshot::{KeywordSnapshot, SharedKeywords};
use crate::routing::Router;
use crate::service::{Pulses, ServiceManager};
use crate::shutdown::ReloadSignals;
use crate::sources::{self, PollSettings, SharedRules, SourceContext};
use crate::store::{NoisyVariant, StoreHandle};
use crate::supervise::{Outcome, RestartPolicy, Spawner};

/// Top-level sections a reload applies; any other that changed waits for a restart.
const SWAPPED_SECTIONS: [&str; 8] = [
    "console",
    "intake",
    "receivers",
    "route_defaults",
    "routes",
    "sentiment",
    "sources",
    "users",
];

/// The router of `config`'s routes, splitting messages for the receivers that are
/// programs so they get every hit.
pub(super) fn router_of(config: &Config) -> Router {
    Router::new(config.routes.clone()).carrying_every_hit(
        config
            .receivers
            .iter()
            .filter_map(|receiver| {
                let size = receiver.kind.hits_per_message()?;
                Some((receiver.name.clone(), size))
            })
            .collect(),
    )
}

/// Compiles `config`'s keywords and routes into one snapshot, with the generated typos
/// found noisy before (`noisy`) switched off from the start.
pub(super) fn compile(
    config: &Config,
    noisy: &[NoisyVariant],
) -> Result<KeywordSnapshot, MatcherError> {
    let snapshot = KeywordSnapshot::new(config.keywords.clone(), router_of(config))?
        .with_lexicon(config.sentiment.clone());
    snapshot.matcher.switch_off_typos(
        noisy
            .iter()
            .map(|variant| (variant.brand.as_str(), variant.variant.as_str())),
    );
    Ok(snapshot)
}

/// The variants switched off as noisy so far; on a store error, none (logged): a
/// noisy typo switched off again is better than no matcher.
pub(super) async fn noisy_variants(store: &StoreHandle) -> Vec<NoisyVariant> {
    match store
        .call(|store| store.noisy_variants())
        .await
        .and_then(|result| result)
    {
        Ok(variants) => variants,
        Err(err) => {
            error!(error = %err, "cannot read switched-off typos");
            Vec::new()
        }
    }
}

/// A task the reload may stop: its own stop token and its handle.
struct Task {
    /// The fingerprint of the entry it was built from; `None` for an [`super::Extras`]
    /// part, which a reload never touches.
    digest: Option<u64>,
    stop: CancellationToken,
    handle: JoinHandle<Outcome>,
}

impl Task {
    /// Stops the task and waits for it: a delivery worker finishes its send in
    /// progress, a poll loop the commit of its page in flight (a fetch in flight is
    /// dropped, its cursor not advanced).
    async fn stop(self) {
        self.stop.cancel();
        // A failure was reported by the supervisor already.
        let _ = self.handle.await;
    }
}

/// The tasks of `tasks` built from configured entries (a reload leaves the others
/// alone), with their entry's fingerprint.
fn reloadable<K: Clone>(tasks: &BTreeMap<K, Task>) -> Vec<(K, Option<u64>)> {
    tasks
        .iter()
        .filter(|(_, task)| task.digest.is_some())
        .map(|(name, task)| (name.clone(), task.digest))
        .collect()
}

/// Everything the daemon runs that a reload may replace, and what starting a part
/// needs.
pub(super) struct Running {
    parts: Parts,
    delivery: DeliverySettings,
    poll: PollSettings,
    /// Names of the [`super::Extras`] notifiers: configured receivers of these names
    /// are never built.
    pub(super) extra_receivers: BTreeSet<ReceiverName>,
    workers: BTreeMap<ReceiverName, Task>,
    sources: BTreeMap<SourceName, Task>,
    /// The web console, when it is served: its users, token and settings are swapped.
    pub(super) console: Option<Arc<ConsoleState>>,
    /// Whether `[console] enabled` was set at start (read only then).
    console_enabled: bool,
    /// The sections the daemon started with: those read only at start are compared
    /// with them.
    sections: SectionDigests,
}

/// What [`Running::new`] needs: the shared parts every task started later uses.
pub(super) struct Parts {
    pub(super) spawner: Spawner,
    pub(super) store: StoreHandle,
    /// Matcher, own handles and router, read by the pipeline and the escalation loop.
    pub(super) keywords: Arc<SharedKeywords>,
    /// The watch list the search sources build their queries from.
    pub(super) rules: SharedRules,
    pub(super) wakers: Arc<Wakers>,
    /// The service manager, told when a reload begins and ends.
    pub(super) service: Arc<ServiceManager>,
    /// The liveness stamps the watchdog reads; every worker started registers one.
    pub(super) pulses: Arc<Pulses>,
    /// Counters the workers and poll loops update.
    pub(super) metrics: Arc<Metrics>,
    /// The sources and receivers running, as `/metrics` and `/readyz` show them.
    pub(super) inventory: Arc<api::Inventory>,
    /// The `[[intake]]` channels the intake route authenticates against.
    pub(super) intake: intake::SharedChannels,
    pub(super) delivery_tasks: TaskTracker,
    /// Parent of every delivery worker's stop token.
    pub(super) deliveries_stop: CancellationToken,
    pub(super) alert_http: reqwest::Client,
    pub(super) poll_tasks: TaskTracker,
    /// Parent of every poll loop's stop token.
    pub(super) stop: CancellationToken,
    pub(super) batches: mpsc::Sender<Batch>,
    pub(super) context: SourceContext,
    pub(super) restart: RestartPolicy,
}

impl Running {
    /// Nothing running yet, with `config`'s settings.
    pub(super) fn new(parts: Parts, config: &Config) -> Running {
        Running {
            parts,
            delivery: config.delivery.clone(),
            poll: config.poll.clone(),
            extra_receivers: BTreeSet::new(),
            workers: BTreeMap::new(),
            sources: BTreeMap::new(),
            console: None,
            console_enabled: config.console.is_some(),
            sections: config.sections.clone(),
        }
    }

    /// Starts the delivery worker of `notifier`; `digest` is its entry's fingerprint.
    pub(super) fn start_worker(&mut self, notifier: Arc<dyn Notifier>, digest: Option<u64>) {
        let name = notifier.name().clone();
        let stop = self.parts.deliveries_stop.child_token();
        let wake = Arc::new(Notify::new());
        self.parts.wakers.insert(name.clone(), Arc::clone(&wake));
        self.parts.metrics.declare_receiver(name.as_str());
        let handle = self.parts.spawner.spawn_critical(
            &self.parts.delivery_tasks,
            format!("delivery:{name}"),
            stop.clone(),
            DeliveryWorker {
                notifier,
                store: self.parts.store.clone(),
                settings: self.delivery.clone(),
                wake: Arc::clone(&wake),
                cancel: stop.clone(),
                wakers: Arc::clone(&self.parts.wakers),
                metrics: Arc::clone(&self.parts.metrics),
                pulse: self.parts.pulses.pulse(format!("delivery:{name}")),
            }
            .run(),
        );
        // Rows enqueued while no worker ran (a receiver added back) go out now.
        wake.notify_one();
        self.workers.insert(
            name,
            Task {
                digest,
                stop,
                handle,
            },
        );
    }

    /// Starts the poll loop of a source built by `source.make`; `digest` is its
    /// entry's fingerprint. A restart builds the source afresh and resumes from its
    /// committed cursor.
    pub(super) fn start_source(&mut self, source: ExtraSource, digest: Option<u64>) {
        let ExtraSource { interval, make } = source;
        let built = make();
        let name = built.name().clone();
        let mut first = Some(built);
        self.parts.metrics.declare_source(name.as_str());
        self.parts.inventory.add_source(name.clone(), interval);
        let metrics = Arc::clone(&self.parts.metrics);
        let stop = self.parts.stop.child_token();
        let (store, batches, stop_loop) = (
            self.parts.store.clone(),
            self.parts.batches.clone(),
            stop.clone(),
        );
        let (jitter, backoff) = (self.poll.jitter, self.poll.backoff);
        let handle = self.parts.spawner.spawn_restarting(
            &self.parts.poll_tasks,
            format!("source:{name}"),
            stop.clone(),
            self.parts.restart,
            move || {
                PollLoop {
                    source: first.take().unwrap_or_else(&make),
                    interval,
                    jitter,
                    backoff,
                    store: store.clone(),
                    batches: batches.clone(),
                    cancel: stop_loop.clone(),
                    metrics: Arc::clone(&metrics),
                }
                .run()
            },
        );
        self.sources.insert(
            name,
            Task {
                digest,
                stop,
                handle,
            },
        );
    }

    /// A configured source, built with the running context.
    fn configured_source(&self, settings: &sources::SourceConfig) -> ExtraSource {
        let (settings, context) = (settings.clone(), self.parts.context.clone());
        ExtraSource {
            interval: settings.interval,
            make: Box::new(move || sources::build(&settings, &context)),
        }
    }

    /// Starts the poll loop of every source of `config`.
    pub(super) fn start_configured_sources(&mut self, config: &Config) {
        for settings in &config.sources {
            let digest = config.sections.entry("sources", settings.name.as_str());
            let source = self.configured_source(settings);
            self.start_source(source, digest);
        }
    }

    /// Swaps in what `config` and `snapshot` describe: receivers first (so a new route
    /// finds its worker running), then the snapshot and the watch list together, then
    /// the sources.
    async fn apply(&mut self, config: Config, snapshot: KeywordSnapshot) -> anyhow::Result<()> {
        let notifiers = alerts::build(
            &config.receivers,
            &self.parts.alert_http,
            self.delivery.timeout,
        )
        .context("building receivers")?;
        let mut configured: BTreeMap<ReceiverName, (Arc<dyn Notifier>, Option<u64>)> = notifiers
            .into_iter()
            .filter(|notifier| !self.extra_receivers.contains(notifier.name()))
            .map(|notifier| {
                let digest = config.sections.entry("receivers", notifier.name().as_str());
                (notifier.name().clone(), (notifier, digest))
            })
            .collect();
        for (name, running) in reloadable(&self.workers) {
            match configured.get(&name) {
                Some((_, digest)) if *digest == running => {
                    configured.remove(&name);
                }
                Some(_) => {
                    if let Some(task) = self.workers.remove(&name) {
                        task.stop().await;
                    }
                    info!(receiver = %name, "receiver restarting with new settings");
                }
                None => {
                    self.parts.wakers.remove(&name);
                    if let Some(task) = self.workers.remove(&name) {
                        task.stop().await;
                    }
                    info!(
                        receiver = %name,
                        "receiver removed; its pending deliveries stay in the outbox"
                    );
                }
            }
        }
        for (name, (notifier, digest)) in configured {
            if !self.workers.contains_key(&name) {
                info!(receiver = %name, "receiver started");
            }
            self.start_worker(notifier, digest);
        }
        self.parts
            .wakers
            .set_operators(snapshot.router.operator_receivers());

        let rules = Arc::clone(&snapshot.rules);
        let (brands, topics) = (rules.brands.len(), rules.topics.len());
        self.parts.keywords.replace(snapshot);
        self.parts.rules.store(rules);

        for (name, running) in reloadable(&self.sources) {
            let digest = config.sections.entry("sources", name.as_str());
            let settings = config.sources.iter().find(|source| source.name == name);
            match settings {
                Some(_) if digest == running => {}
                Some(settings) => {
                    if let Some(task) = self.sources.remove(&name) {
                        task.stop().await;
                    }
                    info!(source = %name, "source restarting with new settings");
                    let source = self.configured_source(settings);
                    self.start_source(source, digest);
                }
                None => {
                    if let Some(task) = self.sources.remove(&name) {
                        task.stop().await;
                    }
                    self.parts.inventory.remove_source(&name);
                    info!(source = %name, "source removed");
                }
            }
        }
        for settings in &config.sources {
            if !self.sources.contains_key(&settings.name) {
                info!(source = %settings.name, "source started");
                let digest = config.sections.entry("sources", settings.name.as_str());
                let source = self.configured_source(settings);
                self.start_source(source, digest);
            }
        }
        self.parts
            .intake
            .store(Arc::new(config.intake.channels.clone()));
        let console_enabled = config.console.is_some();
        if let Some(settings) = config.console {
            self.reload_console(settings).await;
        }
        // Named before the outcome line, which ends the reload in the log.
        let mut changed: Vec<&str> = self
            .sections
            .changed_besides_keywords(&config.sections)
            .into_iter()
            .filter(|section| !SWAPPED_SECTIONS.contains(section))
            .collect();
        if console_enabled != self.console_enabled {
            changed.push("console.enabled");
        }
        if !changed.is_empty() {
            warn!(
                sections = changed.join(", "),
                "settings changed; they take effect at restart"
            );
        }
        info!(
            brands,
            topics,
            sources = self.sources.len(),
            receivers = self.workers.len(),
            routes = config.routes.len(),
            "configuration reloaded"
        );
        Ok(())
    }

    /// Swaps `settings` into the console, when it is served, and logs the users whose
    /// sessions that ended. A store error is logged: the settings are in force, and a
    /// removed user's sessions are refused anyway.
    async fn reload_console(&self, settings: ConsoleSettings) {
        let Some(console) = &self.console else {
            return;
        };
        match console.reload(settings).await {
            Ok(ended) => {
                for user in ended {
                    info!(user = %escape::log(&user), "console sessions ended");
                }
            }
            Err(err) => {
                error!(error = %escape::log(&err.to_string()), "cannot end console sessions");
            }
        }
    }
}

/// On each SIGHUP until `stop`: loads the configuration from `file` again, validated in
/// full like `mentiond check`, and when it is valid swaps it into `running`
/// ([`Running::apply`]). When it is not, every problem is logged and everything running
/// stays.
pub(super) async fn reload_on_signal(
    mut signals: ReloadSignals,
    file: Option<PathBuf>,
    mut running: Running,
) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            _ = running.parts.stop.cancelled() => return Ok(()),
            received = signals.recv() => if received.is_none() {
                anyhow::bail!("the SIGHUP stream ended");
            },
        }
        info!(signal = "SIGHUP", "reloading configuration");
        running.parts.service.reloading();
        let path = file.clone();
        let noisy = noisy_variants(&running.parts.store).await;
        // Loading reads files and compiles the matcher: seconds for a large watch list.
        let loaded = tokio::task::spawn_blocking(move || {
            let config = config::load(path.as_deref())?;
            let snapshot = compile(&config, &noisy)?;
            anyhow::Ok((config, snapshot))
        })
        .await
        .context("loading the configuration")?;
        let applied = match loaded {
            Ok((config, snapshot)) => {
                let feedback_off_after = config.matcher.feedback_off_after;
                let applied = running.apply(config, snapshot).await;
                if applied.is_ok() {
                    // The pipeline's next batch reads the variants switched off with it.
                    running
                        .parts
                        .store
                        .call(move |store| store.set_feedback_off_after(feedback_off_after))
                        .await?;
                }
                applied
            }
            Err(err) => Err(err),
        };
        if let Err(err) = applied {
            match err.downcast_ref::<config::ConfigError>() {
                Some(invalid) => {
                    for problem in &invalid.problems {
                        error!(error = %escape::log(&problem.to_string()), "invalid configuration");
                    }
                }
                None => error!(error = %escape::log(&format!("{err:#}")), "invalid configuration"),
            }
            error!("reload refused, the running configuration stays");
        }
        running.parts.service.reloaded();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compiled_snapshot_reads_tones_with_the_configured_lexicon() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("keywords.toml"),
            "[[brand]]\nname = \"Turkcell\"\nterms = [\"Turkcell\"]\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("ours.toml"), "[words]\n\"zort\" = -3\n").unwrap();
        let path = dir.path().join("mentiond.toml");
        std::fs::write(&path, "[sentiment]\nextra = [\"ours.toml\"]\n").unwrap();
        let config = crate::config::load(Some(&path)).unwrap();
        let snapshot = compile(&config, &[]).unwrap();
        assert_eq!(
            snapshot.lexicon.score("Turkcell zort").label,
            crate::sentiment::Sentiment::Negative
        );
    }
}
