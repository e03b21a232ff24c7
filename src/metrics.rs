//! The daemon's Prometheus metrics: one [`Metrics`] value, created once by `app` and
//! shared as `Arc<Metrics>` with the parts that count (poll loops, the pipeline,
//! delivery workers), so several daemons in one process keep separate counts.
//!
//! What the parts count as it happens lives here (counters, histograms, build info).
//! What the database knows (outbox depth, open hits, each source's last success and
//! lag) is read at scrape time and handed to [`Metrics::encode`] as [`StoreGauges`],
//! so it is never stale. Label values come only from the configuration (source,
//! brand, receiver names) and fixed words (match kind, outcome), never from posts;
//! the encoder escapes them.

use std::fmt;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use chrono::{DateTime, Utc};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of [`Metrics::encode`]'s output (Prometheus text, 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Prefix of every series name.
const PREFIX: &str = "mentiond";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabel {
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HitLabels {
    brand: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BrandLabel {
    brand: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    receiver: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReceiverLabel {
    receiver: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabel {
    write: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: String,
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver accepted it.
    Delivered,
    /// It failed and will be tried again.
    Retry,
    /// It failed for good (permanent error or past `delivery.max_age`).
    Dead,
}

impl DeliveryOutcome {
    /// Every outcome, for the series declared at start.
    const ALL: [DeliveryOutcome; 3] = [
        DeliveryOutcome::Delivered,
        DeliveryOutcome::Retry,
        DeliveryOutcome::Dead,
    ];

    /// The `outcome` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Retry => "retry",
            DeliveryOutcome::Dead => "dead",
        }
    }
}

/// A kind of write the daemon makes to its database, watched for failures (a full
/// disk, a read-only file system) that the daemon outlives by retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreWrite {
    /// A source's page: posts, hits, deliveries and cursor in one transaction.
    Commit,
    /// The heartbeat row `mentiond status` reads.
    Heartbeat,
}

impl StoreWrite {
    /// Every kind, for the series declared at start.
    const ALL: [StoreWrite; 2] = [StoreWrite::Commit, StoreWrite::Heartbeat];

    /// The `write` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreWrite::Commit => "commit",
            StoreWrite::Heartbeat => "heartbeat",
        }
    }

    /// The kind whose label value is `value`.
    pub fn parse(value: &str) -> Option<StoreWrite> {
        StoreWrite::ALL
            .into_iter()
            .find(|write| write.as_str() == value)
    }
}

/// A kind of store write whose last attempt failed: since when, and the first error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFailure {
    /// The kind of write.
    pub write: StoreWrite,
    /// When the first of the failures in a row happened.
    pub since: DateTime<Utc>,
    /// That failure's error, as displayed.
    pub error: String,
}

/// Every series the daemon counts itself, registered under the `mentiond_` prefix.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    posts_ingested: Family<SourceLabel, Counter>,
    source_errors: Family<SourceLabel, Counter>,
    hits: Family<HitLabels, Counter>,
    deliveries: Family<DeliveryLabels, Counter>,
    noisy_variants: Family<BrandLabel, Counter>,
    match_duration: Histogram,
    commit_duration: Histogram,
    store_write_errors: Family<WriteLabel, Counter>,
    store_write_failing: Family<WriteLabel, Gauge>,
    /// The kinds of write failing now; watched by whoever shows it outside `/metrics`.
    store_failures: tokio::sync::watch::Sender<Vec<WriteFailure>>,
}

