//! Configuration: built-in defaults (`config/mentiond.toml`, embedded) → `--config FILE`
//! → `MENTIOND__SECTION__KEY` environment variables, parsed once into a validated
//! [`Config`] of domain types. Every problem is reported at once, naming the file (or
//! variable), the key and the line. After [`load`] succeeds no code handles missing or
//! malformed settings.

mod keywords;
mod locate;
mod raw;
mod secret;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::alerts::routes::{GroupLabel, QuietHours};
use crate::alerts::{ReceiverConfig, ReceiverKind, RouteConfig};
use crate::api::ApiSettings;
use crate::backoff::Backoff;
use crate::sentiment::Sentiment;
use crate::sources::{SourceConfig, SourceKind};

pub use keywords::{
    Brand, CaseRule, Filters, KeywordRules, Severity, Term, Topic, Typos, load_keywords,
    parse_keywords,
};
pub use locate::TomlSource;
pub use secret::take_secret;

use raw::{RawConfig, RawDuration};

/// The documented defaults, embedded as the lowest configuration layer.
pub const DEFAULT_CONFIG: &str = include_str!("../../config/mentiond.toml");

/// Prefix of configuration environment variables (`MENTIOND__STORAGE__PATH`).
pub const ENV_PREFIX: &str = "MENTIOND";

/// Everything the daemon needs, validated.
#[derive(Debug)]
pub struct Config {
    /// The `--config` file, if one was given.
    pub file: Option<PathBuf>,
    /// Where the keywords were read from.
    pub keywords_path: PathBuf,
    /// The validated watch list.
    pub keywords: KeywordRules,
    /// SQLite database file.
    pub storage_path: PathBuf,
    /// How sources poll.
    pub poll: PollSettings,
    /// How alerts are retried.
    pub delivery: DeliverySettings,
    /// Logging.
    pub log: LogSettings,
    /// The HTTP API, when `[api] listen` is set.
    pub api: Option<ApiSettings>,
    /// Sources in file order.
    pub sources: Vec<SourceConfig>,
    /// Receivers in file order.
    pub receivers: Vec<ReceiverConfig>,
    /// Routes in evaluation order.
    pub routes: Vec<RouteConfig>,
}

/// `[poll]`: what every source shares.
#[derive(Debug, Clone)]
pub struct PollSettings {
    /// Default time between polls.
    pub interval: Duration,
    /// Fraction of the interval added or removed at random.
    pub jitter: f64,
    /// Retry schedule after failures.
    pub backoff: Backoff,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Largest accepted response body after decompression.
    pub max_body_bytes: u64,
    /// User-Agent sent to platforms.
    pub user_agent: String,
    /// On a source's first run, posts older than this are stored but not alerted.
    pub backfill: Duration,
}

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

/// `[log]`.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// `tracing` filter directive.
    pub level: String,
    /// Output format.
    pub format: LogFormat,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (journald adds the timestamp).
    Plain,
    /// One JSON object per line.
    Json,
}

/// One configuration problem, located as precisely as possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// File path, `environment variable NAME`, or `built-in defaults`.
    pub file: String,
    /// 1-based line in `file`, when it is a file that sets the key.
    pub line: Option<usize>,
    /// Dotted key path (`sources[1].interval`).
    pub key: String,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}: {}", self.file, self.key, self.message),
            None => write!(f, "{}: {}: {}", self.file, self.key, self.message),
        }
    }
}

/// Every problem found while loading configuration or keywords.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    /// The problems, in file order where possible.
    pub problems: Vec<Problem>,
}

impl ConfigError {
    /// Wraps a list of problems.
    pub fn new(problems: Vec<Problem>) -> ConfigError {
        ConfigError { problems }
    }

