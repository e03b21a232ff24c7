//! Serde mirrors of `config/mentiond.toml`, as loose as the file allows: durations
//! stay strings and per-kind options stay maps until `config::load` validates them.
//! No logic and no defaults here; defaults live only in `config/mentiond.toml`.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::routing::settings::{RawRoute, RawRouteDefaults};
use crate::settings::DurationSetting;

/// The whole configuration after layering, before validation, assembled section by
/// section (a `None` entry is one that could not be read, reported already).
#[derive(Debug)]
pub struct RawConfig {
    /// Path of the keywords file.
    pub keywords: String,
    /// `[storage]`.
    pub storage: RawStorage,
    /// `[report]`.
    pub report: RawReport,
    /// `[poll]`.
    pub poll: crate::sources::RawPoll,
    /// `[delivery]`.
    pub delivery: crate::alerts::RawDelivery,
    /// `[log]`.
    pub log: crate::telemetry::RawLog,
    /// `[api]`.
    pub api: RawApi,
    /// `[sentiment]`.
    pub sentiment: crate::sentiment::RawSentiment,
    /// `[surge]`.
    pub surge: crate::routing::surge::RawSurge,
    /// `[matcher]`.
    pub matcher: crate::matcher::MatcherSettings,
    /// `[[sources]]`.
    pub sources: Vec<Option<RawStage>>,
    /// `[[receivers]]`.
    pub receivers: Vec<Option<RawStage>>,
    /// `[[intake]]`: each channel's table, validated by `intake::parse_channels`.
    pub intake: Vec<Option<Map<String, Value>>>,
    /// `[console]`, validated by `console::ConsoleSettings::parse`.
    pub console: Map<String, Value>,
    /// `[[users]]`: the console's users, validated with `[console]`.
    pub users: Vec<Option<Map<String, Value>>>,
    /// The `name` of every `[[receivers]]` entry, readable or not.
    pub declared_receivers: HashSet<String>,
    /// `[route_defaults]`: what a route leaves unset.
    pub route_defaults: RawRouteDefaults,
    /// `[[routes]]`.
    pub routes: Vec<Option<RawRoute>>,
    /// A fingerprint of each top-level section as merged.
    pub digests: super::SectionDigests,
}

/// `[report]`: the daily report files, validated by `report::ReportSettings::parse`.
#[derive(Debug, Deserialize)]
pub struct RawReport {
    /// Whether the daemon writes them.
    pub enabled: bool,
    /// Local time of day (`HH:MM`).
    pub at: String,
    /// IANA zone.
    pub time_zone: String,
    /// Directory of the files.
    pub dir: String,
    /// `tr` or `en`.
    pub language: String,
    /// Formats written.
    pub formats: Vec<String>,
    /// Receivers the report also goes to.
    pub send_to: Vec<String>,
}

/// `[storage]`.
#[derive(Debug, Deserialize)]
pub struct RawStorage {
    /// Database file.
    pub path: String,
    /// Age after which posts, hits and finished deliveries are purged (`0`/`off`: never).
    pub retention: DurationSetting,
}

/// `[api]`: the HTTP API.
#[derive(Debug, Deserialize)]
pub struct RawApi {
    /// Address to listen on; empty: no API.
    pub listen: String,
    /// Longest wait for a request's headers, idle keep-alive time included.
    pub header_timeout: DurationSetting,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// `/readyz` fails after a source failed for this many of its intervals.
    pub ready_failing_intervals: u32,
    /// Largest `POST /api/v1/posts` body.
    pub intake_max_body_bytes: u64,
    /// Most posts in one intake request.
    pub intake_max_posts: usize,
    /// `token`, `token_env` or `token_file` (and any unknown key, reported later).
    #[serde(flatten)]
    pub options: Map<String, Value>,
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