/// Buckets of the duration histograms: 100 µs to about 6.5 s, ×4 each.
fn duration_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.0001, 4.0, 9)
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Every family registered, empty, and `mentiond_build_info` set.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix(PREFIX);
        let posts_ingested = Family::<SourceLabel, Counter>::default();
        registry.register(
            "posts_ingested",
            "Posts fetched and committed, per configured source",
            posts_ingested.clone(),
        );
        let source_errors = Family::<SourceLabel, Counter>::default();
        registry.register(
            "source_errors",
            "Polls that failed, per configured source",
            source_errors.clone(),
        );
        let hits = Family::<HitLabels, Counter>::default();
        registry.register(
            "hits",
            "New hits stored, per brand or topic and the kind of its first matched term",
            hits.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "deliveries",
            "Delivery attempts, per receiver and outcome (delivered, retry, dead)",
            deliveries.clone(),
        );
        let noisy_variants = Family::<BrandLabel, Counter>::default();
        registry.register(
            "noisy_variants_switched_off",
            "Generated typos switched off for firing like a word of their own, per brand",
            noisy_variants.clone(),
        );
        let match_duration = Histogram::new(duration_buckets());
        registry.register_with_unit(
            "match_duration",
            "Time to match (and read the tone of) one batch of posts",
            Unit::Seconds,
            match_duration.clone(),
        );
        let commit_duration = Histogram::new(duration_buckets());
        registry.register_with_unit(
            "batch_commit_duration",
            "Time to route and commit one batch on the store thread, queueing included",
            Unit::Seconds,
            commit_duration.clone(),
        );
        let store_write_errors = Family::<WriteLabel, Counter>::default();
        registry.register(
            "store_write_errors",
            "Database writes that failed (a full disk, an I/O error), per kind of write",
            store_write_errors.clone(),
        );
        let store_write_failing = Family::<WriteLabel, Gauge>::default();
        registry.register(
            "store_write_failing",
            "1 while the last database write of this kind failed, 0 once one succeeded",
            store_write_failing.clone(),
        );
        for write in StoreWrite::ALL {
            let label = WriteLabel {
                write: write.as_str().to_string(),
            };
            store_write_errors.get_or_create_owned(&label);
            store_write_failing.get_or_create_owned(&label);
        }
        let build_info = Family::<VersionLabel, Gauge>::default();
        registry.register("build_info", "The running build", build_info.clone());
        build_info
            .get_or_create(&VersionLabel {
                version: env!("CARGO_PKG_VERSION").to_string(),
            })
            .set(1);
        Metrics {
            registry,
            posts_ingested,
            source_errors,
            hits,
            deliveries,
            noisy_variants,
            match_duration,
            commit_duration,
            store_write_errors,
            store_write_failing,
            store_failures: tokio::sync::watch::Sender::new(Vec::new()),
        }
    }

    /// Shows a configured source's counters at zero before its first poll, so a
    /// rate over its first increase is not lost.
    pub fn declare_source(&self, source: &str) {
        let label = SourceLabel {
            source: source.to_string(),
        };
        self.posts_ingested.get_or_create_owned(&label);
        self.source_errors.get_or_create_owned(&label);
    }

    /// Shows a receiver's delivery counters at zero, one per outcome.
    pub fn declare_receiver(&self, receiver: &str) {
        for outcome in DeliveryOutcome::ALL {
            self.deliveries.get_or_create_owned(&DeliveryLabels {
                receiver: receiver.to_string(),
                outcome: outcome.as_str().to_string(),
            });
        }
    }

    /// Counts `n` posts of `source` committed.
    pub fn posts_ingested(&self, source: &str, n: usize) {
        self.posts_ingested
            .get_or_create(&SourceLabel {
                source: source.to_string(),
            })
            .inc_by(n as u64);
    }

    /// Counts one failed poll of `source`.
    pub fn source_error(&self, source: &str) {
        self.source_errors
            .get_or_create(&SourceLabel {
                source: source.to_string(),
            })
            .inc();
    }

    /// Counts one new hit of `brand` whose first term matched as `kind`.
    pub fn hit(&self, brand: &str, kind: &str) {
        self.hits
            .get_or_create(&HitLabels {
                brand: brand.to_string(),
                kind: kind.to_string(),
            })
            .inc();
    }

    /// Counts one delivery attempt to `receiver` by its outcome.
    pub fn delivery(&self, receiver: &str, outcome: DeliveryOutcome) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                receiver: receiver.to_string(),
                outcome: outcome.as_str().to_string(),
            })
            .inc();
    }

    /// Counts one generated typo of `brand` switched off as noisy.
    pub fn noisy_variant_switched_off(&self, brand: &str) {
        self.noisy_variants
            .get_or_create(&BrandLabel {
                brand: brand.to_string(),
            })
            .inc();
    }

    /// Records how long matching one batch took.
    pub fn observe_match(&self, took: Duration) {
        self.match_duration.observe(took.as_secs_f64());
    }

    /// Records how long committing one batch took.
    pub fn observe_commit(&self, took: Duration) {
        self.commit_duration.observe(took.as_secs_f64());
    }

    /// Records the outcome of one database write of kind `write`: a failure is
    /// counted and, if the last one of its kind succeeded, starts a failing spell that
    /// the next success ends.
    pub fn store_write(&self, write: StoreWrite, outcome: Result<(), &dyn fmt::Display>) {
        let label = WriteLabel {
            write: write.as_str().to_string(),
        };
        let failing = outcome.is_err();
        if let Err(error) = outcome {
            self.store_write_errors.get_or_create(&label).inc();
            let error = error.to_string();
            self.store_failures.send_if_modified(|failures| {
                let started = !failures.iter().any(|failure| failure.write == write);
                if started {
                    failures.push(WriteFailure {
                        write,
                        since: Utc::now(),
                        error,
                    });
                    failures.sort_by_key(|failure| failure.write);
                }
                started
            });
        } else {
            self.store_failures.send_if_modified(|failures| {
                let before = failures.len();
                failures.retain(|failure| failure.write != write);
                failures.len() != before
            });
        }
        self.store_write_failing
            .get_or_create(&label)
            .set(i64::from(failing));
    }

    /// The kinds of store write failing now, changing as writes fail and recover.
    pub fn store_failures(&self) -> tokio::sync::watch::Receiver<Vec<WriteFailure>> {
        self.store_failures.subscribe()
    }

    /// The whole exposition in Prometheus text format: the counted series, then
    /// `gauges` read from the store for this scrape (`None` when the store did not
    /// answer: those series are left out rather than shown stale).
    pub fn encode(&self, gauges: Option<&StoreGauges>) -> Result<String, fmt::Error> {
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)?;
        if let Some(gauges) = gauges {
            prometheus_text::encode(&mut text, &gauges.registry())?;
        }
        Ok(text)
    }
}

