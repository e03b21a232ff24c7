//! Alerts: routing decided who gets a hit ([`crate::routing`]), the outbox holds what
//! must be sent, and one [`DeliveryWorker`] per receiver drains it through that receiver's
//! [`Notifier`], retrying with backoff. Notifiers run only from the outbox, so a crash
//! can repeat an alert (same delivery id) but never lose one.

pub mod chat;
pub mod discord;
pub mod email;
pub mod file;
pub mod render;
pub mod report;
pub mod responsibility;
pub mod slack;
pub mod surge;
pub mod teams;
pub mod telegram;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::Deserialize;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, error, info, info_span, warn};

use crate::backoff::Backoff;
use crate::escape;
use crate::metrics::{DeliveryOutcome, Metrics};
use crate::model::ReceiverName;
use crate::routing::surge::SurgeNote;
use crate::service::Pulse;
use crate::settings::{DurationSetting, FieldError, kind_registry};
use crate::store::{
    Delivery, DeliveryKind, FailedAttempt, NewOperatorAlert, StoreError, StoreHandle, unix_millis,
};

pub use render::{Alert, AlertKind, Language};
pub use report::ReportMessage;
/// `[delivery]`: how alerts are retried.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Timeout of one attempt.
    pub timeout: Duration,
    /// Retry schedule.
    pub backoff: Backoff,
    /// After this age an undelivered alert is dead.
    pub max_age: Duration,
}

/// `[delivery]`: how alerts are retried.
#[derive(Debug, Deserialize)]
pub struct RawDelivery {
    /// Timeout of one delivery attempt.
    pub timeout: DurationSetting,
    /// First wait after a failed attempt.
    pub backoff_initial: DurationSetting,
    /// Longest wait between attempts.
    pub backoff_max: DurationSetting,
    /// Age after which an undelivered alert is declared dead.
    pub max_age: DurationSetting,
}

impl DeliverySettings {
    /// Validates `[delivery]`; problems are keyed relative to it.
    pub fn parse(raw: &RawDelivery) -> (DeliverySettings, Vec<FieldError>) {
        let mut problems = Vec::new();
        let mut duration = |key: &str, value: &DurationSetting, positive: bool| {
            value.read(key, positive, &mut problems)
        };
        let settings = DeliverySettings {
            timeout: duration("timeout", &raw.timeout, true),
            backoff: Backoff {
                initial: duration("backoff_initial", &raw.backoff_initial, true),
                max: duration("backoff_max", &raw.backoff_max, false),
            },
            max_age: duration("max_age", &raw.max_age, false),
        };
        (settings, problems)
    }
}

/// A validated `[[receivers]]` entry.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Unique name, used by routes.
    pub name: ReceiverName,
    /// Where and how to send.
    pub kind: ReceiverKind,
}

/// What building a receiver needs besides its own settings.
#[derive(Clone, Copy)]
pub struct ReceiverContext<'a> {
    /// The shared HTTP client; it must not follow redirects.
    pub http: &'a reqwest::Client,
    /// Bounds each SMTP command.
    pub timeout: Duration,
}