    /// Wraps a single problem.
    pub fn one(problem: Problem) -> ConfigError {
        ConfigError {
            problems: vec![problem],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// A problem with one key of a kind-specific options table, relative to that table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Key inside the table (`url`, `secret_file`, `urls[2]`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Deserializes a kind's options table, naming the offending key on error.
pub fn parse_options<T: DeserializeOwned>(options: Map<String, Value>) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(Value::Object(options)).map_err(|err| {
        let key = err.path().to_string();
        let message = err.into_inner().to_string();
        // serde reports unknown and missing fields at the table itself; name the field.
        let key = match (key.as_str(), field_named_in(&message)) {
            (".", Some(field)) | ("", Some(field)) => field.to_string(),
            _ => key,
        };
        FieldError::new(key, message)
    })
}

/// Parses a humane duration (`"90s"`, `"5m"`, `"1h 30m"`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|err| {
        format!("invalid duration `{text}` ({err}); write e.g. \"30s\", \"5m\", \"1h\"")
    })
}

/// Loads the layered configuration and the keywords file it names.
pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
    let layers = Layers::read(file)?;
    let raw = layers.deserialize()?;
    layers.validate(raw)
}

/// The three layers, kept so problems can be traced to the one that set a key.
struct Layers {
    defaults: TomlSource,
    user: Option<TomlSource>,
    merged: config::Config,
}