/// What the database knows at scrape time, as plain values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreGauges {
    /// One entry per receiver, configured or with pending rows.
    pub outbox: Vec<OutboxGauge>,
    /// Hits not acknowledged yet.
    pub open_hits: u64,
    /// Open hits that were escalated because their SLA passed.
    pub sla_breached_hits: u64,
    /// One entry per configured source.
    pub sources: Vec<SourceGauge>,
}

/// A receiver's outbox.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxGauge {
    /// Receiver name.
    pub receiver: String,
    /// Deliveries pending (waiting to be sent or retried).
    pub pending: u64,
    /// Age of the oldest pending delivery since it was queued; 0 when none.
    pub oldest_pending_age_seconds: f64,
}

/// A source's health.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceGauge {
    /// Source name.
    pub source: String,
    /// Unix time of its last successful poll, if any.
    pub last_success_unix_seconds: Option<f64>,
    /// Age of the newest post it has fetched, if any.
    pub lag_seconds: Option<f64>,
    /// Polls failed since its last success.
    pub consecutive_failures: u64,
}

impl StoreGauges {
    /// A registry of this scrape's gauges, built fresh so two scrapes never see each
    /// other's values half-written and a receiver or source that is gone leaves no
    /// stale series.
    fn registry(&self) -> Registry {
        let mut registry = Registry::with_prefix(PREFIX);
        let pending = Family::<ReceiverLabel, Gauge>::default();
        let oldest = Family::<ReceiverLabel, Gauge<f64, AtomicU64>>::default();
        for outbox in &self.outbox {
            let label = ReceiverLabel {
                receiver: outbox.receiver.clone(),
            };
            pending
                .get_or_create(&label)
                .set(i64::try_from(outbox.pending).unwrap_or(i64::MAX));
            oldest
                .get_or_create(&label)
                .set(outbox.oldest_pending_age_seconds);
        }
        registry.register("outbox_pending", "Deliveries pending per receiver", pending);
        registry.register_with_unit(
            "outbox_oldest_pending_age",
            "Age of the oldest pending delivery per receiver since it was queued",
            Unit::Seconds,
            oldest,
        );
        let open = Gauge::<i64>::default();
        open.set(i64::try_from(self.open_hits).unwrap_or(i64::MAX));
        registry.register("open_hits", "Hits not acknowledged yet", open);
        let breached = Gauge::<i64>::default();
        breached.set(i64::try_from(self.sla_breached_hits).unwrap_or(i64::MAX));
        registry.register(
            "sla_breached_hits",
            "Open hits escalated because their SLA passed",
            breached,
        );
        let last_success = Family::<SourceLabel, Gauge<f64, AtomicU64>>::default();
        let lag = Family::<SourceLabel, Gauge<f64, AtomicU64>>::default();
        let failures = Family::<SourceLabel, Gauge>::default();
        for source in &self.sources {
            let label = SourceLabel {
                source: source.source.clone(),
            };
            if let Some(at) = source.last_success_unix_seconds {
                last_success.get_or_create(&label).set(at);
            }
            if let Some(seconds) = source.lag_seconds {
                lag.get_or_create(&label).set(seconds);
            }
            failures
                .get_or_create(&label)
                .set(i64::try_from(source.consecutive_failures).unwrap_or(i64::MAX));
        }
        registry.register_with_unit(
            "source_last_success_timestamp",
            "Unix time of each source's last successful poll",
            Unit::Seconds,
            last_success,
        );
        registry.register_with_unit(
            "source_lag",
            "Age of the newest post each source has fetched",
            Unit::Seconds,
            lag,
        );
        registry.register(
            "source_consecutive_failures",
            "Polls failed since each source's last success",
            failures,
        );
        registry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_named_by_convention_and_move_with_the_counts() {
        let metrics = Metrics::new();
        metrics.declare_source("hn");
        metrics.declare_receiver("hook");
        let before = metrics.encode(None).unwrap();
        assert!(before.contains("mentiond_build_info{version=\"0.1.0\"} 1\n"));
        assert!(before.contains("# TYPE mentiond_posts_ingested_total counter\n"));
        assert!(before.contains("mentiond_posts_ingested_total{source=\"hn\"} 0\n"));
        assert!(before.contains("mentiond_source_errors_total{source=\"hn\"} 0\n"));
        assert!(
            before.contains("mentiond_deliveries_total{receiver=\"hook\",outcome=\"dead\"} 0\n")
        );
        assert!(before.contains("mentiond_match_duration_seconds_count 0\n"));

        metrics.posts_ingested("hn", 3);
        metrics.hit("Turkcell", "misspelling");
        metrics.delivery("hook", DeliveryOutcome::Delivered);
        metrics.noisy_variant_switched_off("Turkcell");
        metrics.observe_match(Duration::from_millis(2));
        metrics.observe_commit(Duration::from_millis(30));
        let after = metrics.encode(None).unwrap();
        assert!(after.contains("mentiond_posts_ingested_total{source=\"hn\"} 3\n"));
        assert!(after.contains("mentiond_hits_total{brand=\"Turkcell\",kind=\"misspelling\"} 1\n"));
        assert!(
            after
                .contains("mentiond_deliveries_total{receiver=\"hook\",outcome=\"delivered\"} 1\n")
        );
        assert!(
            after.contains("mentiond_noisy_variants_switched_off_total{brand=\"Turkcell\"} 1\n")
        );
        assert!(after.contains("mentiond_match_duration_seconds_count 1\n"));
        assert!(after.contains("mentiond_batch_commit_duration_seconds_bucket{le=\"0.0064\"} 0\n"));
        assert!(after.contains("mentiond_batch_commit_duration_seconds_bucket{le=\"0.0256\"} 0\n"));
        assert!(after.contains("mentiond_batch_commit_duration_seconds_bucket{le=\"0.1024\"} 1\n"));
    }

    #[test]
    fn a_failing_store_write_is_counted_and_shown_until_one_of_its_kind_succeeds() {
        let metrics = Metrics::new();
        let failures = metrics.store_failures();
        let before = metrics.encode(None).unwrap();
        assert!(before.contains("mentiond_store_write_errors_total{write=\"commit\"} 0\n"));
        assert!(before.contains("mentiond_store_write_failing{write=\"heartbeat\"} 0\n"));

        let full = "database or disk is full";
        metrics.store_write(StoreWrite::Commit, Err(&full));
        metrics.store_write(StoreWrite::Commit, Err(&"a later error"));
        metrics.store_write(StoreWrite::Heartbeat, Ok(()));
        let during = metrics.encode(None).unwrap();
        assert!(during.contains("mentiond_store_write_errors_total{write=\"commit\"} 2\n"));
        assert!(during.contains("mentiond_store_write_failing{write=\"commit\"} 1\n"));
        assert!(during.contains("mentiond_store_write_failing{write=\"heartbeat\"} 0\n"));
        let failing = failures.borrow().clone();
        assert_eq!(failing.len(), 1, "{failing:?}");
        assert_eq!(failing[0].write, StoreWrite::Commit);
        assert_eq!(failing[0].error, full, "the spell keeps its first error");

        metrics.store_write(StoreWrite::Commit, Ok(()));
        let after = metrics.encode(None).unwrap();
        assert!(after.contains("mentiond_store_write_failing{write=\"commit\"} 0\n"));
        assert!(after.contains("mentiond_store_write_errors_total{write=\"commit\"} 2\n"));
        assert!(failures.borrow().is_empty());
    }

    #[test]
    fn label_values_from_the_configuration_are_escaped() {
        let metrics = Metrics::new();
        metrics.hit("Ab\"c\\d\ne", "exact");
        let gauges = StoreGauges {
            sources: vec![SourceGauge {
                source: "x\"}\n evil 1".into(),
                lag_seconds: Some(2.5),
                ..SourceGauge::default()
            }],
            ..StoreGauges::default()
        };
        let text = metrics.encode(Some(&gauges)).unwrap();
        assert!(
            text.contains("mentiond_hits_total{brand=\"Ab\\\"c\\\\d\\ne\",kind=\"exact\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("mentiond_source_lag_seconds{source=\"x\\\"}\\n evil 1\"} 2.5\n"),
            "{text}"
        );
        // Every line is a comment or a sample: no label value broke out of its line.
        for line in text.lines() {
            assert!(
                line.starts_with("# ") || line.starts_with("mentiond_"),
                "{line}"
            );
        }
    }

    #[test]
    fn store_gauges_are_shown_only_for_the_scrape_that_read_them() {
        let metrics = Metrics::new();
        let gauges = StoreGauges {
            outbox: vec![OutboxGauge {
                receiver: "hook".into(),
                pending: 4,
                oldest_pending_age_seconds: 90.0,
            }],
            open_hits: 7,
            sla_breached_hits: 2,
            sources: vec![SourceGauge {
                source: "hn".into(),
                last_success_unix_seconds: Some(1_700_000_000.0),
                lag_seconds: None,
                consecutive_failures: 3,
            }],
        };
        let text = metrics.encode(Some(&gauges)).unwrap();
        for line in [
            "mentiond_outbox_pending{receiver=\"hook\"} 4\n",
            "mentiond_outbox_oldest_pending_age_seconds{receiver=\"hook\"} 90.0\n",
            "mentiond_open_hits 7\n",
            "mentiond_sla_breached_hits 2\n",
            "mentiond_source_last_success_timestamp_seconds{source=\"hn\"} 1700000000.0\n",
            "mentiond_source_consecutive_failures{source=\"hn\"} 3\n",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
        assert!(!text.contains("mentiond_source_lag_seconds{"), "{text}");
        let without = metrics.encode(None).unwrap();
        assert!(!without.contains("mentiond_open_hits"), "{without}");
    }
}
