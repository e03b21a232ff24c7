//! Where posts come from. Each file turns one platform (or a local file) into
//! [`Post`]s behind the [`Source`] trait; the pipeline's
//! [`poll_loop`](crate::pipeline::poll_loop) is the one loop that drives them all
//! (interval, jitter, backoff, `Retry-After`, cursors, cancellation).
//!
//! Platform wire types never leave their file. Sources do network and file I/O but
//! never touch the store or the matcher: they hand pages to the poll loop. Network
//! platforms send every request through [`api::ApiClient`] (status, `Retry-After`,
//! the platform's rate-limit headers, the body cap) and are [`streams::Streams`]:
//! several queries or timelines, each with its own cursor, behind one source.

pub mod api;
pub mod bluesky;
pub mod feed;
pub mod hackernews;
pub mod html;
pub mod jetstream;
pub mod jsonl;
pub mod live;
pub mod mastodon;
pub mod mastodon_stream;
pub mod queries;
pub mod reddit;
pub mod streams;
pub mod x;
pub mod x_stream;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::backoff::Backoff;
use crate::http::BodyError;
use crate::keywords::KeywordRules;
use crate::model::{Post, SourceName};
use crate::settings::{DurationSetting, FieldError, duration_value, kind_registry};

/// `[poll]`: what every source shares (and the poll loop and pipeline read).
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

impl PollSettings {
    /// Validates `[poll]`; problems are keyed relative to it.
    pub fn parse(raw: &RawPoll) -> (PollSettings, Vec<FieldError>) {
        let mut problems = Vec::new();
        let mut duration = |key: &str, value: &DurationSetting, positive: bool| {
            value.read(key, positive, &mut problems)
        };
        let settings = PollSettings {
            interval: duration("interval", &raw.interval, true),
            jitter: raw.jitter,
            backoff: Backoff {
                initial: duration("backoff_initial", &raw.backoff_initial, true),
                max: duration("backoff_max", &raw.backoff_max, false),
            },
            request_timeout: duration("request_timeout", &raw.request_timeout, true),
            max_body_bytes: raw.max_body_bytes,
            user_agent: raw.user_agent.clone(),
            backfill: duration("backfill", &raw.backfill, false),
        };
        if !(0.0..=1.0).contains(&settings.jitter) {
            problems.push(FieldError::new("jitter", "must be between 0.0 and 1.0"));
        }
        if settings.max_body_bytes < 1024 {
            problems.push(FieldError::new("max_body_bytes", "must be at least 1024"));
        }
        (settings, problems)
    }
}

/// A configured source, validated.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Unique name (`news`, `tickets`): the key of its cursor and its log field.
    pub name: SourceName,
    /// Time between polls.
    pub interval: Duration,
    /// What to poll and how.
    pub kind: SourceKind,
}

kind_registry! {
    /// The kind-specific part of a source's configuration: every source kind, written
    /// once.
    #[derive(Debug, Clone)]
    pub enum SourceKind ("source") {
        build(name: SourceName, context: &SourceContext) -> Box<dyn Source>;
        /// RSS / Atom / JSON Feed URLs.
        Feed(feed::FeedSettings) = "feed",
            parse: feed::FeedSettings::parse,
            build: |name, settings, context| {
                Box::new(feed::FeedSource::new(name, settings.clone(), context.clone()))
            };
        /// A local file of JSON posts, one per line, followed like `tail -F`.
        Jsonl(jsonl::JsonlSettings) = "jsonl",
            parse: jsonl::JsonlSettings::parse,
            build: |name, settings, _| Box::new(jsonl::JsonlSource::new(name, settings.clone()));
        /// Hacker News stories and comments through Algolia search.
        HackerNews(hackernews::HackerNewsSettings) = "hackernews",
            parse: hackernews::HackerNewsSettings::parse,
            build: |name, settings, context| {
                Box::new(hackernews::HackerNews::source(name, settings.clone(), context))
            };
        /// Hashtag and public timelines of one Mastodon instance.
        Mastodon(mastodon::MastodonSettings) = "mastodon",
            parse: mastodon::MastodonSettings::parse,
            build: |name, settings, context| {
                Box::new(mastodon::Mastodon::source(name, settings.clone(), context))
            };
        /// Mastodon's streaming API (SSE), backfilled through the timelines.
        MastodonStream(mastodon_stream::MastodonStreamSettings) = "mastodon_stream",
            parse: mastodon_stream::MastodonStreamSettings::parse,
            build: |name, settings, context| {
                Box::new(mastodon_stream::MastodonStream::new(name, settings.clone(), context))
            };
        /// X API v2 recent search.
        X(x::XSettings) = "x",
            parse: x::XSettings::parse,
            build: |name, settings, context| Box::new(x::X::source(name, settings.clone(), context));
        /// X API v2 filtered stream, rules synced from the keywords, backfilled through
        /// recent search.
        XStream(x_stream::XStreamSettings) = "x_stream",
            parse: x_stream::XStreamSettings::parse,
            build: |name, settings, context| {
                Box::new(x_stream::XStream::new(name, settings.clone(), context))
            };
        /// Bluesky `searchPosts` through an app-password session.
        BlueskySearch(bluesky::BlueskySettings) = "bluesky_search",
            parse: bluesky::BlueskySettings::parse,
            build: |name, settings, context| {
                Box::new(bluesky::Bluesky::source(name, settings.clone(), context))
            };
        /// Bluesky posts in real time from a Jetstream WebSocket.
        BlueskyJetstream(jetstream::JetstreamSettings) = "bluesky_jetstream",
            parse: jetstream::JetstreamSettings::parse,
            build: |name, settings, context| {
                Box::new(jetstream::JetstreamSource::new(name, settings.clone(), context))
            };
        /// Reddit search and subreddit listings through OAuth.
        Reddit(reddit::RedditSettings) = "reddit",
            parse: reddit::RedditSettings::parse,
            build: |name, settings, context| {
                Box::new(reddit::Reddit::source(name, settings.clone(), context))
            };
    }
}

