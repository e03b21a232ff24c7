//! X API v2 filtered stream (`/2/tweets/search/stream`), read through
//! [`live`](super::live) within the one poll loop.
//!
//! Rules are the keywords: one per brand, `tag` = `mentiond:<brand>`, value = the
//! brand's terms, handles and hashtags OR-ed, split into several rules when longer
//! than `max_rule_length`, and at most `max_rules` in all (rules of other tools
//! count). At each connect and after a reload changed the keywords, the rules on X
//! are read and only the difference is sent: rules tagged `mentiond:` that the
//! keywords no longer give are deleted, missing ones added; rules with any other tag
//! belong to someone else and are left alone.
//!
//! Messages are NDJSON ended by `\r\n`; a bare `\r\n` keep-alive comes at least every
//! 20 s. The stream has no replay, so the cursor is the newest post id seen
//! (`{"last_id": "…"}`); each (re)connect opens the stream first and then backfills
//! through recent search with `since_id` = that id ([`X`]'s own `since_id` cycle), and
//! the first run takes the newest search page only. Reconnects follow X's documented
//! schedule, handed to the poll loop as the error's `retry_after`: network errors and
//! dropped streams 250 ms more each time up to 16 s, HTTP errors doubling from 5 s
//! to 320 s, a 429 doubling from 60 s (up to 15 min, the rate-limit window).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::AUTHORIZATION;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::Notify;
use tracing::{debug, info, warn};

use super::api::{ApiClient, RateLimitHeaders};
use super::live::{
    Backfill, Lines, Step, Stream, Window, cursor_last_id, last_id_after, open_stream,
    take_stall_timeout,
};
use super::queries::{all_clauses, brand_clauses, or_queries};
use super::x::{self, CycleState, MAX_QUERY_CHARS, X, XSettings};
use super::{Page, SharedRules, Source, SourceContext, SourceError, parse_http_url};
use crate::backoff::Backoff;
use crate::escape;
use crate::keywords::KeywordRules;
use crate::model::SourceName;
use crate::settings::{FieldError, parse_options, take_secret};

/// Silence after which the stream counts as stalled unless `stall_timeout` says
/// otherwise: X sends a keep-alive at least every 20 s.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Rules unless `max_rules` says otherwise (the smallest paid tier's limit).
pub const DEFAULT_MAX_RULES: usize = 25;

/// Rule length unless `max_rule_length` says otherwise (the smallest paid tier's).
pub const DEFAULT_MAX_RULE_LENGTH: usize = 512;

/// The tag prefix of the rules this daemon owns.
pub const TAG_PREFIX: &str = "mentiond:";

/// Reconnect after a network error or a dropped stream: +250 ms each time, up to 16 s.
const NETWORK: Backoff = Backoff {
    initial: Duration::from_millis(250),
    max: Duration::from_secs(16),
};

/// Reconnect after an HTTP error: 5 s doubling up to 320 s.
const HTTP: Backoff = Backoff {
    initial: Duration::from_secs(5),
    max: Duration::from_secs(320),
};

/// Reconnect after a 429: 60 s doubling, up to the 15-minute rate-limit window.
const TOO_MANY: Backoff = Backoff {
    initial: Duration::from_secs(60),
    max: Duration::from_secs(900),
};

/// Validated `kind = "x_stream"` options.
#[derive(Debug, Clone)]
pub struct XStreamSettings {
    /// API root (`https://api.x.com`).
    pub base_url: reqwest::Url,
    /// App-only bearer token.
    pub token: SecretString,
    /// Most rules the app's tier allows (every tool's rules on the app count).
    pub max_rules: usize,
    /// Longest rule the app's tier allows, in characters.
    pub max_rule_length: usize,
    /// Silence after which the stream is dropped and opened again.
    pub stall_timeout: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    base_url: Option<String>,
    max_rules: Option<usize>,
    max_rule_length: Option<usize>,
}

