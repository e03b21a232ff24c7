//! Mastodon's streaming API: Server-Sent Events from `/api/v1/streaming/hashtag?tag=`
//! (one connection per hashtag) or `/api/v1/streaming/public`, read through
//! [`live`](super::live) within the one poll loop.
//!
//! The stream has no replay, so the cursor is the newest instance-local status id
//! seen (`{"last_id": "…"}`). Each (re)connect opens the stream first and then
//! backfills through the REST timelines of [`Mastodon`] with `min_id` = that id, so
//! nothing posted during the gap is lost; what both saw is stored once (posts are
//! keyed on the status `uri`). The first run takes the newest timeline page only, as
//! the poller does. `update` and `status.update` events become posts through the
//! poller's own mapping; `delete` is ignored (a stored hit stays); `:thump` comment
//! lines are heartbeats that keep the stall timer quiet.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::Notify;
use tracing::info;

use super::api::{ApiClient, RateLimitHeaders};
use super::live::{
    Backfill, Lines, SseParser, Step, Stream, Window, cursor_last_id, last_id_after, open_stream,
    take_stall_timeout,
};
use super::mastodon::{self, Mastodon, MastodonSettings, TimelineState, timeline_keys};
use super::{Page, SharedRules, Source, SourceContext, SourceError, parse_http_url};
use crate::keywords::KeywordRules;
use crate::model::SourceName;
use crate::settings::{FieldError, parse_options, take_secret};

/// Silence after which the connection counts as stalled, unless `stall_timeout` says
/// otherwise (Mastodon sends a `:thump` about every 15 s).
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Which streaming endpoint to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// `/api/v1/streaming/hashtag?tag=` for each hashtag.
    Hashtag,
    /// `/api/v1/streaming/public`: every public status the instance sees.
    Public,
}

impl StreamKind {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Hashtag => "hashtag",
            StreamKind::Public => "public",
        }
    }
}

/// Validated `kind = "mastodon_stream"` options.
#[derive(Debug, Clone)]
pub struct MastodonStreamSettings {
    /// The instance (`https://mastodon.social`).
    pub base_url: reqwest::Url,
    /// `hashtag` (default) or `public`.
    pub stream: StreamKind,
    /// Hashtags to follow, without `#`; empty means the keywords' hashtags.
    pub hashtags: Vec<String>,
    /// Only the instance's own accounts (`/local` endpoints).
    pub local: bool,
    /// Access token; Mastodon 4.2 and later require one for streaming.
    pub token: Option<SecretString>,
    /// Silence after which the connection is dropped and opened again.
    pub stall_timeout: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    base_url: Option<String>,
    stream: Option<String>,
    #[serde(default)]
    hashtags: Vec<String>,
    #[serde(default)]
    local: bool,
}

impl MastodonStreamSettings {
    /// Validates the options; the token may come from `token`, `token_env` or `token_file`.
    pub fn parse(mut options: Map<String, Value>) -> Result<MastodonStreamSettings, FieldError> {
        let token = take_secret(&mut options, "token")?;
        let stall_timeout = take_stall_timeout(&mut options, DEFAULT_STALL_TIMEOUT)?;
        let options: Options = parse_options(options)?;
        let stream = match options.stream.as_deref() {
            None | Some("hashtag") => StreamKind::Hashtag,
            Some("public") => StreamKind::Public,
            Some(other) => {
                return Err(FieldError::new(
                    "stream",
                    format!("`{other}` is neither \"hashtag\" nor \"public\""),
                ));
            }
        };
        // The hashtags are checked and normalised as the poller's.
        let mut timelines = Map::new();
        timelines.insert("hashtags".into(), serde_json::json!(options.hashtags));
        let checked = MastodonSettings::parse(timelines)?;
        Ok(MastodonStreamSettings {
            base_url: parse_http_url(
                "base_url",
                options
                    .base_url
                    .as_deref()
                    .unwrap_or(mastodon::DEFAULT_BASE_URL),
            )?,
            stream,
            hashtags: checked.hashtags,
            local: options.local,
            token,
            stall_timeout,
        })
    }