impl SourceConfig {
    /// Validates one `[[sources]]` table: its `interval` (default `default_interval`)
    /// and its kind's options. Every problem is returned, keyed relative to the table.
    pub fn parse(
        name: SourceName,
        kind: &str,
        mut options: serde_json::Map<String, serde_json::Value>,
        default_interval: Duration,
    ) -> Result<SourceConfig, Vec<FieldError>> {
        let mut problems = Vec::new();
        let interval = match options.remove("interval") {
            None => default_interval,
            Some(value) => match duration_value(&value) {
                Ok(interval) if !interval.is_zero() => interval,
                Ok(_) => {
                    problems.push(FieldError::new("interval", "must be longer than zero"));
                    default_interval
                }
                Err(message) => {
                    problems.push(FieldError::new("interval", message));
                    default_interval
                }
            },
        };
        match SourceKind::parse(kind, options) {
            Ok(kind) if problems.is_empty() => Ok(SourceConfig {
                name,
                interval,
                kind,
            }),
            Ok(_) => Err(problems),
            Err(err) => {
                problems.push(err);
                Err(problems)
            }
        }
    }
}

impl SourceKind {
    /// Where it reads from, for `mentiond check`.
    pub fn describe(&self) -> String {
        match self {
            SourceKind::Feed(settings) => format!("{} feed URL(s)", settings.urls.len()),
            SourceKind::Jsonl(settings) => settings.path.display().to_string(),
            SourceKind::X(settings) => {
                describe_queries(&settings.base_url, "queries", &settings.queries)
            }
            SourceKind::Reddit(settings) => format!(
                "{}, {} subreddit(s)",
                describe_queries(&settings.base_url, "queries", &settings.queries),
                settings.subreddits.len()
            ),
            SourceKind::BlueskySearch(settings) => {
                describe_queries(&settings.base_url, "queries", &settings.queries)
            }
            SourceKind::BlueskyJetstream(settings) => {
                let first = settings
                    .hosts
                    .first()
                    .and_then(|url| url.host_str())
                    .unwrap_or("?");
                format!("{first}, {} host(s), stream", settings.hosts.len())
            }
            SourceKind::Mastodon(settings) => {
                describe_queries(&settings.base_url, "hashtags", &settings.hashtags)
            }
            SourceKind::HackerNews(settings) => {
                describe_queries(&settings.base_url, "queries", &settings.queries)
            }
            SourceKind::MastodonStream(settings) => {
                let what = format!("{} stream, hashtags", settings.stream.as_str());
                describe_queries(&settings.base_url, &what, &settings.hashtags)
            }
            SourceKind::XStream(settings) => {
                describe_queries(&settings.base_url, "filtered stream, rules", &[])
            }
        }
    }
}

/// One answer from a source: new posts and the cursor that follows them.
#[derive(Debug, Default)]
pub struct Page {
    /// Posts in this page (may include ones already stored; the store ignores those).
    pub posts: Vec<Post>,
    /// Cursor to persist once the posts are committed; `None` if the source keeps none.
    pub cursor: Option<String>,
    /// More is waiting right now: fetch again without waiting for the interval.
    pub more: bool,
    /// The platform asked not to be polled again before this (RSS `ttl`, …).
    pub not_before: Option<Duration>,
    /// Part of the page is a first look at something new (a query or hashtag added
    /// to the keywords): its old posts are stored but not alerted, as on a first run.
    pub backfill: bool,
}