impl XStreamSettings {
    /// Validates the options; the bearer token comes from `token`, `token_env` or
    /// `token_file` and is required.
    pub fn parse(mut options: Map<String, Value>) -> Result<XStreamSettings, FieldError> {
        let token = take_secret(&mut options, "token")?.ok_or_else(|| {
            FieldError::new("token", "set `token_env` or `token_file` (a bearer token)")
        })?;
        let stall_timeout = take_stall_timeout(&mut options, DEFAULT_STALL_TIMEOUT)?;
        let options: Options = parse_options(options)?;
        let max_rules = options.max_rules.unwrap_or(DEFAULT_MAX_RULES);
        if !(1..=1000).contains(&max_rules) {
            return Err(FieldError::new("max_rules", "must be 1 to 1000"));
        }
        let max_rule_length = options.max_rule_length.unwrap_or(DEFAULT_MAX_RULE_LENGTH);
        if !(64..=4096).contains(&max_rule_length) {
            return Err(FieldError::new("max_rule_length", "must be 64 to 4096"));
        }
        Ok(XStreamSettings {
            base_url: parse_http_url(
                "base_url",
                options.base_url.as_deref().unwrap_or(x::DEFAULT_BASE_URL),
            )?,
            token,
            max_rules,
            max_rule_length,
            stall_timeout,
        })
    }
}

/// A filtered-stream rule as X lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Rule {
    /// X's id of the rule.
    pub id: String,
    /// The rule's query.
    pub value: String,
    /// The rule's tag, if any.
    #[serde(default)]
    pub tag: Option<String>,
}

/// A rule the keywords ask for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct WantedRule {
    /// The rule's query.
    pub value: String,
    /// `mentiond:<brand>`.
    pub tag: String,
}

/// The rules the keywords give: per brand, its clauses OR-ed into rules of at most
/// `max_length` characters, tagged `mentiond:<brand>`.
pub fn wanted_rules(rules: &KeywordRules, max_length: usize) -> Vec<WantedRule> {
    rules
        .brands
        .iter()
        .flat_map(|brand| {
            let tag = format!("{TAG_PREFIX}{}", brand.name);
            or_queries(&brand_clauses(brand), "", max_length)
                .into_iter()
                .map(move |value| WantedRule {
                    value,
                    tag: tag.clone(),
                })
        })
        .collect()
}

/// What to send so the rules on X become `wanted`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RulesDiff {
    /// Rules to add.
    pub add: Vec<WantedRule>,
    /// Ids of our rules to delete (ones the keywords no longer give, and repeats).
    pub delete: Vec<String>,
    /// Wanted rules left out because the tier allows no more.
    pub left_out: usize,
}

/// The difference between the rules on X (`current`) and `wanted`: only rules tagged
/// `mentiond:` are ever deleted; the others count against `max_rules`, and the wanted
/// rules beyond what is left are left out (in keyword order, the last ones first).
pub fn diff_rules(current: &[Rule], wanted: &[WantedRule], max_rules: usize) -> RulesDiff {
    let ours = |rule: &&Rule| {
        rule.tag
            .as_deref()
            .is_some_and(|tag| tag.starts_with(TAG_PREFIX))
    };
    let foreign = current.iter().filter(|rule| !ours(rule)).count();
    let room = max_rules.saturating_sub(foreign);
    let kept: Vec<&WantedRule> = wanted.iter().take(room).collect();
    let mut diff = RulesDiff {
        left_out: wanted.len() - kept.len(),
        ..RulesDiff::default()
    };
    let mut present = HashSet::new();
    for rule in current.iter().filter(ours) {
        let key = (rule.value.as_str(), rule.tag.as_deref().unwrap_or_default());
        let wanted_here = kept
            .iter()
            .any(|wanted| (wanted.value.as_str(), wanted.tag.as_str()) == key);
        if !wanted_here || !present.insert(key) {
            diff.delete.push(rule.id.clone());
        }
    }
    let mut adding = HashSet::new();
    for wanted in kept {
        let key = (wanted.value.as_str(), wanted.tag.as_str());
        if !present.contains(&key) && adding.insert(key) {
            diff.add.push(wanted.clone());
        }
    }
    diff
}

/// Consecutive failures of each kind, for X's reconnect schedule.
#[derive(Debug, Default)]
struct Failures {
    network: u32,
    http: u32,
    too_many: u32,
}

impl Failures {
    /// `err` with the wait X's schedule asks for as its `retry_after`.
    fn scheduled(&mut self, err: SourceError) -> SourceError {
        match err {
            SourceError::Status {
                status,
                retry_after,
            } => {
                let wait = if status == 429 {
                    self.too_many += 1;
                    TOO_MANY.ceiling(self.too_many)
                } else {
                    self.http += 1;
                    HTTP.ceiling(self.http)
                };
                SourceError::Status {
                    status,
                    retry_after: Some(retry_after.map_or(wait, |asked| asked.max(wait))),
                }
            }
            SourceError::Transport(reason) | SourceError::Disconnected { reason, .. } => {
                self.network += 1;
                SourceError::Disconnected {
                    reason,
                    reconnect_after: Some(NETWORK.linear(self.network)),
                }
            }
            other => other,
        }
    }
}

