//! Bluesky in real time: a Jetstream WebSocket (`/subscribe?wantedCollections=
//! app.bsky.feed.post`) read by the one poll loop like any other source.
//!
//! The source keeps its open connection in a [`Stream`] between fetches and reads it
//! like the other stream sources, through [`live`](super::live): the WebSocket is a
//! [`Frames`] implementation (a message per frame), so the read window ([`WINDOW`]),
//! the stall timer, the per-page dedup and the first-run rule are theirs. A fetch
//! connects when there is no connection (to the next of `hosts` after a failure),
//! then reads one window and returns its posts with the newest `time_us` seen as the
//! cursor and `more`, so the loop fetches again as soon as the page is committed.
//! While the pipeline commits, frames wait in the socket's buffers (the kernel's,
//! then TCP flow control holds the server back): that is the backpressure, and it
//! needs no task of its own.
//!
//! - On a first run (no cursor) the stream starts live and its first window is the
//!   catch-up ([`end_first_run`](super::live::end_first_run)): what it holds older than `poll.backfill` is stored
//!   without alerts, everything after it alerts.
//! - Only post creates become posts; deletes, updates, other collections, `identity`
//!   and `account` events only move the cursor (an `identity` event of a brand's own
//!   account updates its handle).
//! - A reconnect asks for `cursor = committed time_us − rewind`; what is replayed is
//!   stored once (posts are unique by source and id), so nothing is lost or doubled.
//! - No frame at all (WebSocket pings count) for `stall_timeout` (which also bounds
//!   connecting), a close, a network error or a refused handshake drop the
//!   connection and fail a fetch with a transient error (the posts read before it
//!   are handed on first), so the loop's backoff and health apply before the next
//!   host is tried.
//! - With `zstd_dictionary` (Jetstream's own dictionary, a file the user downloads)
//!   the server is asked to `compress`, and each binary frame is decompressed with
//!   it; a frame that does not decompress is logged and skipped like a malformed one.
//! - A cursor older than the server keeps (about 36 h) is clamped by the server
//!   without a word; the first event of a connection far after the cursor is logged.
//! - The author's handle is not in the events: posts carry the DID. The handles of
//!   the brands' `own_handles` that look like Bluesky handles are resolved to DIDs
//!   (`com.atproto.identity.resolveHandle`), so a brand's reply seen on the stream
//!   carries its handle and acknowledges the hit it answers.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tracing::{info, warn};

use super::api::{ApiClient, RateLimitHeaders, warn_dropped};
use super::bluesky::{PostRecord, record_to_post};
use super::live::{Frames, Step, Stream, Window, before_stall, disconnected};
use super::{Page, SharedRules, Source, SourceContext, SourceError, parse_http_url};
use crate::escape;
use crate::keywords::KeywordRules;
use crate::model::{Author, Post, SourceName, decode_lenient};
use crate::settings::{DurationSetting, FieldError, parse_options};

/// The public Jetstream instances, tried in this order.
pub const DEFAULT_HOSTS: [&str; 4] = [
    "wss://jetstream1.us-east.bsky.network/subscribe",
    "wss://jetstream2.us-east.bsky.network/subscribe",
    "wss://jetstream1.us-west.bsky.network/subscribe",
    "wss://jetstream2.us-west.bsky.network/subscribe",
];

/// Where `own_handles` are resolved to DIDs unless `resolve_url` says otherwise.
pub const DEFAULT_RESOLVE_URL: &str = "https://public.api.bsky.app";

/// A page closes at 500 posts or 500 ms after its first post; a fetch without posts
/// returns after 5 s, so a quiet stream still reports its health and commits the
/// cursor that `identity` and `account` events move.
pub const WINDOW: Window = Window {
    batch: 500,
    linger: Duration::from_millis(500),
    quiet: Duration::from_secs(5),
};

/// Room over `max_message_bytes` for the JSON envelope of an event.
const FRAME_MARGIN: usize = 64 * 1024;

/// A first event this far after the requested cursor means the server clamped it.
const CLAMP_GAP_US: u64 = 3_600_000_000;

/// Own handles that failed to resolve are tried again after this.
const RESOLVE_RETRY: Duration = Duration::from_secs(600);

/// The only collection asked for.
const POSTS: &str = "app.bsky.feed.post";

/// Validated `kind = "bluesky_jetstream"` options.
#[derive(Debug, Clone)]
pub struct JetstreamSettings {
    /// `ws(s)://…/subscribe` endpoints; the next one is tried after a failure.
    pub hosts: Vec<reqwest::Url>,
    /// No frame for this long drops the connection.
    pub stall_timeout: Duration,
    /// A reconnect resumes this long before the committed cursor.
    pub rewind: Duration,
    /// Largest event accepted; the server is asked to drop larger ones.
    pub max_message_bytes: usize,
    /// Where `own_handles` are resolved (an XRPC root, `https://public.api.bsky.app`).
    pub resolve_url: reqwest::Url,
    /// Jetstream's zstd dictionary: set, the stream is asked to `compress`.
    pub zstd_dictionary: Option<ZstdDictionary>,
}