/// A place that can be asked for what is new since a cursor.
///
/// `fetch` takes `&mut self` because a source may keep local state between polls (an
/// open file, a session token); the cursor passed in is always the last one
/// committed, which is the only state that survives a restart.
#[async_trait::async_trait]
pub trait Source: Send + Sync {
    /// The configured name.
    fn name(&self) -> &SourceName;

    /// Fetches what is new after `cursor` (`None` on the very first poll).
    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SourceError>;

    /// A signal that something new may be waiting (a watched file changed): the poll
    /// loop ends its wait between successful polls early when it is notified.
    /// `None`, the default, polls at the interval only.
    fn wake(&self) -> Option<Arc<tokio::sync::Notify>> {
        None
    }

    /// How many streams failed in the last fetch of a source made of several (feed
    /// URLs, queries, hashtags), so the poll loop logs one line per poll naming the
    /// count instead of one per stream. `None`, the default: none failed, or the
    /// source has no streams.
    fn stream_failures(&self) -> Option<StreamFailures> {
        None
    }
}

/// The streams of one fetch that failed: `failing` of `streams`, and the first error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamFailures {
    /// Streams whose request failed.
    pub failing: usize,
    /// Streams asked in that fetch.
    pub streams: usize,
    /// The first failure, as [`SourceError`] displays it (not escaped).
    pub first_error: String,
}

/// Why a poll failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The server answered with a non-success status.
    #[error("HTTP status {status}")]
    Status {
        /// The status code.
        status: u16,
        /// What `Retry-After` asked for, if sent.
        retry_after: Option<Duration>,
    },
    /// Connecting, sending or receiving failed, or timed out; the cause as
    /// [`crate::http::describe`] names it.
    #[error("request failed: {0}")]
    Transport(String),
    /// The body was refused (too large) or broke off.
    #[error(transparent)]
    Body(#[from] BodyError),
    /// The payload could not be understood.
    #[error("malformed payload: {0}")]
    Malformed(String),
    /// Local file I/O failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The platform's rate-limit headers said the window is used up; not sent.
    #[error("rate limit used up, window resets in {}s", wait.as_secs())]
    RateLimited {
        /// Time until the window resets.
        wait: Duration,
    },
    /// Logging in to the platform failed (bad credentials, revoked app).
    #[error("authentication failed: {0}")]
    Auth(String),
    /// A live stream broke off, went silent past its stall timeout or was closed by
    /// the platform; the source reconnects at its next fetch.
    #[error("stream disconnected: {reason}")]
    Disconnected {
        /// What ended it (not escaped).
        reason: String,
        /// The platform's documented reconnect wait, if it has one.
        reconnect_after: Option<Duration>,
    },
}

impl SourceError {
    /// Whether trying again soon may succeed (timeouts, 408, 429, 5xx, broken connections).
    pub fn is_transient(&self) -> bool {
        match self {
            SourceError::Status { status, .. } => {
                matches!(status, 408 | 425 | 429) || (500..=599).contains(status)
            }
            SourceError::Transport(_) | SourceError::Io(_) => true,
            SourceError::Body(BodyError::Transport(_)) => true,
            SourceError::RateLimited { .. } | SourceError::Disconnected { .. } => true,
            SourceError::Body(BodyError::TooLarge { .. })
            | SourceError::Malformed(_)
            | SourceError::Auth(_) => false,
        }
    }

    /// A live stream's documented reconnect wait (X: 250 ms steps after a network
    /// error), which takes the place of the generic backoff: a stream must be back in
    /// seconds, not after the poll backoff's first step.
    pub fn reconnect_after(&self) -> Option<Duration> {
        match self {
            SourceError::Disconnected {
                reconnect_after, ..
            } => *reconnect_after,
            _ => None,
        }
    }

    /// The wait the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SourceError::Status { retry_after, .. } => *retry_after,
            SourceError::RateLimited { wait } => Some(*wait),
            SourceError::Disconnected {
                reconnect_after, ..
            } => *reconnect_after,
            _ => None,
        }
    }
}

/// Shared resources a source may need when it is built.
#[derive(Clone)]
pub struct SourceContext {
    /// HTTP client with the configured timeout and User-Agent.
    pub http: reqwest::Client,
    /// Cap on a decoded response body.
    pub max_body_bytes: u64,
    /// The watch list in force, from which sources build their search queries at
    /// each fetch (a reload swaps it).
    pub keywords: SharedRules,
}

/// The watch list in force, swapped whole by a reload.
pub type SharedRules = Arc<arc_swap::ArcSwap<KeywordRules>>;

