//! Configuration: built-in defaults (`config/mentiond.toml`, embedded) → `--config FILE`
//! → `MENTIOND__SECTION__KEY` environment variables, parsed once into a validated
//! [`Config`] of domain types. Every problem is reported at once, naming the file (or
//! variable), the key and the line. After [`load`] succeeds no code handles missing or
//! malformed settings.

mod raw;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::alerts::{DeliverySettings, ReceiverConfig, ReceiverKind};
use crate::api::ApiSettings;
use crate::console::ConsoleSettings;
use crate::intake::{IntakeLimits, IntakeSettings, parse_channels};
use crate::routing::RouteConfig;
use crate::routing::settings::{RouteContext, parse_routes};
use crate::routing::surge::SurgeSettings;
use crate::sentiment::{Lexicon, LexiconSource};
use crate::sources::{PollSettings, SourceConfig};

use crate::keywords::{KeywordRules, load_keywords};
use crate::report::ReportSettings;
pub use crate::settings::{ConfigError, Problem};
use crate::settings::{DurationSetting, TomlSource, deserialize_table, line_of_offset};
use crate::telemetry::LogSettings;

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
    /// Age after which posts, hits and finished deliveries are purged; `None`: never.
    pub retention: Option<Duration>,
    /// The daily report files.
    pub report: ReportSettings,
    /// How sources poll.
    pub poll: PollSettings,
    /// How alerts are retried.
    pub delivery: DeliverySettings,
    /// Surge detection.
    pub surge: SurgeSettings,
    /// The matcher's settings (`[matcher]`).
    pub matcher: crate::matcher::MatcherSettings,
    /// Logging.
    pub log: LogSettings,
    /// The HTTP API, when `[api] listen` is set.
    pub api: Option<ApiSettings>,
    /// The web console, when `[console] enabled` (served only with the API).
    pub console: Option<ConsoleSettings>,
    /// The `[[intake]]` channels and their limits.
    pub intake: IntakeSettings,
    /// The sentiment lexicon: the built-in files and the `[sentiment] extra` ones.
    pub sentiment: Arc<Lexicon>,
    /// Sources in file order.
    pub sources: Vec<SourceConfig>,
    /// Receivers in file order.
    pub receivers: Vec<ReceiverConfig>,
    /// Routes in evaluation order.
    pub routes: Vec<RouteConfig>,
    /// A fingerprint of each top-level section, to tell which ones a reload changed.
    pub sections: SectionDigests,
}

/// A fingerprint of each top-level section of the merged configuration (the file and
/// the environment over the defaults), so a reload can name the sections that changed
/// without keeping their text, which may hold secrets. A secret read from a
/// `key_file` or from the variable a `key_env` names is not part of it.
/// Each `[[sources]]` and `[[receivers]]` entry has a fingerprint of its own too, keyed
/// by list and name, so a reload restarts only the entries that changed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SectionDigests(BTreeMap<String, u64>, BTreeMap<(String, String), u64>);

impl SectionDigests {
    fn of(sections: &serde_json::Map<String, serde_json::Value>) -> SectionDigests {
        fn digest(value: &serde_json::Value) -> u64 {
            let mut hasher = DefaultHasher::new();
            value.to_string().hash(&mut hasher);
            hasher.finish()
        }
        let entries = ["sources", "receivers"]
            .into_iter()
            .flat_map(|list| {
                let entries = sections.get(list).and_then(serde_json::Value::as_array);
                entries.into_iter().flatten().filter_map(move |entry| {
                    let name = entry.get("name")?.as_str()?;
                    Some(((list.to_string(), name.to_string()), digest(entry)))
                })
            })
            .collect();
        SectionDigests(
            sections
                .iter()
                .map(|(key, value)| (key.clone(), digest(value)))
                .collect(),
            entries,
        )
    }

    /// The fingerprint of the entry named `name` in list `list` (`sources`,
    /// `receivers`), if there is one.
    pub fn entry(&self, list: &str, name: &str) -> Option<u64> {
        self.1.get(&(list.to_string(), name.to_string())).copied()
    }