kind_registry! {
    /// The kind-specific part of a receiver: every receiver kind, written once.
    #[derive(Debug, Clone)]
    pub enum ReceiverKind ("receiver") {
        build(name: ReceiverName, context: ReceiverContext<'_>) -> Result<Arc<dyn Notifier>, DeliveryError>;
        /// JSON lines appended to a file.
        File(file::FileSettings) = "file",
            parse: file::FileSettings::parse,
            build: |name, settings, _| Ok(Arc::new(file::FileNotifier::new(name, settings.clone())));
        /// Signed JSON POST.
        Webhook(webhook::WebhookSettings) = "webhook",
            parse: webhook::WebhookSettings::parse,
            build: |name, settings, context| {
                Ok(Arc::new(webhook::WebhookNotifier::new(name, settings.clone(), context.http.clone())))
            };
        /// E-mail over SMTP.
        Email(email::EmailSettings) = "email",
            parse: email::EmailSettings::parse,
            build: |name, settings, context| {
                Ok(Arc::new(email::EmailNotifier::new(name, settings.clone(), context.timeout)?))
            };
        /// A Slack incoming webhook.
        Slack(chat::ChatSettings) = "slack",
            parse: |options| chat::ChatSettings::parse("slack", options),
            build: build_chat;
        /// A Teams Workflows URL.
        Teams(chat::ChatSettings) = "teams",
            parse: |options| chat::ChatSettings::parse("teams", options),
            build: build_chat;
        /// A Discord webhook.
        Discord(chat::ChatSettings) = "discord",
            parse: |options| chat::ChatSettings::parse("discord", options),
            build: build_chat;
        /// A Telegram bot and chat.
        Telegram(chat::ChatSettings) = "telegram",
            parse: |options| chat::ChatSettings::parse("telegram", options),
            build: build_chat;
    }
}

/// Hits per message of a receiver that must get every hit, unless set.
pub const DEFAULT_HITS_PER_MESSAGE: usize = 100;

/// Validates a machine receiver's `hits_per_message` (default
/// [`DEFAULT_HITS_PER_MESSAGE`]).
fn hits_per_message(value: Option<usize>) -> Result<usize, FieldError> {
    match value.unwrap_or(DEFAULT_HITS_PER_MESSAGE) {
        0 => Err(FieldError::new("hits_per_message", "must be at least 1")),
        n if n > 10_000 => Err(FieldError::new(
            "hits_per_message",
            "must be at most 10000 (one message must stay a reasonable request)",
        )),
        n => Ok(n),
    }
}

impl ReceiverKind {
    /// For a program on the other end (`webhook`, `file`), which must get every hit:
    /// the most hits one message carries. `None` for people (chat, e-mail), whose
    /// messages summarise a large group with "and N more".
    pub fn hits_per_message(&self) -> Option<usize> {
        match self {
            ReceiverKind::Webhook(settings) => Some(settings.hits_per_message),
            ReceiverKind::File(settings) => Some(settings.hits_per_message),
            _ => None,
        }
    }
}

fn build_chat(
    name: ReceiverName,
    settings: &chat::ChatSettings,
    context: ReceiverContext<'_>,
) -> Result<Arc<dyn Notifier>, DeliveryError> {
    Ok(Arc::new(chat::ChatNotifier::new(
        name,
        settings.clone(),
        context.http.clone(),
    )))
}

/// A channel that can deliver one alert from the outbox.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync {
    /// The receiver's configured name.
    fn name(&self) -> &ReceiverName;

    /// The body for `alert` in this receiver's format. Called once per delivery, at
    /// its first attempt; the result is stored and sent unchanged on every retry.
    fn render(&self, alert: &Alert<'_>) -> String;

    /// Sends one delivery; `Ok` only when the receiver accepted it.
    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError>;

    /// The body of a daily report's message in this receiver's format: by default
    /// the report's JSON on one line (`webhook`, `file`); e-mail and chat override it.
    fn render_report(&self, report: &ReportMessage<'_>) -> String {
        report.json.to_string()
    }
}

/// Why a delivery attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The receiver answered with a non-2xx status (a 3xx is never followed).
    #[error("HTTP status {status}")]
    Status {
        /// The status code.
        status: u16,
        /// What `Retry-After` asked for.
        retry_after: Option<Duration>,
    },
    /// Connecting or sending failed; the cause as [`crate::http::describe`] names it.
    #[error("request failed: {0}")]
    Transport(String),
    /// The attempt took longer than `delivery.timeout` (the duration).
    #[error("{}", crate::http::timed_out_after(*.0))]
    Timeout(Duration),
    /// Local I/O failed (file receiver).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The SMTP server refused or the connection failed; `permanent` for 5xx replies.
    #[error("smtp: {message}")]
    Smtp {
        /// A 5xx reply: retrying cannot help.
        permanent: bool,
        /// What lettre reported.
        message: String,
    },
}

impl DeliveryError {
    /// Whether a later attempt may succeed: 408, 429, 5xx, timeouts, connection and I/O errors.
    pub fn is_transient(&self) -> bool {
        match self {
            DeliveryError::Status { status, .. } => {
                matches!(status, 408 | 429) || (500..=599).contains(status)
            }
            DeliveryError::Transport(_) | DeliveryError::Timeout(_) | DeliveryError::Io(_) => true,
            DeliveryError::Smtp { permanent, .. } => !permanent,
        }
    }

    /// Whether the endpoint said it is gone for good (410): the receiver is disabled.
    pub fn disables_receiver(&self) -> bool {
        matches!(self, DeliveryError::Status { status: 410, .. })
    }

