//! Serde mirrors of `config/mentiond.toml`, as loose as the file allows: durations
//! stay strings and per-kind options stay maps until `config::load` validates them.
//! No logic and no defaults here; defaults live only in `config/mentiond.toml`.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The whole configuration after layering, before validation.
#[derive(Debug, Deserialize)]
pub struct RawConfig {
    /// Path of the keywords file.
    pub keywords: String,
    /// `[storage]`.
    pub storage: RawStorage,
    /// `[poll]`.
    pub poll: RawPoll,
    /// `[delivery]`.
    pub delivery: RawDelivery,
    /// `[log]`.
    pub log: RawLog,
    /// `[api]`.
    pub api: RawApi,
    /// `[[sources]]`.
    #[serde(default)]
    pub sources: Vec<RawStage>,
    /// `[[receivers]]`.
    #[serde(default)]
    pub receivers: Vec<RawStage>,
    /// `[route_defaults]`: what a route leaves unset.
    pub route_defaults: RawRouteDefaults,
    /// `[[routes]]`.
    #[serde(default)]
    pub routes: Vec<RawRoute>,
}

/// `[route_defaults]`: grouping and timing every route inherits unless it sets its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRouteDefaults {
    /// Labels whose values split hits into groups.
    pub group_by: Vec<String>,
    /// Wait before a new group's first message.
    pub group_wait: RawDuration,
    /// Least time between two messages of one group.
    pub group_interval: RawDuration,
    /// Hits shown per message.
    pub max_hits: usize,
    /// Time zone of `quiet_hours`.
    pub time_zone: String,
    /// How long a hit may stay unacknowledged before it is escalated.
    pub sla: RawDuration,
}

/// `[storage]`.
#[derive(Debug, Deserialize)]
pub struct RawStorage {
    /// Database file.
    pub path: String,
}

/// `[poll]`: defaults every source shares.
#[derive(Debug, Deserialize)]
pub struct RawPoll {
    /// Time between polls.
    pub interval: RawDuration,
    /// Random spread added to each wait, as a fraction of it.
    pub jitter: f64,
    /// First wait after a failure.
    pub backoff_initial: RawDuration,
    /// Longest wait after repeated failures.
    pub backoff_max: RawDuration,
    /// Timeout of one HTTP request.
    pub request_timeout: RawDuration,
    /// Largest accepted response body, after decompression.
    pub max_body_bytes: u64,
    /// User-Agent header sent to platforms.
    pub user_agent: String,
    /// On a source's first run, posts older than this are stored but not alerted.
    pub backfill: RawDuration,
}

/// `[delivery]`: how alerts are retried.
#[derive(Debug, Deserialize)]
pub struct RawDelivery {
    /// Timeout of one delivery attempt.
    pub timeout: RawDuration,
    /// First wait after a failed attempt.
    pub backoff_initial: RawDuration,
    /// Longest wait between attempts.
    pub backoff_max: RawDuration,
    /// Age after which an undelivered alert is declared dead.
    pub max_age: RawDuration,
}

/// `[api]`: the HTTP API.
#[derive(Debug, Deserialize)]
pub struct RawApi {
    /// Address to listen on; empty: no API.
    pub listen: String,
    /// Longest wait for a request's headers, idle keep-alive time included.
    pub header_timeout: RawDuration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// `token`, `token_env` or `token_file` (and any unknown key, reported later).
    #[serde(flatten)]
    pub token: Map<String, Value>,
}

/// `[log]`.
#[derive(Debug, Deserialize)]
pub struct RawLog {
    /// Filter directive (`info`, `mentiond=debug`, …).
    pub level: String,
    /// `plain` or `json`.
    pub format: String,
}

/// A `[[sources]]` or `[[receivers]]` table: common keys plus kind-specific options.
#[derive(Debug, Deserialize)]
pub struct RawStage {
    /// Which implementation (`feed`, `jsonl`, `webhook`, `file`, …).
    pub kind: String,
    /// Unique name, used in logs, the database and routes.
    pub name: String,
    /// Every other key, validated by the kind's own options type.
    #[serde(flatten)]
    pub options: Map<String, Value>,
}

/// A `[[routes]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    /// Match hits of this team only.
    pub team: Option<String>,
    /// Match hits of this brand only.
    pub brand: Option<String>,
    /// Match hits from this source only.
    pub source: Option<String>,
    /// Match only competitor (`true`) or only own-brand (`false`) hits.
    pub competitor: Option<bool>,
    /// Match hits of this severity only.
    pub severity: Option<String>,
    /// Match hits whose priority (author followers) is at least this.
    pub min_priority: Option<u64>,
    /// Match hits of this `[[topic]]` only.
    pub topic: Option<String>,
    /// Match hits on posts of this tone only (`negative`, `neutral`, `positive`).
    pub sentiment: Option<String>,
    /// Receivers the matching hits go to.
    #[serde(default)]
    pub receivers: Vec<String>,
    /// Keep looking at later routes after this one matched.
    #[serde(default, rename = "continue")]
    pub continue_matching: bool,
    /// Labels whose values split hits into groups.
    pub group_by: Option<Vec<String>>,
    /// Wait before a new group's first message.
    pub group_wait: Option<RawDuration>,
    /// Least time between two messages of one group.
    pub group_interval: Option<RawDuration>,
    /// Hits shown per message.
    pub max_hits: Option<usize>,
    /// Hits with at least this priority skip the wait and quiet hours.
    pub urgent_priority: Option<u64>,
    /// `"HH:MM-HH:MM"` local time when only urgent hits are sent.
    pub quiet_hours: Option<String>,
    /// Time zone of `quiet_hours`.
    pub time_zone: Option<String>,
    /// How long a hit may stay unacknowledged before it is escalated.
    pub sla: Option<RawDuration>,
    /// Receivers told once when a hit outlives its SLA unacknowledged.
    #[serde(default)]
    pub escalate_to: Vec<String>,
    /// Also take operator alerts (a receiver that keeps failing).
    #[serde(default)]
    pub operator: bool,
}

/// A duration as written: `"90s"`, `"5m"`, `"1h 30m"`, or a number of seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawDuration {
    /// Humane form, parsed later.
    Text(String),
    /// Whole seconds.
    Seconds(u64),
}