    /// The sections other than `keywords` (the path of the watch list) that are set
    /// differently in `other`, or in only one of the two, in name order.
    pub fn changed_besides_keywords<'a>(&'a self, other: &'a SectionDigests) -> Vec<&'a str> {
        let names: std::collections::BTreeSet<&str> = self
            .0
            .keys()
            .chain(other.0.keys())
            .map(String::as_str)
            .filter(|name| *name != "keywords")
            .collect();
        names
            .into_iter()
            .filter(|name| self.0.get(*name) != other.0.get(*name))
            .collect()
    }
}

impl fmt::Debug for SectionDigests {
    /// Names only: even a digest says nothing that a log needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// Loads the layered configuration and the keywords file it names.
pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
    let env = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)));
    load_with_env(file, env)
}

/// [`load`] with the process environment given as `(name, value)` pairs, so tests can
/// layer variables without mutating the process's own environment.
fn load_with_env(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let layers = Layers::read(file, env)?;
    let (raw, problems) = layers.deserialize()?;
    layers.validate(raw, problems)
}

/// The three layers, kept so problems can be traced to the one that set a key.
struct Layers {
    defaults: TomlSource,
    user: Option<TomlSource>,
    /// Names (never values: they may be secrets) of the `MENTIOND__…` variables set.
    env_names: Vec<String>,
    merged: config::Config,
}