    /// The poller's settings for the REST backfill of the same timelines.
    fn timelines(&self) -> MastodonSettings {
        MastodonSettings {
            base_url: self.base_url.clone(),
            hashtags: self.hashtags.clone(),
            public: self.stream == StreamKind::Public,
            local: self.local,
            limit: 40,
            token: self.token.clone(),
        }
    }
}

/// A Mastodon streaming source.
pub struct MastodonStream {
    name: SourceName,
    settings: MastodonStreamSettings,
    api: ApiClient,
    /// The REST half: backfill and the status → post mapping.
    rest: Mastodon,
    rules: SharedRules,
    /// The watch list the connections were opened for.
    seen: Arc<KeywordRules>,
    /// The open connections, one per timeline key.
    stream: Stream<Lines>,
    /// One event parser per open connection.
    parsers: Vec<SseParser>,
    /// Timelines still to backfill after the last connect.
    backfill: Backfill<Mastodon>,
}

impl MastodonStream {
    /// A streaming source named `name`.
    pub fn new(
        name: SourceName,
        settings: MastodonStreamSettings,
        context: &SourceContext,
    ) -> MastodonStream {
        MastodonStream {
            rest: Mastodon::timelines(name.clone(), settings.timelines(), context),
            api: ApiClient::new(context, RateLimitHeaders::Mastodon),
            name,
            settings,
            rules: Arc::clone(&context.keywords),
            seen: context.keywords.load_full(),
            stream: Stream::new(Window::DEFAULT),
            parsers: Vec::new(),
            backfill: Backfill::none(),
        }
    }

    /// Reads in windows other than [`Window::DEFAULT`] (tests).
    pub fn with_window(mut self, window: Window) -> MastodonStream {
        self.stream.set_window(window);
        self
    }

    fn keys(&self) -> Vec<String> {
        let public = self.settings.stream == StreamKind::Public;
        let keys = timeline_keys(&self.settings.hashtags, public, &self.seen);
        if public {
            keys.into_iter().filter(|key| key == "public").collect()
        } else {
            keys
        }
    }

    fn stream_url(&self, key: &str) -> reqwest::Url {
        let mut url = self.settings.base_url.clone();
        {
            let mut segments = url.path_segments_mut().expect("http(s) URLs have a path");
            segments.pop_if_empty().extend(["api", "v1", "streaming"]);
            segments.push(if key == "public" { "public" } else { "hashtag" });
            if self.settings.local {
                segments.push("local");
            }
        }
        if let Some(tag) = key.strip_prefix("tag:") {
            url.query_pairs_mut().append_pair("tag", tag);
        }
        url
    }

    /// Opens one connection per key.
    async fn connect(&mut self, keys: &[String]) -> Result<Lines, SourceError> {
        let mut responses = Vec::new();
        for key in keys {
            let mut request = self
                .api
                .http()
                .get(self.stream_url(key))
                .header(ACCEPT, "text/event-stream");
            if let Some(token) = &self.settings.token {
                request =
                    request.header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()));
            }
            let response = open_stream(&mut self.api, request, self.settings.stall_timeout).await?;
            responses.push(response);
        }
        Ok(Lines::new(
            responses,
            self.settings.stall_timeout,
            self.api.max_body_bytes(),
        ))
    }
}

#[async_trait::async_trait]
impl Source for MastodonStream {
    fn name(&self) -> &SourceName {
        &self.name
    }

