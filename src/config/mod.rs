//! Configuration: built-in defaults (`config/mentiond.toml`, embedded) → `--config FILE`
//! → `MENTIOND__SECTION__KEY` environment variables, parsed once into a validated
//! [`Config`] of domain types. Every problem is reported at once, naming the file (or
//! variable), the key and the line. After [`load`] succeeds no code handles missing or
//! malformed settings.

mod raw;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::alerts::{DeliverySettings, ReceiverConfig, ReceiverKind};
use crate::api::ApiSettings;
use crate::backoff::Backoff;
use crate::routing::RouteConfig;
use crate::routing::settings::{RouteContext, parse_routes};
use crate::sources::{PollSettings, SourceConfig};

use crate::keywords::{KeywordRules, load_keywords};
pub use crate::settings::{ConfigError, Problem};
use crate::settings::{TomlSource, line_of_offset};
use crate::telemetry::LogFormat;

use crate::settings::DurationSetting;
use raw::RawConfig;

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

/// `[log]`.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// `tracing` filter directive.
    pub level: String,
    /// Output format.
    pub format: LogFormat,
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
                    line: err.span().map(|s| line_of_offset(&text, s.start)),
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
        let mut duration = |key: &str, value: &DurationSetting| -> Duration {
            value.to_duration().unwrap_or_else(|message| {
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
        let (routes, route_problems) = parse_routes(
            raw.routes,
            &raw.route_defaults,
            &RouteContext {
                receivers: &declared,
                keywords: &keywords,
            },
        );
        problems.extend(
            route_problems
                .into_iter()
                .map(|err| self.problem(&err.key, err.message)),
        );
        let storage_path = self.storage_path(&raw.storage.path);
        if storage_path.as_os_str().is_empty() {
            // SQLite would open a temporary database that vanishes at exit.
            problems.push(self.problem(
                "storage.path",
                "must not be empty: name the database file (e.g. /var/lib/mentiond/mentiond.db)",
            ));
        }

        if !problems.is_empty() {
            return Err(ConfigError::new(problems));
        }
        Ok(Config {
            file: self.user.as_ref().map(|user| user.path.clone()),
            keywords_path,
            keywords,
            storage_path,
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
        ApiSettings::parse(
            &raw.listen,
            &raw.header_timeout,
            raw.max_connections,
            raw.options,
        )
        .unwrap_or_else(|errors| {
            problems.extend(
                errors
                    .into_iter()
                    .map(|err| self.problem(&format!("api.{}", err.key), err.message)),
            );
            None
        })
    }

    fn validate_sources(
        &self,
        raw: Vec<raw::RawStage>,
        poll: &PollSettings,
        problems: &mut Vec<Problem>,
    ) -> Vec<SourceConfig> {
        let mut names = HashSet::new();
        let mut sources = Vec::new();
        for (index, stage) in raw.into_iter().enumerate() {
            let key = |field: &str| format!("sources[{index}].{field}");
            check_name(self, &stage.name, &key("name"), &mut names, problems);
            match SourceConfig::parse(
                stage.name.clone(),
                &stage.kind,
                stage.options,
                poll.interval,
            ) {
                Ok(source) => sources.push(source),
                Err(errors) => problems.extend(
                    errors
                        .into_iter()
                        .map(|err| self.problem(&key(&err.key), err.message)),
                ),
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

/// `sources[0].interval` → `MENTIOND__SOURCES__0__INTERVAL`.
fn env_var_for(key: &str) -> String {
    let mut name = String::from(ENV_PREFIX);
    for part in key.split(['.', '[', ']']).filter(|p| !p.is_empty()) {
        name.push_str("__");
        name.push_str(&part.to_uppercase());
    }
    name
}

#[cfg(test)]
mod tests;