impl Layers {
    fn read(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Layers, ConfigError> {
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
        let prefix = format!("{ENV_PREFIX}__");
        let env: config::Map<String, String> = env
            .into_iter()
            .filter(|(name, _)| {
                name.get(..prefix.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(&prefix))
            })
            .collect();
        let env_names = env.keys().cloned().collect();
        builder = builder.add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(env)),
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
            env_names,
            merged,
        })
    }

    /// The variable that sets `key`, as it is spelled in the environment.
    fn env_var_setting(&self, key: &str) -> Option<&str> {
        let var = env_var_for(key);
        self.env_names
            .iter()
            .find(|name| name.eq_ignore_ascii_case(&var))
            .map(String::as_str)
    }

    /// A problem at `key`, attributed to the layer whose value won: an environment
    /// variable beats the user's file, which beats the built-in defaults. A key a file
    /// does not set (a missing `receivers[0].url`) is located at its nearest enclosing
    /// table in the file that set that table.
    fn problem(&self, key: &str, message: impl Into<String>) -> Problem {
        let located = |file: String, line: Option<usize>| Problem {
            file,
            line,
            key: key.into(),
            message: message.into(),
        };
        if let Some(var) = self.env_var_setting(key) {
            return located(format!("environment variable {var}"), None);
        }
        let defaults_file = || "built-in defaults (config/mentiond.toml)".to_string();
        let Some(user) = &self.user else {
            return located(defaults_file(), self.defaults.line_of_nearest(key));
        };
        if let Some(line) = user.line_of(key) {
            return located(user.path.display().to_string(), Some(line));
        }
        // A `[[sources]]`, `[[receivers]]` or `[[routes]]` list in the user's file
        // replaces the default one, so its entries' keys never come from the defaults.
        let in_user_list = key
            .find('[')
            .is_some_and(|open| user.line_of(&key[..open]).is_some());
        if !in_user_list && let Some(line) = self.defaults.line_of(key) {
            return located(defaults_file(), Some(line));
        }
        if let Some(line) = user.line_of_nearest(key) {
            return located(user.path.display().to_string(), Some(line));
        }
        located(defaults_file(), self.defaults.line_of_nearest(key))
    }

    /// Deserializes each top-level section, and each entry of `[[sources]]`,
    /// `[[receivers]]` and `[[routes]]`, on its own, so a wrong type in one does not hide
    /// the problems of the others: a key with a wrong type is reported and then read as
    /// its built-in default (an entry of a list that cannot be read is left out).
    fn deserialize(&self) -> Result<(RawConfig, Vec<Problem>), ConfigError> {
        let defaults: serde_json::Value = toml::from_str(DEFAULT_CONFIG)
            .map_err(|err| ConfigError::one(self.problem("(syntax)", err.message().to_string())))?;
        let merged: serde_json::Value = self.merged.clone().try_deserialize().map_err(|err| {
            ConfigError::one(self.problem(&format!("{ENV_PREFIX}__*"), err.to_string()))
        })?;
        let serde_json::Value::Object(mut sections) = merged else {
            return Err(ConfigError::one(
                self.problem("(syntax)", "the configuration is not a table"),
            ));
        };
        let digests = SectionDigests::of(&sections);
        let mut problems = Vec::new();
        macro_rules! section {
            ($key:literal) => {
                self.section(
                    $key,
                    sections.remove($key),
                    defaults.get($key),
                    &mut problems,
                )
            };
        }
        let keywords = section!("keywords");
        let storage = section!("storage");
        let report = section!("report");
        let poll = section!("poll");
        let delivery = section!("delivery");
        let log = section!("log");
        let api = section!("api");
        let sentiment = section!("sentiment");
        let surge = section!("surge");
        let matcher = section!("matcher");
        let route_defaults = section!("route_defaults");
        let console = section!("console");
        let sources = self.entries("sources", sections.remove("sources"), &mut problems);
        let receivers_value = sections.remove("receivers");
        let declared_receivers = receivers_value
            .iter()
            .filter_map(serde_json::Value::as_array)
            .flatten()
            .filter_map(|entry| entry.get("name")?.as_str())
            .map(str::to_string)
            .collect();
        let receivers = self.entries("receivers", receivers_value, &mut problems);
        let routes = self.entries("routes", sections.remove("routes"), &mut problems);
        let intake = self.entries("intake", sections.remove("intake"), &mut problems);
        let users = self.entries("users", sections.remove("users"), &mut problems);
        for key in sections.keys() {
            problems.push(self.problem(key, "unknown key"));
        }
        let (
            Some(keywords),
            Some(storage),
            Some(poll),
            Some(delivery),
            Some(log),
            Some(api),
            Some(surge),
            Some(matcher),
            Some(route_defaults),
            Some(sentiment),
            Some(report),
            Some(console),
        ) = (
            keywords,
            storage,
            poll,
            delivery,
            log,
            api,
            surge,
            matcher,
            route_defaults,
            sentiment,
            report,
            console,
        )
        else {
            return Err(ConfigError::new(problems));
        };
        let raw = RawConfig {
            keywords,
            storage,
            report,
            poll,
            delivery,
            log,
            api,
            sentiment,
            surge,
            matcher,
            sources,
            receivers,
            intake,
            console,
            users,
            declared_receivers,
            route_defaults,
            routes,
            digests,
        };
        Ok((raw, problems))
    }

    /// One table, its problems located under `key`.
    fn section<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        value: Option<serde_json::Value>,
        fallback: Option<&serde_json::Value>,
        problems: &mut Vec<Problem>,
    ) -> Option<T> {
        let value = value.or_else(|| fallback.cloned())?;
        let (table, errors) = deserialize_table(value, fallback);
        let mut found: Vec<Problem> = errors
            .into_iter()
            .map(|err| self.problem(&subkey(key, &err.key), err.message))
            .collect();
        // Keys are read in name order; show them in the order the user wrote them.
        found.sort_by_key(|problem| problem.line);
        problems.extend(found);
        table
    }

    /// Each entry of an array of tables, read on its own; `None` for one that cannot be.
    fn entries<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        value: Option<serde_json::Value>,
        problems: &mut Vec<Problem>,
    ) -> Vec<Option<T>> {
        match value {
            None => Vec::new(),
            Some(serde_json::Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| {
                    self.section(&format!("{key}[{index}]"), Some(item), None, problems)
                })
                .collect(),
            Some(other) => {
                problems.push(self.problem(
                    key,
                    format!("expected a list of [[{key}]] tables, found {other}"),
                ));
                Vec::new()
            }
        }
    }

    fn validate(&self, raw: RawConfig, problems: Vec<Problem>) -> Result<Config, ConfigError> {
        let mut problems = problems;
        let (poll, poll_problems) = PollSettings::parse(&raw.poll);
        let (delivery, delivery_problems) = DeliverySettings::parse(&raw.delivery);
        let (log, log_problems) = LogSettings::parse(&raw.log);
        let (surge, surge_problems) = SurgeSettings::parse(&raw.surge);
        for (table, errors) in [
            ("poll", poll_problems),
            ("delivery", delivery_problems),
            ("surge", surge_problems),
        ] {
            for err in errors {
                let key = format!("{table}.{}", err.key);
                // A type error already reported for the key says it all.
                if !problems.iter().any(|p: &Problem| p.key == key) {
                    problems.push(self.problem(&key, err.message));
                }
            }
        }
        for (key, message) in log_problems {
            problems.push(self.problem(&format!("log.{key}"), message));
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
                match err
                    .problems
                    .iter()
                    .find(|p| p.key == "keywords" && p.line.is_none())
                {
                    // The file could not be read: blame the `keywords` setting naming it.
                    Some(unreadable) => {
                        problems.push(self.problem("keywords", unreadable.message.clone()))
                    }
                    None => problems.extend(err.problems),
                }
                KeywordRules::default()
            }
        };

        let limits = (raw.api.intake_max_body_bytes, raw.api.intake_max_posts);
        let api_off = raw.api.listen.trim().is_empty();
        let api = self.validate_api(raw.api, &mut problems);
        let sources = self.validate_sources(raw.sources, &poll, &mut problems);
        let intake = self.validate_intake(raw.intake, limits, &api, &sources, &mut problems);
        if api_off && !intake.channels.is_empty() {
            problems.push(self.problem(
                "intake",
                "`[[intake]]` channels are served on the API: set `[api] listen` and `token`",
            ));
        }
        // Routes are checked against every declared receiver name, valid or not, so one
        // bad receiver is reported once rather than again at each route naming it.
        let receivers = self.validate_receivers(raw.receivers, &mut problems);
        // A route that could not be read at all is reported already; checking the others
        // without it would blame them for what it said.
        let routes = match raw.routes.into_iter().collect::<Option<Vec<_>>>() {
            Some(routes) => {
                let (routes, route_problems) = parse_routes(
                    routes,
                    &raw.route_defaults,
                    &RouteContext {
                        receivers: &raw.declared_receivers,
                        keywords: &keywords,
                    },
                );
                problems.extend(
                    route_problems
                        .into_iter()
                        .map(|err| self.problem(&err.key, err.message)),
                );
                routes
            }
            None => Vec::new(),
        };
        let storage_path = self.storage_path(&raw.storage.path);
        if storage_path.as_os_str().is_empty() {
            // SQLite would open a temporary database that vanishes at exit.
            problems.push(self.problem(
                "storage.path",
                "must not be empty: name the database file (e.g. /var/lib/mentiond/mentiond.db)",
            ));
        }
        let retention = self.retention(&raw.storage.retention, &mut problems);
        let sentiment = self.sentiment(&raw.sentiment, &config_dir, &mut problems);
        let report = self.validate_report(raw.report, &raw.declared_receivers, &mut problems);
        let console = self.validate_console(raw.console, raw.users, &report, &mut problems);

        if !problems.is_empty() {
            return Err(ConfigError::new(problems));
        }
        Ok(Config {
            file: self.user.as_ref().map(|user| user.path.clone()),
            keywords_path,
            keywords,
            storage_path,
            retention,
            report,
            poll,
            delivery,
            surge,
            matcher: raw.matcher,
            log,
            api,
            console,
            intake,
            sentiment,
            sources,
            receivers,
            routes,
            sections: raw.digests,
        })
    }

    /// The built-in lexicon with the `[sentiment] extra` files read after it; a file
    /// that cannot be read is blamed on `sentiment.extra`, a problem inside one on its
    /// own line.
    fn sentiment(
        &self,
        raw: &crate::sentiment::RawSentiment,
        config_dir: &Path,
        problems: &mut Vec<Problem>,
    ) -> Arc<Lexicon> {
        if raw.extra.is_empty() {
            return Lexicon::builtin();
        }
        let mut texts = Vec::new();
        for name in &raw.extra {
            match std::fs::read_to_string(config_dir.join(name)) {
                Ok(text) => texts.push((name.as_str(), text)),
                Err(err) => problems.push(self.problem(
                    "sentiment.extra",
                    format!("cannot read lexicon file {name}: {err}"),
                )),
            }
        }
        let sources: Vec<LexiconSource<'_>> = texts
            .iter()
            .map(|(name, text)| LexiconSource { name, text })
            .collect();
        match Lexicon::compile(&sources) {
            Ok(lexicon) => Arc::new(lexicon),
            Err(errors) => {
                problems.extend(errors.into_iter().map(|err| Problem {
                    file: config_dir.join(&err.file).display().to_string(),
                    line: err.line,
                    key: err.key,
                    message: err.message,
                }));
                Lexicon::builtin()
            }
        }
    }

    /// `[report]`; `send_to` must name declared receivers. On a problem a stand-in is
    /// returned (the configuration is refused anyway).
    fn validate_report(
        &self,
        raw: raw::RawReport,
        receivers: &HashSet<String>,
        problems: &mut Vec<Problem>,
    ) -> ReportSettings {
        for (index, name) in raw.send_to.iter().enumerate() {
            if !receivers.contains(name) {
                problems.push(self.problem(
                    &format!("report.send_to[{index}]"),
                    format!("no [[receivers]] entry is named `{name}`"),
                ));
            }
        }
        ReportSettings::parse(
            raw.enabled,
            &raw.at,
            &raw.time_zone,
            self.state_path("report.dir", &raw.dir, "reports"),
            &raw.language,
            &raw.formats,
            raw.send_to,
        )
        .unwrap_or_else(|errors| {
            problems.extend(
                errors
                    .into_iter()
                    .map(|err| self.problem(&format!("report.{}", err.key), err.message)),
            );
            ReportSettings::fallback()
        })
    }

    /// `[console]` and `[[users]]`; `None` when the console is off (or on a problem:
    /// the configuration is refused anyway).
    fn validate_console(
        &self,
        raw: serde_json::Map<String, serde_json::Value>,
        users: Vec<Option<serde_json::Map<String, serde_json::Value>>>,
        report: &ReportSettings,
        problems: &mut Vec<Problem>,
    ) -> Option<ConsoleSettings> {
        match ConsoleSettings::parse(raw, users, report.dir.clone()) {
            Ok(settings) => settings.enabled.then_some(settings),
            Err(errors) => {
                problems.extend(errors.into_iter().map(|err| {
                    let key = match err.key.starts_with("users[") {
                        true => err.key,
                        false => format!("console.{}", err.key),
                    };
                    self.problem(&key, err.message)
                }));
                None
            }
        }
    }

    fn validate_api(&self, raw: raw::RawApi, problems: &mut Vec<Problem>) -> Option<ApiSettings> {
        ApiSettings::parse(
            &raw.listen,
            &raw.header_timeout,
            raw.max_connections,
            raw.ready_failing_intervals,
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

    /// The `[[intake]]` channels (a channel that cannot be read is reported and left
    /// out) and the intake limits of `[api]`.
    fn validate_intake(
        &self,
        raw: Vec<Option<serde_json::Map<String, serde_json::Value>>>,
        (max_body_bytes, max_posts): (u64, usize),
        api: &Option<ApiSettings>,
        sources: &[SourceConfig],
        problems: &mut Vec<Problem>,
    ) -> IntakeSettings {
        let limits = IntakeLimits::parse(max_body_bytes, max_posts).unwrap_or_else(|errors| {
            problems.extend(
                errors
                    .into_iter()
                    .map(|err| self.problem(&format!("api.{}", err.key), err.message)),
            );
            IntakeLimits {
                max_body_bytes,
                max_posts,
            }
        });
        let names: Vec<_> = sources.iter().map(|source| source.name.clone()).collect();
        let api_token = api.as_ref().map(|api| &api.token);
        let (channels, errors) = parse_channels(raw, api_token, &names);
        problems.extend(
            errors
                .into_iter()
                .map(|err| self.problem(&subkey("intake", &err.key), err.message)),
        );
        IntakeSettings { channels, limits }
    }

    fn validate_sources(
        &self,
        raw: Vec<Option<raw::RawStage>>,
        poll: &PollSettings,
        problems: &mut Vec<Problem>,
    ) -> Vec<SourceConfig> {
        let mut names = HashSet::new();
        let mut sources = Vec::new();
        for (index, stage) in raw.into_iter().enumerate() {
            let Some(stage) = stage else { continue };
            let key = |field: &str| format!("sources[{index}].{field}");
            check_name(self, &stage.name, &key("name"), &mut names, problems);
            match SourceConfig::parse(
                stage.name.clone().into(),
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
        raw: Vec<Option<raw::RawStage>>,
        problems: &mut Vec<Problem>,
    ) -> Vec<ReceiverConfig> {
        let mut names = HashSet::new();
        let mut receivers = Vec::new();
        for (index, stage) in raw.into_iter().enumerate() {
            let Some(stage) = stage else { continue };
            let key = |field: &str| format!("receivers[{index}].{field}");
            check_name(self, &stage.name, &key("name"), &mut names, problems);
            match ReceiverKind::parse(&stage.kind, stage.options) {
                Ok(kind) => receivers.push(ReceiverConfig {
                    name: stage.name.into(),
                    kind,
                }),
                Err(err) => problems.push(self.problem(&key(&err.key), err.message)),
            }
        }
        receivers
    }

    /// `storage.retention`: a duration, or `0` / `"off"` to keep everything.
    fn retention(&self, raw: &DurationSetting, problems: &mut Vec<Problem>) -> Option<Duration> {
        if matches!(raw, DurationSetting::Text(text) if text.trim().eq_ignore_ascii_case("off")) {
            return None;
        }
        match raw.to_duration() {
            Ok(retention) => Some(retention).filter(|r| !r.is_zero()),
            Err(invalid) => {
                let message = format!("{}, or \"off\" to keep everything", invalid.0);
                // A type error already reported for the key says it all.
                if !problems.iter().any(|p| p.key == "storage.retention") {
                    problems.push(self.problem("storage.retention", message));
                }
                None
            }
        }
    }

    /// `storage.path`, except that under systemd (`STATE_DIRECTORY` set) an unset path
    /// means `$STATE_DIRECTORY/mentiond.db`.
    fn storage_path(&self, configured: &str) -> PathBuf {
        self.state_path("storage.path", configured, "mentiond.db")
    }

    /// `configured`, or `$STATE_DIRECTORY/name` when the file and the environment
    /// leave `key` unset and systemd names a state directory.
    fn state_path(&self, key: &str, configured: &str, name: &str) -> PathBuf {
        let user_set = self
            .user
            .as_ref()
            .is_some_and(|user| user.line_of(key).is_some())
            || self.env_var_setting(key).is_some();
        match std::env::var("STATE_DIRECTORY") {
            Ok(dirs) if !user_set && !dirs.is_empty() => {
                // systemd joins several StateDirectory= entries with ':'; the first is ours.
                let first = dirs.split(':').next().unwrap_or(&dirs);
                Path::new(first).join(name)
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

/// `key` inside the table at `table`: (`sources[0]`, `url`) → `sources[0].url`.
fn subkey(table: &str, key: &str) -> String {
    match key {
        "" => table.to_string(),
        _ if key.starts_with('[') => format!("{table}{key}"),
        _ => format!("{table}.{key}"),
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