    /// The HTTP status, when the receiver answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            DeliveryError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            DeliveryError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Builds the notifier of each receiver. `http` must not follow redirects; `timeout`
/// bounds each SMTP command.
pub fn build(
    receivers: &[ReceiverConfig],
    http: &reqwest::Client,
    timeout: Duration,
) -> Result<Vec<Arc<dyn Notifier>>, DeliveryError> {
    let context = ReceiverContext { http, timeout };
    receivers
        .iter()
        .map(|receiver| receiver.kind.build(receiver.name.clone(), context))
        .collect()
}

/// How long an idle worker sleeps before looking at the outbox again on its own.
const IDLE_RECHECK: Duration = Duration::from_secs(60);

/// Consecutive transient failures after which a receiver's whole queue pauses.
const BREAKER_THRESHOLD: u32 = 3;

/// The circuit breaker of one receiver. Closed, every due row is sent. After
/// [`BREAKER_THRESHOLD`] consecutive transient failures it opens: the whole queue
/// pauses for `Backoff::delay(trips)`, so a receiver that is down draws a few probes
/// instead of one retry per pending row. After the pause it is half-open: one row is
/// sent as a probe; a transient failure reopens it for a longer pause, an answer
/// closes it.
#[derive(Debug, Default)]
struct Breaker {
    /// Consecutive transient failures.
    failures: u32,
    /// Times it opened since it was last closed (0: closed).
    trips: u32,
}

impl Breaker {
    /// Records a transient failure; returns the pause when the circuit opens.
    fn fail(&mut self, backoff: &crate::backoff::Backoff) -> Option<Duration> {
        self.failures += 1;
        if self.trips == 0 && self.failures < BREAKER_THRESHOLD {
            return None;
        }
        self.trips += 1;
        Some(backoff.delay(self.trips))
    }

    /// Records an answer from the receiver; returns whether the circuit was open.
    fn close(&mut self) -> bool {
        let was_open = self.trips > 0;
        *self = Breaker::default();
        was_open
    }
}

/// What one attempt tells about the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// It accepted the delivery, or answered that retrying cannot help: it is up.
    Answered,
    /// A transient failure; `retry_after` is the pause it asked for, when the row
    /// will be retried.
    Failed {
        /// The receiver's `Retry-After`, capped.
        retry_after: Option<Duration>,
    },
    /// Nothing was sent (no hits, rendering failed).
    NotSent,
}

/// Drains one receiver's outbox rows. Each receiver has its own worker, so one
/// receiver's failures never delay another's deliveries.
pub struct DeliveryWorker {
    /// The receiver.
    pub notifier: Arc<dyn Notifier>,
    /// The outbox.
    pub store: StoreHandle,
    /// Timeout and retry schedule.
    pub settings: DeliverySettings,
    /// Woken by the pipeline when new rows were committed.
    pub wake: Arc<Notify>,
    /// Stops the worker after its current attempt.
    pub cancel: CancellationToken,
    /// Every worker's wake-up, and where alerts about this receiver failing go.
    pub wakers: Arc<Wakers>,
    /// Counts each attempt's outcome.
    pub metrics: Arc<Metrics>,
    /// The watchdog's liveness stamp: beats on every turn and while idle or paused;
    /// an attempt is bounded by `settings.timeout`.
    pub pulse: Pulse,
}

/// The wake-up of each running delivery worker by receiver name, and the receivers
/// that hear about a failing receiver (those of the routes taking operator alerts).
/// The pipeline and the escalation loop wake every worker through it after enqueueing;
/// a reload updates it as workers stop and start.
#[derive(Debug, Default)]
pub struct Wakers(std::sync::Mutex<WakerTable>);

#[derive(Debug, Default)]
struct WakerTable {
    workers: std::collections::BTreeMap<ReceiverName, Arc<Notify>>,
    operators: Vec<ReceiverName>,
}

impl Wakers {
    /// Registers the wake-up of `receiver`'s worker, replacing an earlier one.
    pub fn insert(&self, receiver: ReceiverName, wake: Arc<Notify>) {
        self.table().workers.insert(receiver, wake);
    }

    /// Forgets `receiver`'s worker (it stopped).
    pub fn remove(&self, receiver: &ReceiverName) {
        self.table().workers.remove(receiver);
    }

    /// Sets the receivers that take operator alerts.
    pub fn set_operators(&self, receivers: Vec<ReceiverName>) {
        self.table().operators = receivers;
    }

    /// The receivers whose worker runs, by name.
    pub fn receivers(&self) -> Vec<ReceiverName> {
        self.table().workers.keys().cloned().collect()
    }