/// The contents of a `zstd_dictionary` file (its `Debug` shows the path and size only).
#[derive(Clone)]
pub struct ZstdDictionary {
    /// Where it was read from.
    pub path: PathBuf,
    /// The dictionary.
    pub bytes: Arc<[u8]>,
}

impl std::fmt::Debug for ZstdDictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ZstdDictionary({}, {} bytes)",
            self.path.display(),
            self.bytes.len()
        )
    }
}

impl ZstdDictionary {
    /// Reads the dictionary file at `path`; a missing, unreadable or empty file, or
    /// one zstd cannot load, is an error naming `key`.
    pub fn read(key: &str, path: &str) -> Result<ZstdDictionary, FieldError> {
        let bytes = std::fs::read(path)
            .map_err(|err| FieldError::new(key, format!("cannot read `{path}`: {err}")))?;
        if bytes.is_empty() {
            return Err(FieldError::new(key, format!("`{path}` is empty")));
        }
        zstd::bulk::Decompressor::with_dictionary(&bytes).map_err(|err| {
            FieldError::new(key, format!("`{path}` is not a zstd dictionary: {err}"))
        })?;
        Ok(ZstdDictionary {
            path: PathBuf::from(path),
            bytes: bytes.into(),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    hosts: Option<Vec<String>>,
    stall_timeout: Option<DurationSetting>,
    rewind: Option<DurationSetting>,
    max_message_bytes: Option<usize>,
    resolve_url: Option<String>,
    zstd_dictionary: Option<String>,
}

impl JetstreamSettings {
    /// Validates the options; every one has a default (the public instances, 30 s
    /// stall timeout, 5 s rewind, 1 MiB messages, no compression). A
    /// `zstd_dictionary` is read here, so a missing file is a located problem.
    pub fn parse(options: Map<String, Value>) -> Result<JetstreamSettings, FieldError> {
        let options: Options = parse_options(options)?;
        let hosts = match options.hosts {
            Some(hosts) if hosts.is_empty() => {
                return Err(FieldError::new("hosts", "must name at least one host"));
            }
            Some(hosts) => hosts,
            None => DEFAULT_HOSTS.iter().map(|host| host.to_string()).collect(),
        };
        let hosts = hosts
            .iter()
            .map(|host| parse_ws_url("hosts", host))
            .collect::<Result<Vec<_>, _>>()?;
        let mut problems = Vec::new();
        let stall_timeout = options
            .stall_timeout
            .map_or(Duration::from_secs(30), |value| {
                value.read("stall_timeout", true, &mut problems)
            });
        let rewind = options.rewind.map_or(Duration::from_secs(5), |value| {
            value.read("rewind", false, &mut problems)
        });
        if let Some(problem) = problems.pop() {
            return Err(problem);
        }
        let max_message_bytes = options.max_message_bytes.unwrap_or(1 << 20);
        if max_message_bytes < 4096 {
            return Err(FieldError::new(
                "max_message_bytes",
                "must be at least 4096",
            ));
        }
        Ok(JetstreamSettings {
            hosts,
            stall_timeout,
            rewind,
            max_message_bytes,
            resolve_url: parse_http_url(
                "resolve_url",
                options
                    .resolve_url
                    .as_deref()
                    .unwrap_or(DEFAULT_RESOLVE_URL),
            )?,
            zstd_dictionary: options
                .zstd_dictionary
                .map(|path| ZstdDictionary::read("zstd_dictionary", &path))
                .transpose()?,
        })
    }
}

/// Validates a `ws(s)` URL option, naming `key` on error.
fn parse_ws_url(key: &str, url: &str) -> Result<reqwest::Url, FieldError> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "ws" | "wss") => Ok(parsed),
        Ok(_) => Err(FieldError::new(key, format!("`{url}` is not a ws(s) URL"))),
        Err(err) => Err(FieldError::new(key, format!("invalid URL `{url}`: {err}"))),
    }
}

/// One Jetstream event (v1 wire; the v2 `cursor` field and others are ignored).
#[derive(Deserialize)]
struct Event {
    did: String,
    time_us: u64,
    kind: String,
    commit: Option<Commit>,
    identity: Option<Identity>,
}

#[derive(Deserialize)]
struct Commit {
    operation: String,
    collection: String,
    rkey: String,
    record: Option<Value>,
}

#[derive(Deserialize)]
struct Identity {
    handle: Option<String>,
}

#[derive(Deserialize)]
struct Resolved {
    did: String,
}

/// What one frame of the stream carries, for the source and the benchmark.
#[derive(Debug)]
pub enum Frame {
    /// A new post, with its event time.
    Post(Box<Post>, u64),
    /// An account's handle is now `handle`.
    Handle {
        /// The account.
        did: String,
        /// Its new handle.
        handle: String,
        /// Event time.
        time_us: u64,
    },
    /// Anything else (a delete, a like, an account event): only its time counts.
    Other(u64),
}

impl Frame {
    /// The event's `time_us`.
    pub fn time_us(&self) -> u64 {
        match self {
            Frame::Post(_, time_us) | Frame::Handle { time_us, .. } | Frame::Other(time_us) => {
                *time_us
            }
        }
    }
}