/// The X filtered-stream source.
pub struct XStream {
    name: SourceName,
    settings: XStreamSettings,
    api: ApiClient,
    /// Recent search: backfill and the message → post mapping.
    rest: X,
    rules: SharedRules,
    /// The watch list the rules on X were last synced to.
    synced: Option<Arc<KeywordRules>>,
    /// The open stream.
    stream: Stream<Lines>,
    /// Queries still to backfill after the last connect.
    backfill: Backfill<X>,
    failures: Failures,
}

impl XStream {
    /// A filtered-stream source named `name`.
    pub fn new(name: SourceName, settings: XStreamSettings, context: &SourceContext) -> XStream {
        let search = XSettings {
            base_url: settings.base_url.clone(),
            token: settings.token.clone(),
            queries: Vec::new(),
            max_results: 100,
        };
        XStream {
            rest: X::search(name.clone(), search, context),
            api: ApiClient::new(context, RateLimitHeaders::XApi),
            name,
            settings,
            rules: Arc::clone(&context.keywords),
            synced: None,
            stream: Stream::new(Window::DEFAULT),
            backfill: Backfill::none(),
            failures: Failures::default(),
        }
    }

    /// Reads in windows other than [`Window::DEFAULT`] (tests).
    pub fn with_window(mut self, window: Window) -> XStream {
        self.stream.set_window(window);
        self
    }

    fn url(&self, path: &str) -> reqwest::Url {
        let mut url = self.settings.base_url.clone();
        url.set_path(path);
        url
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header(
            AUTHORIZATION,
            format!("Bearer {}", self.settings.token.expose_secret()),
        )
    }

    /// Makes the rules on X those of `keywords`, sending only the difference.
    async fn sync_rules(&mut self, keywords: &KeywordRules) -> Result<(), SourceError> {
        #[derive(Deserialize)]
        struct Listed {
            #[serde(default)]
            data: Vec<Rule>,
        }
        let rules_url = self.url("/2/tweets/search/stream/rules");
        let mut list_url = rules_url.clone();
        list_url
            .query_pairs_mut()
            .append_pair("max_results", "1000");
        let request = self.authorized(self.api.http().get(list_url));
        let current = self.api.json::<Listed>(request).await?.body.data;
        let wanted = wanted_rules(keywords, self.settings.max_rule_length);
        let diff = diff_rules(&current, &wanted, self.settings.max_rules);
        if diff.left_out > 0 {
            warn!(source = %self.name, left_out = diff.left_out, max_rules = self.settings.max_rules, "rules over the tier's limit left out");
        }
        // Deletes first, so the adds fit under the tier's rule count.
        if !diff.delete.is_empty() {
            let body = json!({"delete": {"ids": diff.delete}});
            self.post_rules(rules_url.clone(), body).await?;
        }
        if !diff.add.is_empty() {
            let body = json!({"add": diff.add});
            self.post_rules(rules_url, body).await?;
        }
        info!(source = %self.name, added = diff.add.len(), deleted = diff.delete.len(), "stream rules synced");
        Ok(())
    }

    async fn post_rules(&mut self, url: reqwest::Url, body: Value) -> Result<(), SourceError> {
        let request = self.authorized(self.api.http().post(url).json(&body));
        let reply = self.api.json::<Value>(request).await?;
        // A rule X refuses (invalid, a duplicate) is named in `errors`; the others stand.
        if let Some(errors) = reply.body.get("errors").and_then(Value::as_array) {
            for error in errors {
                warn!(source = %self.name, error = %escape::log(&error.to_string()), "stream rule refused");
            }
        }
        Ok(())
    }

    /// Syncs the rules when the keywords changed since the last sync.
    async fn follow_rules(&mut self) -> Result<(), SourceError> {
        let current = self.rules.load_full();
        if self
            .synced
            .as_ref()
            .is_some_and(|synced| Arc::ptr_eq(synced, &current))
        {
            return Ok(());
        }
        self.sync_rules(&current).await?;
        self.synced = Some(current);
        Ok(())
    }

    async fn connect(&mut self) -> Result<Lines, SourceError> {
        let mut url = self.url("/2/tweets/search/stream");
        X::post_fields(&mut url);
        let request = self.authorized(self.api.http().get(url));
        let stall = self.settings.stall_timeout;
        let response = open_stream(&mut self.api, request, stall).await?;
        Ok(Lines::new(vec![response], stall, self.api.max_body_bytes()))
    }