    /// Wakes every running worker.
    pub fn wake_all(&self) {
        self.table()
            .workers
            .values()
            .for_each(|wake| wake.notify_one());
    }

    /// The receivers taking operator alerts whose worker runs, with its wake-up.
    pub fn operators(&self) -> Vec<(ReceiverName, Arc<Notify>)> {
        let table = self.table();
        table
            .operators
            .iter()
            .filter_map(|name| Some((name.clone(), Arc::clone(table.workers.get(name)?))))
            .collect()
    }

    fn table(&self) -> std::sync::MutexGuard<'_, WakerTable> {
        // Every update is one map operation: a panic elsewhere cannot leave it half done.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl DeliveryWorker {
    /// Runs until cancelled.
    pub async fn run(self) {
        let receiver = self.notifier.name().clone();
        let mut breaker = Breaker::default();
        while !self.cancel.is_cancelled() {
            self.pulse.beat();
            let name = receiver.clone();
            let now = unix_millis(Utc::now());
            let due = self
                .store
                .call(move |store| {
                    if store.is_receiver_disabled(&name)? {
                        return Ok(None);
                    }
                    store.due_deliveries(&name, now, 32).map(Some)
                })
                .await;
            let due = match due {
                Ok(Ok(Some(due))) => due,
                Ok(Ok(None)) => {
                    // Disabled by a 410: nothing is sent until `mentiond deliveries retry`
                    // re-enables it; its pending rows wait, they are not lost.
                    self.idle(IDLE_RECHECK).await;
                    continue;
                }
                Ok(Err(err)) => {
                    error!(receiver = %receiver, error = %err, "cannot read outbox");
                    self.idle(Duration::from_secs(5)).await;
                    continue;
                }
                Err(_) => break,
            };
            if due.is_empty() {
                let wait = self.next_wait(&receiver).await;
                self.idle(wait).await;
                continue;
            }
            for delivery in due {
                if self.cancel.is_cancelled() {
                    break;
                }
                self.pulse.beat();
                let span = info_span!("deliver", receiver = %receiver, delivery_id = %delivery.id);
                let pause = match self.attempt(delivery).instrument(span).await {
                    Outcome::Answered => {
                        if breaker.close() {
                            info!(receiver = %receiver, "receiver answering again, queue resumed");
                        }
                        None
                    }
                    Outcome::Failed { retry_after } => {
                        let opened = breaker.fail(&self.settings.backoff);
                        if let Some(pause) = opened {
                            warn!(
                                receiver = %receiver,
                                failures = breaker.failures,
                                pause_secs = pause.as_secs_f64(),
                                "receiver failing, queue paused"
                            );
                        }
                        retry_after.into_iter().chain(opened).max()
                    }
                    Outcome::NotSent => None,
                };
                if let Some(pause) = pause {
                    // The receiver asked us to slow down (429 / Retry-After) or keeps
                    // failing: its other rows wait too, so we do not hammer it.
                    self.pulse
                        .waiting(async {
                            tokio::select! {
                                _ = self.cancel.cancelled() => {}
                                _ = tokio::time::sleep(pause) => {}
                            }
                        })
                        .await;
                    break;
                }
            }
        }
        info!(receiver = %receiver, "delivery worker stopped");
    }