impl Layers {
    fn read(file: Option<&Path>) -> Result<Layers, ConfigError> {
        let defaults = TomlSource::new(Path::new("built-in defaults"), DEFAULT_CONFIG.into());
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_CONFIG,
            config::FileFormat::Toml,
        ));
        let mut user = None;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|err| {
                ConfigError::one(Problem {
                    file: path.display().to_string(),
                    line: None,
                    key: "--config".into(),
                    message: format!("cannot read config file: {err}"),
                })
            })?;
            if let Err(err) = toml::from_str::<toml::Table>(&text) {
                return Err(ConfigError::one(Problem {
                    file: path.display().to_string(),
                    line: err.span().map(|s| locate::line_of_offset(&text, s.start)),
                    key: "(syntax)".into(),
                    message: err.message().to_string(),
                }));
            }
            builder = builder.add_source(config::File::from_str(&text, config::FileFormat::Toml));
            user = Some(TomlSource::new(path, text));
        }
        builder = builder.add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        let merged = builder.build().map_err(|err| {
            ConfigError::one(Problem {
                file: "environment".into(),
                line: None,
                key: format!("{ENV_PREFIX}__*"),
                message: err.to_string(),
            })
        })?;
        Ok(Layers {
            defaults,
            user,
            merged,
        })
    }

    /// A problem at `key`, attributed to the layer that set it.
    fn problem(&self, key: &str, message: impl Into<String>) -> Problem {
        let message = message.into();
        if let Some(user) = &self.user
            && let Some(line) = user.line_of(key)
        {
            return Problem {
                file: user.path.display().to_string(),
                line: Some(line),
                key: key.into(),
                message,
            };
        }
        let var = env_var_for(key);
        if std::env::var_os(&var).is_some() {
            return Problem {
                file: format!("environment variable {var}"),
                line: None,
                key: key.into(),
                message,
            };
        }
        let (file, line) = match (&self.user, self.defaults.line_of(key)) {
            (_, Some(line)) => (
                "built-in defaults (config/mentiond.toml)".to_string(),
                Some(line),
            ),
            (Some(user), None) => (user.path.display().to_string(), None),
            (None, None) => ("built-in defaults (config/mentiond.toml)".to_string(), None),
        };
        Problem {
            file,
            line,
            key: key.into(),
            message,
        }
    }

    fn deserialize(&self) -> Result<RawConfig, ConfigError> {
        let mut unknown = Vec::new();
        let mut record = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
        let deserializer = serde_ignored::Deserializer::new(self.merged.clone(), &mut record);
        let result: Result<RawConfig, _> = serde_path_to_error::deserialize(deserializer);
        let mut problems: Vec<Problem> = unknown
            .iter()
            .map(|key| self.problem(key, "unknown key"))
            .collect();
        match result {
            Ok(raw) if problems.is_empty() => Ok(raw),
            Ok(_) => Err(ConfigError::new(problems)),
            Err(err) => {
                let key = err.path().to_string();
                let message = err.into_inner().to_string();
                problems.push(self.problem(&key, message));
                Err(ConfigError::new(problems))
            }
        }
    }

    fn validate(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let mut duration = |key: &str, value: &RawDuration| -> Duration {
            raw_duration(value).unwrap_or_else(|message| {
                problems.push(self.problem(key, message));
                Duration::ZERO
            })
        };
        let poll = PollSettings {
            interval: duration("poll.interval", &raw.poll.interval),
            jitter: raw.poll.jitter,
            backoff: Backoff {
                initial: duration("poll.backoff_initial", &raw.poll.backoff_initial),
                max: duration("poll.backoff_max", &raw.poll.backoff_max),
            },
            request_timeout: duration("poll.request_timeout", &raw.poll.request_timeout),
            max_body_bytes: raw.poll.max_body_bytes,
            user_agent: raw.poll.user_agent.clone(),
            backfill: duration("poll.backfill", &raw.poll.backfill),
        };
        let delivery = DeliverySettings {
            timeout: duration("delivery.timeout", &raw.delivery.timeout),
            backoff: Backoff {
                initial: duration("delivery.backoff_initial", &raw.delivery.backoff_initial),
                max: duration("delivery.backoff_max", &raw.delivery.backoff_max),
            },
            max_age: duration("delivery.max_age", &raw.delivery.max_age),
        };
        for (key, value) in [
            ("poll.interval", poll.interval),
            ("poll.backoff_initial", poll.backoff.initial),
            ("poll.request_timeout", poll.request_timeout),
            ("delivery.timeout", delivery.timeout),
            ("delivery.backoff_initial", delivery.backoff.initial),
        ] {
            if value.is_zero() && !problems.iter().any(|p: &Problem| p.key == key) {
                problems.push(self.problem(key, "must be longer than zero"));
            }
        }
        if !(0.0..=1.0).contains(&poll.jitter) {
            problems.push(self.problem("poll.jitter", "must be between 0.0 and 1.0"));
        }
        if poll.max_body_bytes < 1024 {
            problems.push(self.problem("poll.max_body_bytes", "must be at least 1024"));
        }
        let format = match raw.log.format.as_str() {
            "plain" => LogFormat::Plain,
            "json" => LogFormat::Json,
            other => {
                problems.push(self.problem(
                    "log.format",
                    format!("unknown format `{other}`, expected `plain` or `json`"),
                ));
                LogFormat::Plain
            }
        };
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&raw.log.level) {
            problems.push(self.problem("log.level", format!("invalid filter: {err}")));
        }

        let config_dir = self
            .user
            .as_ref()
            .and_then(|user| user.path.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let keywords_path = config_dir.join(&raw.keywords);
        let keywords = match load_keywords(&keywords_path) {
            Ok(rules) => rules,
            Err(err) => {
                if err
                    .problems
                    .iter()
                    .any(|p| p.key == "keywords" && p.line.is_none())
                {
                    problems.push(self.problem(
                        "keywords",
                        format!("cannot read {}", keywords_path.display()),
                    ));
                } else {
                    problems.extend(err.problems);
                }
                KeywordRules::default()
            }
        };

        let api = self.validate_api(raw.api, &mut problems);
        let sources = self.validate_sources(raw.sources, &poll, &mut problems);
        // Routes are checked against every declared receiver name, valid or not, so one
        // bad receiver is reported once rather than again at each route naming it.
        let declared: HashSet<String> = raw.receivers.iter().map(|r| r.name.clone()).collect();
        let receivers = self.validate_receivers(raw.receivers, &mut problems);
        let routes = self.validate_routes(
            raw.routes,
            &raw.route_defaults,
            &declared,
            &keywords,
            &mut problems,
        );

        if !problems.is_empty() {
            return Err(ConfigError::new(problems));
        }
        Ok(Config {
            file: self.user.as_ref().map(|user| user.path.clone()),
            keywords_path,
            keywords,
            storage_path: self.storage_path(&raw.storage.path),
            poll,
            delivery,
            log: LogSettings {
                level: raw.log.level,
                format,
            },
            api,
            sources,
            receivers,
            routes,
        })
    }

    fn validate_api(&self, raw: raw::RawApi, problems: &mut Vec<Problem>) -> Option<ApiSettings> {
        let mut options = raw.token;
        let token = take_secret(&mut options, "token");
        for key in options.keys() {
            problems.push(self.problem(&format!("api.{key}"), "unknown key"));
        }
        let token = match token {
            Ok(token) => token,
            Err(err) => {
                problems.push(self.problem(&format!("api.{}", err.key), err.message));
                return None;
            }
        };
        let header_timeout = match raw_duration(&raw.header_timeout) {
            Ok(timeout) if !timeout.is_zero() => timeout,
            Ok(_) => {
                problems.push(self.problem("api.header_timeout", "must be longer than zero"));
                return None;
            }
            Err(message) => {
                problems.push(self.problem("api.header_timeout", message));
                return None;
            }
        };
        if raw.max_connections == 0 {
            problems.push(self.problem("api.max_connections", "must be at least 1"));
            return None;
        }
        if raw.listen.trim().is_empty() {
            return None;
        }
        let listen = match raw.listen.parse() {
            Ok(listen) => listen,
            Err(_) => {
                problems.push(self.problem(
                    "api.listen",
                    format!("`{}` is not an address such as 127.0.0.1:8080", raw.listen),
                ));
                return None;
            }
        };
        match token {
            Some(token) if !secrecy::ExposeSecret::expose_secret(&token).is_empty() => {
                Some(ApiSettings {
                    listen,
                    token,
                    header_timeout,
                    max_connections: raw.max_connections,
                })
            }
            _ => {
                problems.push(self.problem(
                    "api.token",
                    "the API needs a `token` (or `token_env`, `token_file`)",
                ));
                None
            }
        }
    }

    fn validate_sources(
        &self,
        raw: Vec<raw::RawStage>,
        poll: &PollSettings,
        problems: &mut Vec<Problem>,
    ) -> Vec<SourceConfig> {
        let mut names = HashSet::new();
        let mut sources = Vec::new();
        for (index, mut stage) in raw.into_iter().enumerate() {
            let key = |field: &str| format!("sources[{index}].{field}");
            check_name(self, &stage.name, &key("name"), &mut names, problems);
            let interval = match stage.options.remove("interval") {
                None => poll.interval,
                Some(value) => match duration_value(&value) {
                    Ok(interval) if !interval.is_zero() => interval,
                    Ok(_) => {
                        problems.push(self.problem(&key("interval"), "must be longer than zero"));
                        poll.interval
                    }
                    Err(message) => {
                        problems.push(self.problem(&key("interval"), message));
                        poll.interval
                    }
                },
            };
            match SourceKind::parse(&stage.kind, stage.options) {
                Ok(kind) => sources.push(SourceConfig {
                    name: stage.name,
                    interval,
                    kind,
                }),
                Err(err) => problems.push(self.problem(&key(&err.key), err.message)),
            }
        }
        sources
    }

    fn validate_receivers(
        &self,
        raw: Vec<raw::RawStage>,
        problems: &mut Vec<Problem>,
    ) -> Vec<ReceiverConfig> {
        let mut names = HashSet::new();
        let mut receivers = Vec::new();
        for (index, stage) in raw.into_iter().enumerate() {
            let key = |field: &str| format!("receivers[{index}].{field}");
            check_name(self, &stage.name, &key("name"), &mut names, problems);
            match ReceiverKind::parse(&stage.kind, stage.options) {
                Ok(kind) => receivers.push(ReceiverConfig {
                    name: stage.name,
                    kind,
                }),
                Err(err) => problems.push(self.problem(&key(&err.key), err.message)),
            }
        }
        receivers
    }

    fn validate_routes(
        &self,
        raw: Vec<raw::RawRoute>,
        defaults: &raw::RawRouteDefaults,
        receivers: &HashSet<String>,
        keywords: &KeywordRules,
        problems: &mut Vec<Problem>,
    ) -> Vec<RouteConfig> {
        if raw.is_empty() {
            problems.push(self.problem("routes", "no [[routes]]: hits would go nowhere"));
        }
        let mut routes = Vec::new();
        for (index, route) in raw.into_iter().enumerate() {
            let key = |field: &str| format!("routes[{index}].{field}");
            if route.receivers.is_empty() {
                problems.push(self.problem(&key("receivers"), "name at least one receiver"));
            }
            for (field, names) in [
                ("receivers", &route.receivers),
                ("escalate_to", &route.escalate_to),
            ] {
                for name in names {
                    if !receivers.contains(name) {
                        problems
                            .push(self.problem(&key(field), format!("no receiver named `{name}`")));
                    }
                }
            }
            if let Some(team) = &route.team
                && !keywords.has_team(team)
            {
                problems.push(self.problem(
                    &key("team"),
                    format!("no brand or topic in the keywords has team `{team}`"),
                ));
            }
            if let Some(brand) = &route.brand
                && !keywords.has_name(brand)
            {
                problems.push(self.problem(
                    &key("brand"),
                    format!("no brand or topic named `{brand}` in the keywords"),
                ));
            }
            if let Some(source) = &route.source
                && source.trim().is_empty()
            {
                problems.push(self.problem(&key("source"), "must not be empty"));
            }
            if let Some(topic) = &route.topic
                && !keywords.topics.iter().any(|t| &t.name == topic)
            {
                problems.push(self.problem(
                    &key("topic"),
                    format!("no [[topic]] named `{topic}` in the keywords"),
                ));
            }
            let sentiment = route.sentiment.as_deref().and_then(|text| {
                let parsed = Sentiment::parse(text);
                if parsed.is_none() {
                    problems.push(self.problem(
                        &key("sentiment"),
                        format!(
                            "unknown sentiment `{text}`, expected `negative`, `neutral` or `positive`"
                        ),
                    ));
                }
                parsed
            });
            let severity = route.severity.as_deref().and_then(|text| {
                Severity::parse(text)
                    .map_err(|message| problems.push(self.problem(&key("severity"), message)))
                    .ok()
            });
            let mut duration = |field: &str, own: &Option<RawDuration>, default: &RawDuration| {
                let (key, value) = match own {
                    Some(value) => (key(field), value),
                    None => (format!("route_defaults.{field}"), default),
                };
                raw_duration(value).unwrap_or_else(|message| {
                    problems.push(self.problem(&key, message));
                    Duration::ZERO
                })
            };
            let group_wait = duration("group_wait", &route.group_wait, &defaults.group_wait);
            let sla = duration("sla", &route.sla, &defaults.sla);
            let group_interval = duration(
                "group_interval",
                &route.group_interval,
                &defaults.group_interval,
            );
            let (group_by_key, group_by) = match &route.group_by {
                Some(labels) => (key("group_by"), labels),
                None => ("route_defaults.group_by".to_string(), &defaults.group_by),
            };
            let group_by = group_by
                .iter()
                .filter_map(|label| {
                    GroupLabel::parse(label)
                        .map_err(|message| problems.push(self.problem(&group_by_key, message)))
                        .ok()
                })
                .collect();
            let max_hits = route.max_hits.unwrap_or(defaults.max_hits);
            if max_hits == 0 {
                let key = match route.max_hits {
                    Some(_) => key("max_hits"),
                    None => "route_defaults.max_hits".into(),
                };
                problems.push(self.problem(&key, "must be at least 1"));
            }
            let (zone_key, zone) = match &route.time_zone {
                Some(zone) => (key("time_zone"), zone),
                None => ("route_defaults.time_zone".to_string(), &defaults.time_zone),
            };
            let time_zone = zone.parse::<chrono_tz::Tz>().map_err(|_| {
                problems.push(self.problem(
                    &zone_key,
                    format!(
                        "unknown time zone `{zone}`, expected an IANA name such as Europe/Istanbul"
                    ),
                ))
            });
            let quiet_hours = match (&route.quiet_hours, time_zone) {
                (Some(window), Ok(zone)) => QuietHours::parse(window, zone)
                    .map_err(|message| problems.push(self.problem(&key("quiet_hours"), message)))
                    .ok(),
                _ => None,
            };
            routes.push(RouteConfig {
                team: route.team,
                brand: route.brand,
                source: route.source,
                competitor: route.competitor,
                severity,
                min_priority: route.min_priority,
                topic: route.topic,
                sentiment,
                receivers: route.receivers,
                continue_matching: route.continue_matching,
                group_by,
                group_wait,
                group_interval,
                max_hits: max_hits.max(1),
                urgent_priority: route.urgent_priority,
                quiet_hours,
                sla,
                escalate_to: route.escalate_to,
                operator: route.operator,
            });
        }
        if !routes.is_empty() && !routes.iter().any(RouteConfig::is_catch_all) {
            problems.push(self.problem(
                "routes",
                "no default route (one without matchers): unmatched hits would go nowhere",
            ));
        }
        routes
    }

    /// `storage.path`, except that under systemd (`STATE_DIRECTORY` set) an unset path
    /// means `$STATE_DIRECTORY/mentiond.db`.
    fn storage_path(&self, configured: &str) -> PathBuf {
        let user_set = self
            .user
            .as_ref()
            .is_some_and(|user| user.line_of("storage.path").is_some())
            || std::env::var_os(env_var_for("storage.path")).is_some();
        match std::env::var("STATE_DIRECTORY") {
            Ok(dirs) if !user_set && !dirs.is_empty() => {
                // systemd joins several StateDirectory= entries with ':'; the first is ours.
                let first = dirs.split(':').next().unwrap_or(&dirs);
                Path::new(first).join("mentiond.db")
            }
            _ => PathBuf::from(configured),
        }
    }
}