    async fn connect_and_backfill(&mut self, last_id: Option<String>) -> Result<Page, SourceError> {
        if !self.stream.is_open() {
            self.follow_rules().await?;
            // Connect first, backfill second: what is posted meanwhile waits in the
            // stream, so nothing falls between the two.
            let lines = self.connect().await?;
            self.failures = Failures::default();
            info!(source = %self.name, "stream connected");
            self.stream.open(lines);
            let rules = self.rules.load_full();
            self.backfill.pending = or_queries(&all_clauses(&rules), "", MAX_QUERY_CHARS)
                .into_iter()
                .map(|query| (query, CycleState::since(last_id.clone())))
                .collect();
        }
        let since_id = |state: &CycleState| state.since_id().map(str::to_string);
        let round = self.backfill.round(
            &self.name,
            &mut self.rest,
            last_id,
            &mut self.stream,
            since_id,
        );
        round.await
    }
}

/// What one NDJSON line of the stream is.
pub(super) fn decode_line(line: &str) -> Step<Value> {
    if line.trim().is_empty() {
        return Step::Skip;
    }
    let Ok(message) = serde_json::from_str::<Value>(line) else {
        debug!(line_bytes = line.len(), "unreadable stream line skipped");
        return Step::Skip;
    };
    if message.get("data").is_some() {
        return Step::Item(message);
    }
    let errors = message.get("errors").and_then(Value::as_array);
    let disconnect = errors
        .into_iter()
        .flatten()
        .find(|error| error.get("title").and_then(Value::as_str) == Some("operational-disconnect"));
    match disconnect {
        Some(error) => Step::Close(format!(
            "operational-disconnect: {}",
            error
                .get("detail")
                .or_else(|| error.get("disconnect_type"))
                .and_then(Value::as_str)
                .unwrap_or_default()
        )),
        None => Step::Skip,
    }
}

#[async_trait::async_trait]
impl Source for XStream {
    fn name(&self) -> &SourceName {
        &self.name
    }