    /// Sends one delivery and records the outcome. Runs to completion even when
    /// shutdown is requested meanwhile, so a send is never cut off half-way.
    async fn attempt(&self, mut delivery: Delivery) -> Outcome {
        if !delivery.rendered {
            match self.render(&delivery).await {
                Ok(Some(payload)) => {
                    delivery.payload = payload;
                    delivery.rendered = true;
                }
                Ok(None) => {
                    info!("every hit was acknowledged before the first send, not sent");
                    let id = delivery.id.clone();
                    let marked = self
                        .store
                        .call(move |store| store.close_unsent(&id, unix_millis(Utc::now())))
                        .await;
                    if let Ok(Err(err)) | Err(err) = marked {
                        error!(error = %err, "cannot record delivery outcome");
                    }
                    return Outcome::NotSent;
                }
                Err(err) => {
                    error!(error = %err, "cannot render delivery");
                    self.idle(Duration::from_secs(5)).await;
                    return Outcome::NotSent;
                }
            }
        }
        let started = Utc::now();
        let result =
            match tokio::time::timeout(self.settings.timeout, self.notifier.deliver(&delivery))
                .await
            {
                Ok(result) => result,
                Err(_) => Err(DeliveryError::Timeout(self.settings.timeout)),
            };
        let now = unix_millis(Utc::now());
        let id = delivery.id.clone();
        let mut outcome = Outcome::Answered;
        let update = match result {
            Ok(()) => {
                self.metrics
                    .delivery(delivery.receiver.as_str(), DeliveryOutcome::Delivered);
                info!(
                    attempts = delivery.attempts + 1,
                    elapsed_ms = (Utc::now() - started).num_milliseconds(),
                    "delivered"
                );
                self.store
                    .call(move |store| store.mark_delivered(&id, now))
                    .await
            }
            Err(err) => {
                let attempts = delivery.attempts + 1;
                let delay = self
                    .settings
                    .backoff
                    .delay_honouring(attempts, err.retry_after());
                let retry_at = now + delay.as_millis() as i64;
                let too_old =
                    retry_at - delivery.age_from > self.settings.max_age.as_millis() as i64;
                let retry_at = (err.is_transient() && !too_old).then_some(retry_at);
                let counted = retry_at.map_or(DeliveryOutcome::Dead, |_| DeliveryOutcome::Retry);
                self.metrics.delivery(delivery.receiver.as_str(), counted);
                if err.is_transient() {
                    outcome = Outcome::Failed {
                        retry_after: retry_at.and(
                            err.retry_after()
                                .map(|asked| asked.min(crate::backoff::MAX_RETRY_AFTER)),
                        ),
                    };
                }
                let message = err.to_string();
                let status = err.status();
                let gone = err.disables_receiver();
                match retry_at {
                    Some(_) => {
                        warn!(error = %escape::log(&message), attempts, retry_in_secs = delay.as_secs_f64(), "delivery failed, will retry")
                    }
                    None if too_old && err.is_transient() => {
                        error!(error = %escape::log(&message), attempts, "delivery older than delivery.max_age, marked dead")
                    }
                    None => {
                        error!(error = %escape::log(&message), attempts, "delivery failed permanently, marked dead")
                    }
                }
                if gone {
                    error!(error = %escape::log(&message), "receiver answered 410 Gone, disabled until `mentiond deliveries retry`");
                }
                let receiver = delivery.receiver.clone();
                // A dead alert means people were not told: tell the operators through
                // the other receivers, except about an operator alert itself, so two
                // failing receivers cannot page each other forever.
                let operators = self.wakers.operators();
                let operator_alerts: Vec<NewOperatorAlert> = if retry_at.is_none()
                    && !matches!(delivery.kind, DeliveryKind::Operator | DeliveryKind::Report)
                {
                    operators
                            .iter()
                            .filter(|(name, _)| *name != receiver)
                            .map(|(name, _)| NewOperatorAlert {
                                id: crate::routing::operator_alert_id(name, &id),
                                receiver: name.clone(),
                                note: format!(
                                    "receiver {receiver}: delivery {id} dead after {attempts} attempts: {message}"
                                ),
                            })
                            .collect()
                } else {
                    Vec::new()
                };
                let told: Vec<Arc<Notify>> = operators
                    .iter()
                    .filter(|(name, _)| operator_alerts.iter().any(|a| &a.receiver == name))
                    .map(|(_, wake)| Arc::clone(wake))
                    .collect();
                let outcome = self
                    .store
                    .call(move |store| -> Result<(), StoreError> {
                        store.mark_failed(&FailedAttempt {
                            id: &id,
                            error: &message,
                            status,
                            retry_at_ms: retry_at,
                        })?;
                        if gone {
                            store.disable_receiver(&receiver, &message, now)?;
                        }
                        store.enqueue_operator_alerts(&id, &operator_alerts, now)?;
                        Ok(())
                    })
                    .await;
                if !told.is_empty() {
                    warn!(
                        operators = told.len(),
                        "operator alert queued for a dead delivery"
                    );
                    told.iter().for_each(|wake| wake.notify_one());
                }
                outcome
            }
        };
        if let Ok(Err(err)) | Err(err) = update {
            error!(error = %err, "cannot record delivery outcome");
        }
        outcome
    }