    fn wake(&self) -> Option<Arc<Notify>> {
        self.stream.wake()
    }

    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SourceError> {
        self.stream.ended()?;
        let last_id = cursor_last_id(cursor);
        let current = self.rules.load_full();
        if !Arc::ptr_eq(&current, &self.seen) {
            let before = self.keys();
            self.seen = current;
            if self.keys() != before && self.stream.is_open() {
                info!(source = %self.name, "stream reopened for the reloaded keywords");
                self.stream.close();
            }
        }
        if !self.stream.is_open() {
            let keys = self.keys();
            // Connect first, backfill second: what is posted meanwhile waits in the
            // stream, so nothing falls between the two.
            let live = self.connect(&keys).await?;
            info!(source = %self.name, streams = keys.len(), "stream connected");
            self.stream.open(live);
            self.parsers = keys.iter().map(|_| SseParser::default()).collect();
            self.backfill.pending = keys
                .into_iter()
                .map(|key| (key, TimelineState::after(last_id.clone())))
                .collect();
        }
        if !self.backfill.is_done() {
            let min_id = |state: &TimelineState| state.min_id().map(str::to_string);
            let round = self.backfill.round(
                &self.name,
                &mut self.rest,
                last_id,
                &mut self.stream,
                min_id,
            );
            return round.await.inspect_err(|_| {
                self.stream.close();
                self.backfill = Backfill::none();
            });
        }
        let parsers = &mut self.parsers;
        let statuses = self
            .stream
            .read(|(index, line)| decode_line(&mut parsers[index], &line))
            .await?;
        let first_run = last_id.is_none();
        let id_of = |status: &Value| status.get("id").and_then(Value::as_str).map(str::to_string);
        let cursor = last_id_after(last_id, &statuses, id_of);
        let rest = &mut self.rest;
        let posts = statuses
            .into_iter()
            .filter_map(|status| rest.status_post(status))
            .collect();
        Ok(self.stream.page(posts, Some(cursor), first_run))
    }
}

/// What one line of a connection's event stream is: a status when it ends an
/// `update` or `status.update` event whose data is JSON.
fn decode_line(parser: &mut SseParser, line: &str) -> Step<Value> {
    match parser.line(line) {
        Some(event) if matches!(event.event.as_str(), "update" | "status.update") => {
            match serde_json::from_str::<Value>(&event.data) {
                Ok(status) => Step::Item(status),
                Err(_) => Step::Skip,
            }
        }
        _ => Step::Skip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(options: Value) -> Result<MastodonStreamSettings, FieldError> {
        MastodonStreamSettings::parse(options.as_object().unwrap().clone())
    }

    #[test]
    fn settings_name_bad_keys_and_stream_urls_follow_them() {
        assert_eq!(
            parse(serde_json::json!({"stream": "home"}))
                .unwrap_err()
                .key,
            "stream"
        );
        assert_eq!(
            parse(serde_json::json!({"stall_timeout": "0s"}))
                .unwrap_err()
                .key,
            "stall_timeout"
        );
        assert_eq!(
            parse(serde_json::json!({"hashtags": [" "]}))
                .unwrap_err()
                .key,
            "hashtags[0]"
        );
        let settings = parse(serde_json::json!({
            "base_url": "https://sosyal.example/", "hashtags": ["#TürkHavaYolları"],
            "local": true, "token": "gizli", "stall_timeout": "20s",
        }))
        .unwrap();
        assert!(!format!("{settings:?}").contains("gizli"));
        assert_eq!(settings.stall_timeout, Duration::from_secs(20));
        let context = SourceContext {
            http: reqwest::Client::new(),
            max_body_bytes: 1024,
            keywords: Arc::new(Default::default()),
        };
        let source = MastodonStream::new("m".into(), settings, &context);
        assert_eq!(source.keys(), ["tag:türkhavayolları"]);
        assert_eq!(
            source.stream_url("tag:türkhavayolları").as_str(),
            "https://sosyal.example/api/v1/streaming/hashtag/local?tag=t%C3%BCrkhavayollar%C4%B1"
        );
    }

    #[test]
    fn fuzzed_event_streams_become_posts_or_are_skipped_without_panicking() {
        use crate::sources::live::line_text;
        use crate::sources::test_support::{context, fixture};
        let bodies: Vec<Vec<u8>> = [
            "streaming_hashtag_turkcell.sse",
            "streaming_hashtag_own_reply.sse",
            "streaming_hashtag_after_reconnect.sse",
        ]
        .iter()
        .map(|name| fixture(&format!("mastodon/{name}")))
        .collect();
        let seeds: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        let settings = parse(serde_json::json!({"hashtags": ["turkcell"]})).unwrap();
        let source = std::cell::RefCell::new(MastodonStream::new("m".into(), settings, &context()));
        crate::fuzz::run("mastodon event stream", &seeds, |input| {
            let mut source = source.borrow_mut();
            let mut parser = SseParser::default();
            for line in input.split_inclusive(|byte| *byte == b'\n') {
                if let Step::Item(status) = decode_line(&mut parser, &line_text(line)) {
                    let _ = source.rest.status_post(status);
                }
            }
        });
    }
}
