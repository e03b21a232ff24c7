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
    /// `[poll]`.
    pub poll: RawPoll,
    /// `[delivery]`.
    pub delivery: RawDelivery,
    /// `[log]`.
    pub log: RawLog,
    /// `[api]`.
    pub api: RawApi,
    /// `[[sources]]`.
    pub sources: Vec<Option<RawStage>>,
    /// `[[receivers]]`.
    pub receivers: Vec<Option<RawStage>>,
    /// The `name` of every `[[receivers]]` entry, readable or not.
    pub declared_receivers: HashSet<String>,
    /// `[route_defaults]`: what a route leaves unset.
    pub route_defaults: RawRouteDefaults,
    /// `[[routes]]`.
    pub routes: Vec<Option<RawRoute>>,
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
    pub interval: DurationSetting,
    /// Random spread added to each wait, as a fraction of it.
    pub jitter: f64,
    /// First wait after a failure.
    pub backoff_initial: DurationSetting,
    /// Longest wait after repeated failures.
    pub backoff_max: DurationSetting,
    /// Timeout of one HTTP request.
    pub request_timeout: DurationSetting,
    /// Largest accepted response body, after decompression.
    pub max_body_bytes: u64,
    /// User-Agent header sent to platforms.
    pub user_agent: String,
    /// On a source's first run, posts older than this are stored but not alerted.
    pub backfill: DurationSetting,
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

/// `[api]`: the HTTP API.
#[derive(Debug, Deserialize)]
pub struct RawApi {
    /// Address to listen on; empty: no API.
    pub listen: String,
    /// Longest wait for a request's headers, idle keep-alive time included.
    pub header_timeout: DurationSetting,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// `token`, `token_env` or `token_file` (and any unknown key, reported later).
    #[serde(flatten)]
    pub options: Map<String, Value>,
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