    fn wake(&self) -> Option<Arc<Notify>> {
        self.stream.wake()
    }

    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SourceError> {
        self.stream
            .ended()
            .map_err(|err| self.failures.scheduled(err))?;
        let last_id = cursor_last_id(cursor);
        if !self.stream.is_open() || !self.backfill.is_done() {
            return match self.connect_and_backfill(last_id).await {
                Ok(page) => Ok(page),
                Err(err) => {
                    self.stream.close();
                    self.backfill = Backfill::none();
                    Err(self.failures.scheduled(err))
                }
            };
        }
        // A reload changed the keywords: the rules change on the open stream.
        if let Err(err) = self.follow_rules().await {
            return Err(self.failures.scheduled(err));
        }
        let messages = match self.stream.read(|(_, line)| decode_line(&line)).await {
            Ok(messages) => messages,
            Err(err) => return Err(self.failures.scheduled(err)),
        };
        let first_run = last_id.is_none();
        let id_of = |message: &Value| {
            message
                .pointer("/data/id")
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let cursor = last_id_after(last_id, &messages, id_of);
        let posts = messages
            .into_iter()
            .flat_map(|message| self.rest.message_posts(message))
            .collect();
        Ok(self.stream.page(posts, Some(cursor), first_run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keywords::parse_keywords;
    use std::path::Path;

    fn rule(id: &str, value: &str, tag: Option<&str>) -> Rule {
        Rule {
            id: id.into(),
            value: value.into(),
            tag: tag.map(str::to_string),
        }
    }

    fn wanted(value: &str, tag: &str) -> WantedRule {
        WantedRule {
            value: value.into(),
            tag: tag.into(),
        }
    }

    #[test]
    fn rules_are_one_per_brand_split_under_the_length_limit() {
        let keywords = parse_keywords(
            Path::new("k.toml"),
            r##"
[[brand]]
name = "THY"
terms = ["Türk Hava Yolları", "Turkish Airlines"]
handles = ["@TK_HelpDesk"]
hashtags = ["#türkhavayolları"]

[[brand]]
name = "Turkcell"
terms = ["Turkcell"]
"##,
        )
        .unwrap();
        let rules = wanted_rules(&keywords, 512);
        assert_eq!(
            rules,
            [
                wanted(
                    "(\"Türk Hava Yolları\" OR \"Turkish Airlines\" OR @TK_HelpDesk OR #türkhavayolları)",
                    "mentiond:THY"
                ),
                wanted("(Turkcell)", "mentiond:Turkcell"),
            ]
        );
        let split = wanted_rules(&keywords, 64);
        let thy: Vec<_> = split.iter().filter(|r| r.tag == "mentiond:THY").collect();
        assert_eq!(thy.len(), 2, "{split:?}");
        assert!(
            split.iter().all(|r| r.value.chars().count() <= 64),
            "{split:?}"
        );
    }

    #[test]
    fn the_diff_adds_what_is_missing_and_deletes_only_our_stale_rules() {
        let current = [
            rule("1", "(Turkcell)", Some("mentiond:Turkcell")),
            rule("2", "(Vodafone)", Some("mentiond:Vodafone")),
            rule("3", "cat has:images", Some("cats with images")),
            rule("4", "(Turkcell)", Some("mentiond:Turkcell")),
            rule("5", "dog", None),
        ];
        let wanted_now = [
            wanted("(Turkcell)", "mentiond:Turkcell"),
            wanted("(THY)", "mentiond:THY"),
        ];
        let diff = diff_rules(&current, &wanted_now, 25);
        assert_eq!(diff.add, [wanted("(THY)", "mentiond:THY")]);
        assert_eq!(diff.delete, ["2", "4"], "stale and repeated, never foreign");
        assert_eq!(diff.left_out, 0);

        // In sync: nothing to send.
        let synced = [
            rule("1", "(Turkcell)", Some("mentiond:Turkcell")),
            rule("6", "(THY)", Some("mentiond:THY")),
        ];
        assert_eq!(diff_rules(&synced, &wanted_now, 25), RulesDiff::default());

        // Two foreign rules and a limit of 3 leave room for one of ours.
        let diff = diff_rules(&current, &wanted_now, 3);
        assert_eq!((diff.add.len(), diff.left_out), (0, 1));
        assert_eq!(diff.delete, ["2", "4"]);
    }

    #[test]
    fn lines_are_posts_keep_alives_or_disconnects() {
        assert!(matches!(decode_line(""), Step::Skip));
        assert!(matches!(
            decode_line("{\"data\":{\"id\":\"1\",\"text\":\"a\"}}"),
            Step::Item(_)
        ));
        let disconnect = r#"{"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect","detail":"This stream has been disconnected upstream for operational reasons.","type":"https://api.x.com/2/problems/operational-disconnect"}]}"#;
        assert!(
            matches!(decode_line(disconnect), Step::Close(reason) if reason.contains("disconnected upstream"))
        );
    }

    #[test]
    fn reconnect_waits_follow_the_documented_schedule() {
        let mut failures = Failures::default();
        let status = |status| SourceError::Status {
            status,
            retry_after: None,
        };
        let waits: Vec<u64> = (0..3)
            .map(|_| {
                failures
                    .scheduled(status(429))
                    .retry_after()
                    .unwrap()
                    .as_secs()
            })
            .collect();
        assert_eq!(waits, [60, 120, 240]);
        let waits: Vec<u64> = (0..2)
            .map(|_| {
                failures
                    .scheduled(status(503))
                    .retry_after()
                    .unwrap()
                    .as_secs()
            })
            .collect();
        assert_eq!(waits, [5, 10]);
        let waits: Vec<u128> = (0..2)
            .map(|_| {
                let err = failures.scheduled(SourceError::Transport("refused".into()));
                assert!(err.is_transient());
                err.retry_after().unwrap().as_millis()
            })
            .collect();
        assert_eq!(waits, [250, 500]);
    }

    #[test]
    fn settings_name_bad_keys_and_never_print_the_token() {
        let parse = |v: Value| XStreamSettings::parse(v.as_object().unwrap().clone());
        assert_eq!(parse(json!({})).unwrap_err().key, "token");
        assert_eq!(
            parse(json!({"token": "t", "max_rules": 0}))
                .unwrap_err()
                .key,
            "max_rules"
        );
        assert_eq!(
            parse(json!({"token": "t", "max_rule_length": 10}))
                .unwrap_err()
                .key,
            "max_rule_length"
        );
        assert_eq!(
            parse(json!({"token": "t", "stall_timeout": "soon"}))
                .unwrap_err()
                .key,
            "stall_timeout"
        );
        let settings = parse(json!({"token": "AAAA-gizli"})).unwrap();
        assert!(!format!("{settings:?}").contains("AAAA-gizli"));
        assert_eq!((settings.max_rules, settings.max_rule_length), (25, 512));
    }
}