/// Decodes one text frame of `source`'s stream. `handles` names the accounts whose
/// handle is known (the brands' own), so their posts carry it. An invalid optional
/// field of a post record is dropped (and warned about once per field); an event or
/// record that cannot be read at all is an error, which the caller logs and skips.
pub fn parse_frame(
    source: &SourceName,
    text: &str,
    handles: &HashMap<String, String>,
) -> Result<Frame, String> {
    let event: Event = serde_json::from_str(text).map_err(|err| err.to_string())?;
    let time_us = event.time_us;
    match (event.kind.as_str(), event.commit, event.identity) {
        ("commit", Some(commit), _)
            if commit.operation == "create" && commit.collection == POSTS =>
        {
            let record = commit.record.ok_or("a post create without a record")?;
            let (record, dropped) =
                decode_lenient::<PostRecord>(record).map_err(|err| err.to_string())?;
            warn_dropped(source, &dropped);
            let author = Author {
                handle: handles.get(&event.did).cloned(),
                id: Some(event.did.clone()),
                name: None,
                followers: None,
            };
            let uri = format!("at://{}/{POSTS}/{}", event.did, commit.rkey);
            let seen_at = i64::try_from(time_us)
                .ok()
                .and_then(DateTime::<Utc>::from_timestamp_micros)
                .unwrap_or_default();
            let post = record_to_post(source, uri, author, record, None, seen_at);
            Ok(Frame::Post(Box::new(post), time_us))
        }
        (
            "identity",
            _,
            Some(Identity {
                handle: Some(handle),
            }),
        ) => Ok(Frame::Handle {
            did: event.did,
            handle,
            time_us,
        }),
        _ => Ok(Frame::Other(time_us)),
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An open stream: the frames are its text and binary messages.
struct Connection {
    socket: Socket,
    /// When the last frame of any kind arrived.
    last_frame: Instant,
    stall_timeout: Duration,
}

impl Frames for Connection {
    type Frame = Message;

    async fn next(&mut self, deadline: Instant) -> Result<Option<Message>, SourceError> {
        loop {
            let started = Instant::now();
            let stall_at = self.last_frame + self.stall_timeout;
            let read = before_stall(self.socket.next(), deadline, stall_at, self.stall_timeout);
            let message = match read.await? {
                None => return Ok(None),
                Some(None) => return Err(disconnected("stream ended by the server")),
                Some(Some(Err(err))) => return Err(ws_error(err, started.elapsed())),
                Some(Some(Ok(message))) => message,
            };
            self.last_frame = Instant::now();
            match message {
                Message::Text(_) | Message::Binary(_) => return Ok(Some(message)),
                Message::Close(frame) => {
                    let why = frame.map_or_else(String::new, |frame| {
                        format!(
                            ": {} {}",
                            u16::from(frame.code),
                            escape::log(frame.reason.as_str())
                        )
                    });
                    return Err(disconnected(&format!("stream closed by the server{why}")));
                }
                // Pings are answered by the socket on its next read; they, and pongs,
                // only show that the connection is alive.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }
}

/// What turns the stream's messages into posts, and what it learns from them.
struct Decoder {
    name: SourceName,
    /// DID → handle of the brands' own accounts.
    handles: HashMap<String, String>,
    /// The cursor asked for, until the connection's first event was compared with it.
    requested: Option<u64>,
    /// The newest `time_us` seen: the cursor of the page being read.
    newest: Option<u64>,
    /// Frames skipped as malformed since start.
    malformed: u64,
    /// Decompresses binary frames when the stream is compressed.
    decompressor: Option<zstd::bulk::Decompressor<'static>>,
    /// Largest decompressed frame accepted.
    max_frame: usize,
}

impl Decoder {
    /// One message of the stream: a post is an item; every event moves the cursor.
    fn message(&mut self, message: Message) -> Step<Post> {
        match message {
            Message::Text(text) => self.text(text.as_str()),
            Message::Binary(data) => {
                let Some(decompressor) = self.decompressor.as_mut() else {
                    self.skipped(None, "binary frame skipped (compression is not asked for)");
                    return Step::Skip;
                };
                let text = decompressor
                    .decompress(&data, self.max_frame)
                    .map_err(|err| err.to_string())
                    .and_then(|bytes| String::from_utf8(bytes).map_err(|err| err.to_string()));
                match text {
                    Ok(text) => self.text(&text),
                    Err(err) => {
                        self.skipped(Some(&err), "compressed frame skipped");
                        Step::Skip
                    }
                }
            }
            _ => Step::Skip,
        }
    }

    /// Counts a frame skipped; logs it at the 1st, 2nd, 4th… so a changed wire
    /// format is reported, but not per frame.
    fn skipped(&mut self, error: Option<&str>, message: &str) {
        self.malformed += 1;
        if self.malformed.is_power_of_two() {
            let error = error.map(escape::log);
            warn!(source = %self.name, error = error.as_ref().map(tracing::field::display), count = self.malformed, "{message}");
        }
    }

    fn text(&mut self, text: &str) -> Step<Post> {
        let frame = match parse_frame(&self.name, text, &self.handles) {
            Ok(frame) => frame,
            Err(err) => {
                self.skipped(Some(&err), "malformed frame skipped");
                return Step::Skip;
            }
        };
        let time_us = frame.time_us();
        if let Some(requested) = self.requested.take()
            && time_us > requested.saturating_add(CLAMP_GAP_US)
        {
            warn!(
                source = %self.name,
                requested = %micros_to_rfc3339(requested),
                first = %micros_to_rfc3339(time_us),
                "cursor older than the server keeps, posts between were missed"
            );
        }
        self.newest = Some(self.newest.map_or(time_us, |newest| newest.max(time_us)));
        match frame {
            Frame::Post(post, _) => Step::Item(*post),
            Frame::Handle { did, handle, .. } => {
                if let Some(known) = self.handles.get_mut(&did) {
                    *known = handle;
                }
                Step::Skip
            }
            Frame::Other(_) => Step::Skip,
        }
    }
}

/// The brands' own accounts in `rules`: those written as DIDs (DID → itself) and the
/// Bluesky handles (containing a dot) still to resolve, lowercase without `@`.
fn own_accounts(rules: &KeywordRules) -> (HashMap<String, String>, Vec<String>) {
    let mut handles = HashMap::new();
    let mut unresolved = Vec::new();
    for brand in &rules.brands {
        for handle in &brand.filters.own_handles {
            let handle = handle.trim_start_matches('@').to_lowercase();
            if handle.starts_with("did:") {
                handles.insert(handle.clone(), handle);
            } else if handle.contains('.') && !unresolved.contains(&handle) {
                unresolved.push(handle);
            }
        }
    }
    (handles, unresolved)
}

/// The Jetstream source.
pub struct JetstreamSource {
    name: SourceName,
    settings: JetstreamSettings,
    api: ApiClient,
    stream: Stream<Connection>,
    /// The host of the open (or last) connection, for errors.
    host: String,
    /// Index into `hosts` of the next connection attempt.
    next_host: usize,
    /// The watch list, read again after a reload (own handles may change).
    rules: SharedRules,
    /// The watch list `handles` and `unresolved` were derived from.
    seen: Arc<KeywordRules>,
    /// Own handles still to resolve (lowercase, no `@`).
    unresolved: Vec<String>,
    /// When resolving last failed.
    resolve_failed_at: Option<Instant>,
    decoder: Decoder,
}

impl JetstreamSource {
    /// A Jetstream source named `name`. The brands' `own_handles` that contain a dot
    /// (Bluesky handles) are resolved on the first connection; one written as a DID
    /// (`did:plc:…`) is used as it is.
    pub fn new(
        name: SourceName,
        settings: JetstreamSettings,
        context: &SourceContext,
    ) -> JetstreamSource {
        let seen = context.keywords.load_full();
        let (handles, unresolved) = own_accounts(&seen);
        let decompressor = settings.zstd_dictionary.as_ref().and_then(|dictionary| {
            // Loaded once when the settings were read; a failure now cannot be one.
            zstd::bulk::Decompressor::with_dictionary(&dictionary.bytes).ok()
        });
        JetstreamSource {
            decoder: Decoder {
                name: name.clone(),
                handles,
                requested: None,
                newest: None,
                malformed: 0,
                decompressor,
                max_frame: settings.max_message_bytes + FRAME_MARGIN,
            },
            name,
            settings,
            api: ApiClient::new(context, RateLimitHeaders::Bluesky),
            stream: Stream::new(WINDOW),
            host: String::new(),
            next_host: 0,
            rules: Arc::clone(&context.keywords),
            seen,
            unresolved,
            resolve_failed_at: None,
        }
    }

    /// Resolves the own handles not resolved yet; a failure is logged and tried
    /// again after [`RESOLVE_RETRY`] (the stream goes on without them meanwhile).
    async fn resolve_own_handles(&mut self) {
        let current = self.rules.load_full();
        if !Arc::ptr_eq(&current, &self.seen) {
            // A reload: the brands' own accounts are derived again.
            (self.decoder.handles, self.unresolved) = own_accounts(&current);
            self.resolve_failed_at = None;
            self.seen = current;
        }
        if self.unresolved.is_empty()
            || self
                .resolve_failed_at
                .is_some_and(|at| at.elapsed() < RESOLVE_RETRY)
        {
            return;
        }
        let mut still = Vec::new();
        for handle in std::mem::take(&mut self.unresolved) {
            let mut url = self.settings.resolve_url.clone();
            url.set_path("/xrpc/com.atproto.identity.resolveHandle");
            url.query_pairs_mut().append_pair("handle", &handle);
            let request = self.api.http().get(url);
            match self.api.json::<Resolved>(request).await {
                Ok(reply) => {
                    info!(source = %self.name, handle = %handle, did = %escape::log(&reply.body.did), "own handle resolved");
                    self.decoder.handles.insert(reply.body.did, handle);
                }
                Err(err) => {
                    warn!(source = %self.name, handle = %handle, error = %escape::log(&err.to_string()), "cannot resolve own handle");
                    still.push(handle);
                }
            }
        }
        if !still.is_empty() {
            self.resolve_failed_at = Some(Instant::now());
        }
        self.unresolved = still;
    }

    /// Opens the stream on the next host, resuming `rewind` before `committed`.
    async fn connect(&mut self, committed: Option<u64>) -> Result<(), SourceError> {
        self.resolve_own_handles().await;
        let hosts = &self.settings.hosts;
        let host = &hosts[self.next_host % hosts.len()];
        let requested = committed.map(|cursor| {
            cursor.saturating_sub(self.settings.rewind.as_micros().try_into().unwrap_or(0))
        });
        let mut url = host.clone();
        url.query_pairs_mut()
            .append_pair("wantedCollections", POSTS)
            .append_pair(
                "maxMessageSizeBytes",
                &self.settings.max_message_bytes.to_string(),
            );
        if let Some(cursor) = requested {
            url.query_pairs_mut()
                .append_pair("cursor", &cursor.to_string());
        }
        if self.decoder.decompressor.is_some() {
            url.query_pairs_mut().append_pair("compress", "true");
        }
        let host_name = host.host_str().unwrap_or("?").to_string();
        // The server drops larger events itself; the margin covers the JSON envelope.
        let limit = self.settings.max_message_bytes + FRAME_MARGIN;
        let config = WebSocketConfig::default()
            .max_message_size(Some(limit))
            .max_frame_size(Some(limit));
        let started = Instant::now();
        let connecting =
            tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true);
        let outcome = tokio::time::timeout(self.settings.stall_timeout, connecting).await;
        let socket = match outcome {
            Ok(Ok((socket, _response))) => socket,
            failed => {
                self.next_host += 1;
                let err = match failed {
                    Ok(Err(err)) => ws_error(err, started.elapsed()),
                    _ => SourceError::Transport(crate::http::timed_out_after(started.elapsed())),
                };
                return Err(prefix_host(&host_name, err));
            }
        };
        info!(source = %self.name, host = %host_name, cursor = requested, "stream connected");
        self.stream.open(Connection {
            socket,
            last_frame: Instant::now(),
            stall_timeout: self.settings.stall_timeout,
        });
        self.host = host_name;
        self.decoder.requested = requested;
        Ok(())
    }

    /// The connection ended with `err` (and was dropped): the next fetch connects to
    /// the next host.
    fn failed(&mut self, err: SourceError) -> SourceError {
        self.next_host += 1;
        prefix_host(&self.host, err)
    }
}

#[async_trait::async_trait]
impl Source for JetstreamSource {
    fn name(&self) -> &SourceName {
        &self.name
    }

    fn wake(&self) -> Option<Arc<Notify>> {
        self.stream.wake()
    }

    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SourceError> {
        self.stream.ended().map_err(|err| self.failed(err))?;
        let committed = match cursor.map(str::parse::<u64>) {
            Some(Ok(cursor)) => Some(cursor),
            Some(Err(_)) => {
                warn!(source = %self.name, "cursor is not a time_us, starting live");
                None
            }
            None => None,
        };
        if !self.stream.is_open() {
            self.connect(committed).await?;
        }
        self.decoder.newest = committed;
        let decoder = &mut self.decoder;
        let read = self.stream.read(|message| decoder.message(message)).await;
        let posts = read.map_err(|err| self.failed(err))?;
        let cursor = self.decoder.newest.map(|newest| newest.to_string());
        Ok(self.stream.page(posts, cursor, committed.is_none()))
    }
}

/// A WebSocket failure as a [`SourceError`]: a refused handshake keeps its status
/// (and `Retry-After`); everything else is a transient transport failure.
fn ws_error(err: tungstenite::Error, elapsed: Duration) -> SourceError {
    match err {
        tungstenite::Error::Http(response) => SourceError::Status {
            status: response.status().as_u16(),
            retry_after: crate::http::retry_after(response.headers(), Utc::now()),
        },
        tungstenite::Error::Io(io) => SourceError::Transport(
            crate::http::describe_io(&io, elapsed).unwrap_or_else(|| io.to_string()),
        ),
        other => SourceError::Transport(other.to_string()),
    }
}

/// Names the host in a transport failure or a dropped connection.
fn prefix_host(host: &str, err: SourceError) -> SourceError {
    match err {
        SourceError::Transport(cause) => SourceError::Transport(format!("{host}: {cause}")),
        SourceError::Disconnected {
            reason,
            reconnect_after,
        } => SourceError::Disconnected {
            reason: format!("{host}: {reason}"),
            reconnect_after,
        },
        other => other,
    }
}

fn micros_to_rfc3339(micros: u64) -> String {
    i64::try_from(micros)
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_micros)
        .map_or_else(|| micros.to_string(), |at| at.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = include_str!("../../tests/fixtures/bluesky/jetstream_stream.jsonl");

    fn frames(text: &str) -> Vec<Frame> {
        let handles = HashMap::from([(
            "did:plc:b2nd4lq6xe8wstv3kfrz7uhm".to_string(),
            "bora.bsky.social".to_string(),
        )]);
        text.lines()
            .map(|line| parse_frame(&"bluesky".into(), line, &handles).unwrap())
            .collect()
    }

    fn posts(frames: Vec<Frame>) -> Vec<Post> {
        frames
            .into_iter()
            .filter_map(|frame| match frame {
                Frame::Post(post, _) => Some(*post),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn post_creates_become_posts_and_every_other_event_only_moves_the_cursor() {
        let frames = frames(STREAM);
        assert_eq!(frames.len(), 16);
        let times: Vec<u64> = frames.iter().map(Frame::time_us).collect();
        assert!(
            times.windows(2).any(|pair| pair[1] < pair[0]),
            "the fixture has time_us out of order, like the relay"
        );
        let handle_changes = frames
            .iter()
            .filter(|frame| matches!(frame, Frame::Handle { handle, .. } if handle == "cem.bsky.social"))
            .count();
        assert_eq!(handle_changes, 1, "the identity event");
        let posts = posts(frames);
        let ids: Vec<&str> = posts
            .iter()
            .map(|post| post.id.rsplit('/').next().unwrap())
            .collect();
        // Not the like, repost, delete, update (an edit), identity or account events.
        assert_eq!(
            ids,
            [
                "3mzqa1complaint",
                "3mzqb2reply",
                "3mzqc1japan",
                "3mzqd1link",
                "3mzqe1tarmac",
                "3mzqa2quote",
                "3mzqd2german",
                "3mzqe2prayer",
                "3mzqc2typo",
                "3mzqb3chat"
            ]
        );
        let reply = &posts[1];
        assert_eq!(
            reply.id,
            "at://did:plc:b2nd4lq6xe8wstv3kfrz7uhm/app.bsky.feed.post/3mzqb2reply"
        );
        assert_eq!(
            reply.url.as_deref(),
            Some("https://bsky.app/profile/did:plc:b2nd4lq6xe8wstv3kfrz7uhm/post/3mzqb2reply")
        );
        assert_eq!(
            reply.in_reply_to.as_deref(),
            Some("at://did:plc:a7kq3mzr2xw4c5ynhtp6vbde/app.bsky.feed.post/3mzqa1complaint")
        );
        assert_eq!(reply.kind.as_deref(), Some("reply"));
        assert_eq!(reply.lang.as_deref(), Some("tr"));
        assert!(reply.text.starts_with("@cem.bsky.social aynen, Turkcell"));
        let author = reply.author.as_ref().unwrap();
        assert_eq!(
            author.id.as_deref(),
            Some("did:plc:b2nd4lq6xe8wstv3kfrz7uhm")
        );
        assert_eq!(
            author.handle.as_deref(),
            Some("bora.bsky.social"),
            "a known handle"
        );
        assert_eq!(
            posts[0].author.as_ref().unwrap().handle,
            None,
            "not in the event"
        );
        assert_eq!(
            posts[0].created_at.unwrap().to_rfc3339(),
            "2026-11-23T02:13:19.100+00:00"
        );
        // The link facet's full URI replaces the shortened text, so the brand in it matches.
        assert_eq!(
            posts[3].text,
            "Bagajım üç gündür kayıp, şikayetim burada: \
             https://www.sikayetvar.com/turk-hava-yollari/bagajim-uc-gundur-kayip kimse dönmüyor"
        );
        assert_eq!(
            posts[4].text,
            "4 hours on the tarmac and not a single update #THY #travel"
        );
        assert_eq!(posts[5].kind.as_deref(), Some("quote"));
        assert_eq!(posts[5].lang, None);
        assert_eq!(posts[8].lang.as_deref(), Some("tr"), "the first of two");
    }

    #[test]
    fn malformed_frames_are_errors_and_bad_optional_fields_are_dropped() {
        let handles = HashMap::new();
        let parse = |line: &str| parse_frame(&"bluesky".into(), line, &handles);
        for bad in [
            "not json {",
            r#"{"did":"did:plc:x","time_us":"soon","kind":"commit"}"#,
            r#"{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"k"}}"#,
            r#"{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"k","record":{"langs":["tr"]}}}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let odd = r#"{"did":"did:plc:x","time_us":7,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"k","record":{"text":"Turkcell","langs":5,"createdAt":"dün","facets":[{"index":"x"}]}}}"#;
        let Ok(Frame::Post(post, 7)) = parse(odd) else {
            panic!("an invalid optional field is dropped, the post kept");
        };
        assert_eq!(
            (post.text.as_str(), post.lang.as_deref()),
            ("Turkcell", None)
        );
        assert_eq!(
            post.created_at.unwrap().timestamp_micros(),
            7,
            "an unreadable createdAt falls back to the event time"
        );
        // Events of kinds that do not exist yet only move the cursor.
        assert!(matches!(
            parse(r#"{"did":"did:plc:x","time_us":9,"kind":"sync","sync":{}}"#),
            Ok(Frame::Other(9))
        ));
    }

    #[test]
    fn the_recorded_capture_maps_every_post_create() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/bluesky/jetstream_v1_capture_2026-07-04.jsonl"
        );
        let Ok(capture) = std::fs::read_to_string(path) else {
            eprintln!("skipped: {path} not available");
            return;
        };
        let creates = capture
            .lines()
            .filter(|line| {
                line.contains(r#""operation":"create","collection":"app.bsky.feed.post""#)
            })
            .count();
        let posts = posts(frames(&capture));
        assert!(creates > 10, "{creates}");
        assert_eq!(posts.len(), creates);
        assert!(posts.iter().all(|post| {
            post.url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://bsky.app/profile/did:"))
        }));
        assert!(posts.iter().any(|post| post.lang.as_deref() == Some("tr")));
    }

    /// A one-connection Jetstream stand-in on 127.0.0.1 that sends `messages`, then
    /// stays open and quiet; and a source reading it.
    async fn serve(messages: Vec<Message>) -> JetstreamSource {
        serve_with(messages, serde_json::json!({}), Arc::default()).await
    }

    /// [`serve`] with more source options; the request's URI is written to `uri`.
    async fn serve_with(
        messages: Vec<Message>,
        more: Value,
        uri: Arc<std::sync::Mutex<String>>,
    ) -> JetstreamSource {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/subscribe", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            #[allow(clippy::result_large_err)]
            let record = move |request: &Request, response: Response| {
                *uri.lock().unwrap() = request.uri().to_string();
                Ok(response)
            };
            let mut socket = tokio_tungstenite::accept_hdr_async(tcp, record)
                .await
                .unwrap();
            for message in messages {
                socket.send(message).await.unwrap();
            }
            std::future::pending::<()>().await;
        });
        let mut options = serde_json::json!({"hosts": [url], "resolve_url": "http://127.0.0.1:9"});
        options
            .as_object_mut()
            .unwrap()
            .extend(more.as_object().unwrap().clone());
        let settings = JetstreamSettings::parse(options.as_object().unwrap().clone()).unwrap();
        let context = SourceContext {
            http: crate::http::client("mentiond-test/0", Duration::from_secs(5), true).unwrap(),
            max_body_bytes: 1 << 20,
            keywords: Arc::new(arc_swap::ArcSwap::from_pointee(
                crate::keywords::KeywordRules::default(),
            )),
        };
        JetstreamSource::new("bluesky".into(), settings, &context)
    }

    #[tokio::test]
    async fn a_cursor_the_server_clamped_is_logged_once_and_the_stream_goes_on() {
        let committed: u64 = 1_795_000_000_000_000;
        // The server starts two hours after the cursor asked for, as Jetstream does
        // with a cursor older than it keeps.
        let events: Vec<Message> = STREAM
            .lines()
            .take(3)
            .map(|line| {
                let mut event: Value = serde_json::from_str(line).unwrap();
                let shifted = event["time_us"].as_u64().unwrap() - 1_795_400_000_000_000
                    + committed
                    + 7_200_000_000;
                event["time_us"] = shifted.into();
                Message::text(event.to_string())
            })
            .collect();
        let mut source = serve(events).await;
        let (log, _guard) = crate::sources::test_log::Captured::start(tracing::Level::WARN);
        let page = source.fetch(Some(&committed.to_string())).await.unwrap();
        assert_eq!(
            page.posts.len(),
            2,
            "the complaint and the reply; not the like"
        );
        assert!(page.more);
        assert_eq!(
            page.cursor,
            Some((committed + 7_200_000_000 + 430_000).to_string())
        );
        assert_eq!(
            log.count("cursor older than the server keeps, posts between were missed"),
            1,
            "{}",
            log.text()
        );
    }

    #[tokio::test]
    async fn malformed_and_binary_frames_are_logged_and_skipped() {
        let lines: Vec<&str> = STREAM.lines().collect();
        let messages = vec![
            Message::text("not json {"),
            Message::binary(vec![0x28, 0xb5, 0x2f, 0xfd]),
            Message::text(lines[0]),
            Message::text(r#"{"did":"did:plc:x","time_us":"soon","kind":"commit"}"#),
            Message::text(lines[2]),
        ];
        let mut source = serve(messages).await;
        let (log, _guard) = crate::sources::test_log::Captured::start(tracing::Level::WARN);
        let page = source.fetch(None).await.unwrap();
        assert_eq!(
            page.posts.len(),
            2,
            "the stream goes on past every bad frame"
        );
        let text = log.text();
        // Counted together, and logged at the 1st, 2nd, 4th… so a changed wire format
        // cannot flood the log: the 3rd bad frame is not logged.
        assert_eq!(log.count("malformed frame skipped"), 1, "{text}");
        assert_eq!(log.count("binary frame skipped"), 1, "{text}");
        assert_eq!(log.count(" WARN "), 2, "{text}");
        assert!(text.contains("source=bluesky"), "{text}");
    }

    /// A dictionary trained on the fixture's own events (varied, so zstd has enough
    /// samples), as Jetstream's is trained on its events.
    fn trained_dictionary() -> Vec<u8> {
        let samples: Vec<String> = (0..400u64)
            .flat_map(|round| {
                STREAM.lines().map(move |line| {
                    let mut event: Value = serde_json::from_str(line).unwrap();
                    event["time_us"] = (event["time_us"].as_u64().unwrap() + round * 7_919).into();
                    event.to_string()
                })
            })
            .collect();
        zstd::dict::from_samples(&samples, 8 * 1024).unwrap()
    }

    #[tokio::test]
    async fn compressed_frames_are_read_with_the_dictionary_and_a_bad_one_is_skipped() {
        let dictionary = trained_dictionary();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zstd_dictionary");
        std::fs::write(&path, &dictionary).unwrap();
        let mut compressor = zstd::bulk::Compressor::with_dictionary(3, &dictionary).unwrap();
        let lines: Vec<&str> = STREAM.lines().collect();
        let mut compressed =
            |line: &str| Message::binary(compressor.compress(line.as_bytes()).unwrap());
        let messages = vec![
            compressed(lines[0]),
            Message::binary(vec![0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]),
            compressed(lines[1]),
            compressed(lines[2]),
        ];
        let uri = Arc::default();
        let options = serde_json::json!({"zstd_dictionary": path.to_str().unwrap()});
        let mut source = serve_with(messages, options, Arc::clone(&uri)).await;
        let (log, _guard) = crate::sources::test_log::Captured::start(tracing::Level::WARN);
        let page = source.fetch(None).await.unwrap();
        let ids: Vec<&str> = page
            .posts
            .iter()
            .map(|post| post.id.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(
            ids,
            ["3mzqa1complaint", "3mzqb2reply"],
            "the like moves only the cursor"
        );
        assert_eq!(page.cursor, Some(time_us_of(lines[2]).to_string()));
        assert!(uri.lock().unwrap().contains("compress=true"), "{uri:?}");
        let text = log.text();
        assert_eq!(log.count("compressed frame skipped"), 1, "{text}");
        assert_eq!(log.count(" WARN "), 1, "{text}");
    }

    fn time_us_of(line: &str) -> u64 {
        serde_json::from_str::<Value>(line).unwrap()["time_us"]
            .as_u64()
            .unwrap()
    }

    #[test]
    fn a_missing_or_empty_dictionary_file_is_a_problem_of_its_key() {
        let parse = |value: Value| JetstreamSettings::parse(value.as_object().unwrap().clone());
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("absent");
        let err =
            parse(serde_json::json!({"zstd_dictionary": missing.to_str().unwrap()})).unwrap_err();
        assert_eq!(err.key, "zstd_dictionary");
        assert!(err.message.contains("cannot read"), "{}", err.message);
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        let err =
            parse(serde_json::json!({"zstd_dictionary": empty.to_str().unwrap()})).unwrap_err();
        assert_eq!(err.key, "zstd_dictionary");
        let good = dir.path().join("zstd_dictionary");
        std::fs::write(&good, trained_dictionary()).unwrap();
        let settings =
            parse(serde_json::json!({"zstd_dictionary": good.to_str().unwrap()})).unwrap();
        let debug = format!("{:?}", settings.zstd_dictionary.unwrap());
        assert!(
            debug.contains("zstd_dictionary") && debug.contains("bytes"),
            "{debug}"
        );
    }

    #[test]
    fn settings_default_to_the_public_instances_and_refuse_other_schemes() {
        let parse = |value: Value| JetstreamSettings::parse(value.as_object().unwrap().clone());
        let settings = parse(serde_json::json!({})).unwrap();
        assert_eq!(settings.hosts.len(), 4);
        assert_eq!(settings.hosts[0].as_str(), DEFAULT_HOSTS[0]);
        assert_eq!(settings.stall_timeout, Duration::from_secs(30));
        assert_eq!(settings.rewind, Duration::from_secs(5));
        let http = parse(serde_json::json!({"hosts": ["https://jetstream.example/subscribe"]}));
        assert_eq!(http.unwrap_err().key, "hosts");
        assert_eq!(
            parse(serde_json::json!({"hosts": []})).unwrap_err().key,
            "hosts"
        );
        let stall = parse(serde_json::json!({"stall_timeout": "0s"}));
        assert_eq!(stall.unwrap_err().key, "stall_timeout");
        let compress = parse(serde_json::json!({"compress": true}));
        assert_eq!(compress.unwrap_err().key, "compress", "not supported");
    }

    #[test]
    fn fuzzed_jetstream_frames_parse_or_fail_without_panicking() {
        let recorded = String::from_utf8(crate::sources::test_support::fixture(
            "bluesky/jetstream_stream.jsonl",
        ))
        .unwrap();
        let frames: Vec<&[u8]> = recorded.lines().take(20).map(str::as_bytes).collect();
        let source: SourceName = "bluesky".into();
        let handles = HashMap::new();
        crate::fuzz::run("jetstream frame", &frames, |input| {
            let _ = parse_frame(&source, &String::from_utf8_lossy(input), &handles);
        });
    }
}