/// Validates an `http(s)` URL option, naming `key` on error.
pub fn parse_http_url(key: &str, url: &str) -> Result<reqwest::Url, FieldError> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(parsed),
        Ok(_) => Err(FieldError::new(
            key,
            format!("`{url}` is not an http(s) URL"),
        )),
        Err(err) => Err(FieldError::new(key, format!("invalid URL `{url}`: {err}"))),
    }
}

/// Builds the running source of a validated configuration.
pub fn build(config: &SourceConfig, context: &SourceContext) -> Box<dyn Source> {
    config.kind.build(config.name.clone(), context)
}

/// `host, N queries` (or `queries from keywords`) for `mentiond check`.
fn describe_queries(base_url: &reqwest::Url, what: &str, queries: &[String]) -> String {
    let host = base_url.host_str().unwrap_or("?");
    if queries.is_empty() {
        format!("{host}, {what} from keywords")
    } else {
        format!("{host}, {} {what}", queries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_classification() {
        let status = |status| SourceError::Status {
            status,
            retry_after: None,
        };
        for code in [408, 429, 500, 502, 503] {
            assert!(status(code).is_transient(), "{code}");
        }
        for code in [400, 401, 403, 404, 410] {
            assert!(!status(code).is_transient(), "{code}");
        }
        assert!(!SourceError::Malformed("x".into()).is_transient());
        assert!(!SourceError::Body(BodyError::TooLarge { limit: 1 }).is_transient());
    }

    #[test]
    fn unknown_kind_names_the_kind_key() {
        let err = SourceKind::parse("rsss", serde_json::Map::new()).unwrap_err();
        assert_eq!(err.key, "kind");
        assert!(err.message.contains("feed, jsonl, hackernews"));
        // Every kind `parse` accepts is listed, reddit included (it once was missing).
        for kind in SourceKind::KINDS {
            assert!(
                err.message.contains(kind),
                "{kind} missing from {}",
                err.message
            );
        }
        assert!(SourceKind::KINDS.contains(&"reddit"));
    }
}

/// Log capture for the sources' unit tests.
/// What the sources' unit tests share: a context that reaches nothing, and the
/// project's recorded payloads.
#[cfg(test)]
pub(crate) mod test_support {
    use super::SourceContext;

    /// A source context with a default client and no keywords.
    pub fn context() -> SourceContext {
        SourceContext {
            http: reqwest::Client::new(),
            max_body_bytes: 1024,
            keywords: std::sync::Arc::new(Default::default()),
        }
    }

    /// A file of `tests/fixtures`.
    pub fn fixture(relative: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(relative),
        )
        .unwrap_or_else(|err| panic!("{relative}: {err}"))
    }

    /// Fuzzes one platform item: mutants of each item of the JSON array at `pointer`
    /// in `fixtures` are decoded as the source decodes a page's items
    /// (`decode_items`, which skips what it cannot read) and given to `to_post`.
    pub fn fuzz_items<T: serde::de::DeserializeOwned>(
        target: &str,
        fixtures: &[&str],
        pointer: &str,
        to_post: impl Fn(T),
    ) {
        let seeds = items(fixtures, pointer);
        let seeds: Vec<&[u8]> = seeds.iter().map(Vec::as_slice).collect();
        let name: crate::model::SourceName = "fuzz".into();
        crate::fuzz::run(target, &seeds, |input| {
            if let Ok(item) = serde_json::from_slice::<serde_json::Value>(input) {
                for item in super::api::decode_items::<T>(&name, vec![item]) {
                    to_post(item);
                }
            }
        });
    }

    /// Each item of the JSON array at `pointer` in the fixtures, as bytes.
    fn items(fixtures: &[&str], pointer: &str) -> Vec<Vec<u8>> {
        fixtures
            .iter()
            .flat_map(|relative| {
                let page: serde_json::Value = serde_json::from_slice(&fixture(relative)).unwrap();
                page.pointer(pointer)
                    .and_then(serde_json::Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|item| item.to_string().into_bytes())
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod test_log {
    use std::sync::{Arc, Mutex};

    /// Collects what is logged on this thread while the guard of [`Captured::start`] lives.
    #[derive(Clone, Default)]
    pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        /// Captures events at `level` and above on this thread until the guard drops.
        pub(crate) fn start(
            level: tracing::Level,
        ) -> (Captured, tracing::subscriber::DefaultGuard) {
            let log = Captured::default();
            let writer = log.clone();
            let guard = tracing::subscriber::set_default(
                tracing_subscriber::fmt()
                    .with_writer(move || writer.clone())
                    .with_max_level(level)
                    .with_ansi(false)
                    .finish(),
            );
            (log, guard)
        }

        /// Everything captured so far.
        pub(crate) fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }

        /// How often `needle` occurs in what was captured.
        pub(crate) fn count(&self, needle: &str) -> usize {
            self.text().matches(needle).count()
        }
    }
}