fn check_name(
    layers: &Layers,
    name: &str,
    key: &str,
    names: &mut HashSet<String>,
    problems: &mut Vec<Problem>,
) {
    if name.trim().is_empty() {
        problems.push(layers.problem(key, "must not be empty"));
    } else if !names.insert(name.to_string()) {
        problems.push(layers.problem(key, format!("name `{name}` is used twice")));
    }
}

fn raw_duration(value: &RawDuration) -> Result<Duration, String> {
    match value {
        RawDuration::Seconds(secs) => Ok(Duration::from_secs(*secs)),
        RawDuration::Text(text) => parse_duration(text),
    }
}

fn duration_value(value: &Value) -> Result<Duration, String> {
    match value {
        Value::String(text) => parse_duration(text),
        Value::Number(n) => n
            .as_u64()
            .map(Duration::from_secs)
            .ok_or_else(|| format!("invalid duration {n}")),
        other => Err(format!("expected a duration such as \"5m\", found {other}")),
    }
}

/// `sources[0].interval` → `MENTIOND__SOURCES__0__INTERVAL`.
fn env_var_for(key: &str) -> String {
    let mut name = String::from(ENV_PREFIX);
    for part in key.split(['.', '[', ']']).filter(|p| !p.is_empty()) {
        name.push_str("__");
        name.push_str(&part.to_uppercase());
    }
    name
}

/// The field an "unknown field `x`" or "missing field `x`" message names.
fn field_named_in(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))?;
    rest.split('`').next()
}

#[cfg(test)]
mod tests;