    /// Renders and freezes the body of a delivery from its hits; `None` if it has none.
    async fn render(&self, delivery: &Delivery) -> Result<Option<String>, StoreError> {
        let notifier = Arc::clone(&self.notifier);
        let id = delivery.id.clone();
        let max_hits = delivery.max_hits;
        let kind = delivery.kind;
        let note = delivery.note.clone().unwrap_or_default();
        // A surge's note is its summary as JSON, written by `Store::record_surge`.
        let surge: Option<SurgeNote> = match kind {
            DeliveryKind::Surge => serde_json::from_str(&note).ok(),
            _ => None,
        };
        let now = Utc::now();
        // One job on the store thread: no hit can join the row between reading its
        // hits and freezing the body, so every linked hit is in the message.
        self.store
            .call(move |store| {
                let (hits, total) = store.delivery_hits(&id, max_hits)?;
                if hits.is_empty() {
                    return Ok(None);
                }
                let alert = Alert {
                    delivery_id: &id,
                    hits: &hits,
                    more_hits: total - hits.len(),
                    now,
                    kind: match kind {
                        // A report is rendered when queued and never reaches here.
                        DeliveryKind::Mention | DeliveryKind::Report => AlertKind::Mention,
                        DeliveryKind::Escalation => AlertKind::Escalation,
                        DeliveryKind::Operator => AlertKind::Operator { note: &note },
                        DeliveryKind::Surge => match &surge {
                            Some(surge) => AlertKind::Surge(surge),
                            None => AlertKind::Operator { note: &note },
                        },
                    },
                };
                let payload = notifier.render(&alert);
                store
                    .freeze_payload(&id, &payload, unix_millis(now))
                    .map(Some)
            })
            .await
            .and_then(|result| result)
    }

    async fn next_wait(&self, receiver: &ReceiverName) -> Duration {
        let name = receiver.clone();
        match self
            .store
            .call(move |store| store.next_attempt_at(&name))
            .await
        {
            Ok(Ok(Some(at))) => {
                let millis = (at - unix_millis(Utc::now())).max(0) as u64;
                Duration::from_millis(millis).min(IDLE_RECHECK)
            }
            _ => IDLE_RECHECK,
        }
    }

    async fn idle(&self, wait: Duration) {
        self.pulse
            .waiting(async {
                tokio::select! {
                    _ = self.cancel.cancelled() => {}
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unknown_receiver_kind_lists_every_kind() {
        let err = ReceiverKind::parse("pager", serde_json::Map::new()).unwrap_err();
        assert_eq!(err.key, "kind");
        assert_eq!(ReceiverKind::KINDS.len(), 7);
        for kind in ReceiverKind::KINDS {
            assert!(
                err.message.contains(kind),
                "{kind} missing from {}",
                err.message
            );
        }
    }

    use super::*;

    #[test]
    fn retry_classification() {
        let status = |status| DeliveryError::Status {
            status,
            retry_after: None,
        };
        for code in [408, 429, 500, 503] {
            assert!(status(code).is_transient(), "{code}");
        }
        for code in [301, 302, 307, 400, 401, 404, 410, 422] {
            assert!(!status(code).is_transient(), "{code}");
        }
        let timeout = DeliveryError::Timeout(Duration::from_secs(10));
        assert!(timeout.is_transient());
        assert_eq!(timeout.to_string(), "timed out after 10 s");
        let smtp = |permanent| DeliveryError::Smtp {
            permanent,
            message: "451 4.3.0 try later".into(),
        };
        assert!(smtp(false).is_transient() && !smtp(true).is_transient());
        assert!(status(410).disables_receiver());
        assert!(!status(404).disables_receiver() && !timeout.disables_receiver());
        assert_eq!(status(503).status(), Some(503));
    }

    #[test]
    fn the_breaker_opens_after_consecutive_failures_probes_once_and_closes_on_an_answer() {
        let backoff = crate::backoff::Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        let mut breaker = Breaker::default();
        for _ in 1..BREAKER_THRESHOLD {
            assert_eq!(breaker.fail(&backoff), None, "closed below the threshold");
        }
        let first = breaker.fail(&backoff).expect("opens at the threshold");
        assert!(first <= Duration::from_secs(1) && first >= Duration::from_millis(500));
        // Half-open: the one probe failing reopens it at once, for longer.
        let second = breaker.fail(&backoff).expect("a failed probe reopens it");
        assert!(second >= Duration::from_secs(1) && second <= Duration::from_secs(2));
        for _ in 0..20 {
            breaker.fail(&backoff);
        }
        assert!(breaker.fail(&backoff).unwrap() <= Duration::from_secs(60));
        assert!(breaker.close(), "an answer closes it");
        assert!(!breaker.close());
        assert_eq!(
            breaker.fail(&backoff),
            None,
            "closed again: counting restarts"
        );
    }
}
