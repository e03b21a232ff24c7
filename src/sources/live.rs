//! What every stream source shares (Mastodon SSE, X's filtered stream, Bluesky
//! Jetstream): reading frames from an open connection as they arrive, with one stall
//! timer, batching what a platform's decoder makes of them into pages, and the one
//! first-run rule.
//!
//! A stream source keeps its open connection in a [`Stream`] between fetches: a
//! [`Frames`] implementation, either [`Lines`] (one or more open HTTP responses read
//! line by line) or Jetstream's WebSocket (a message per frame). Each fetch reads one
//! [`read_window`]: it returns once a batch is full, a short `linger` has passed since
//! the batch's first item, or a longer `quiet` window has passed without any item
//! (keep-alives keep the connection but end no batch), so the poll loop commits each
//! batch before the next read (the backpressure) and never spins while the stream is
//! quiet. Any byte or frame (a heartbeat, a WebSocket ping) resets the stall timer
//! ([`before_stall`]); nothing at all for `stall_timeout` is a
//! [`SourceError::Disconnected`], and so is a connection that ends or breaks off.
//! [`Stream::read`] hands on what a window read before the connection ended and
//! reports the end at the next fetch; [`Stream::page`] keeps each post once and
//! applies [`end_first_run`].

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::select_all;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::Instant;
use tracing::debug;

use super::api::ApiClient;
use super::streams::Streams;
use super::{Page, SourceError};
use crate::http::{BodyError, describe};
use crate::model::{Post, SourceName};
use crate::settings::{FieldError, duration_value};

/// The per-request timeout of a streaming request, in place of the client's
/// `request_timeout` (which would end a healthy stream): the stall timer watches it.
pub const STREAM_REQUEST_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// Opens a streaming response through `api` (its one status, rate-limit and
/// `Retry-After` path) with [`STREAM_REQUEST_TIMEOUT`]; no answer within
/// `stall_timeout` is a [`SourceError::Disconnected`].
pub async fn open_stream(
    api: &mut ApiClient,
    request: reqwest::RequestBuilder,
    stall_timeout: Duration,
) -> Result<reqwest::Response, SourceError> {
    let request = request.timeout(STREAM_REQUEST_TIMEOUT);
    match tokio::time::timeout(stall_timeout, api.open(request)).await {
        Ok(opened) => opened,
        Err(_) => Err(disconnected(&format!(
            "no response within {}s",
            stall_timeout.as_secs_f64()
        ))),
    }
}

/// Takes the `stall_timeout` option out of a source's table (`default` when left
/// out); it must be at least a second.
pub fn take_stall_timeout(
    options: &mut serde_json::Map<String, serde_json::Value>,
    default: Duration,
) -> Result<Duration, FieldError> {
    let Some(value) = options.remove("stall_timeout") else {
        return Ok(default);
    };
    match duration_value(&value) {
        Ok(timeout) if timeout >= Duration::from_secs(1) => Ok(timeout),
        Ok(_) => Err(FieldError::new("stall_timeout", "must be at least 1s")),
        Err(err) => Err(FieldError::new("stall_timeout", err.to_string())),
    }
}

/// Whether the instance-local id `a` is newer than `b`: longer first (snowflakes
/// grow in digits), then byte order (same-length numbers and ULIDs sort as text).
pub fn id_newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// The newer of two optional ids ([`id_newer`]).
pub fn newest_id(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if id_newer(&b, &a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// When a fetch hands its batch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Most items in one batch.
    pub batch: usize,
    /// Time after a batch's first item before it is handed on.
    pub linger: Duration,
    /// Time without any item after which an empty batch is handed on.
    pub quiet: Duration,
}

impl Window {
    /// 500 items, 500 ms after the first, or 10 s without any.
    pub const DEFAULT: Window = Window {
        batch: 500,
        linger: Duration::from_millis(500),
        quiet: Duration::from_secs(10),
    };
}

/// What a platform's decoder made of one frame.
#[derive(Debug)]
pub enum Step<T> {
    /// An item for the batch.
    Item(T),
    /// Nothing for the batch (a keep-alive, a field of an event still incomplete, an
    /// event the source does not use).
    Skip,
    /// The platform announced the end of the connection (X's `operational-disconnect`).
    Close(String),
}

/// One open response being read line by line.
struct Connection {
    response: reqwest::Response,
    buffer: Vec<u8>,
    last_byte: Instant,
}

/// The open responses of one live source, read as lines (`\n` or `\r\n` ended).
pub struct Lines {
    connections: Vec<Connection>,
    stall_timeout: Duration,
    max_line: u64,
}

/// A connection that yields frames as they arrive: what [`read_window`] reads. Two
/// implementations plug in: [`Lines`] (open HTTP responses, a line per frame) and
/// Jetstream's WebSocket (a message per frame).
pub trait Frames: Send {
    /// One frame.
    type Frame: Send;

    /// The next frame, or `None` once `deadline` passed first; an error when the
    /// connection ended, broke off or stalled (see [`before_stall`]).
    fn next(
        &mut self,
        deadline: Instant,
    ) -> impl Future<Output = Result<Option<Self::Frame>, SourceError>> + Send;
}

/// The stall timer of every stream: waits for `read` until `deadline` (then
/// `Ok(None)`), unless `stall_at` comes first, which is the stall: the connection
/// said nothing at all for `stall_timeout`.
pub async fn before_stall<T>(
    read: impl Future<Output = T>,
    deadline: Instant,
    stall_at: Instant,
    stall_timeout: Duration,
) -> Result<Option<T>, SourceError> {
    match tokio::time::timeout_at(deadline.min(stall_at), read).await {
        Ok(value) => Ok(Some(value)),
        Err(_) if Instant::now() >= stall_at => Err(disconnected(&format!(
            "stalled: nothing received for {}s",
            stall_timeout.as_secs_f64()
        ))),
        Err(_) => Ok(None),
    }
}

impl Lines {
    /// Reads `responses` (one per subscribed stream); any of them silent for
    /// `stall_timeout` stalls them all; a line over `max_line` bytes is refused.
    pub fn new(responses: Vec<reqwest::Response>, stall_timeout: Duration, max_line: u64) -> Lines {
        let now = Instant::now();
        Lines {
            connections: responses
                .into_iter()
                .map(|response| Connection {
                    response,
                    buffer: Vec::new(),
                    last_byte: now,
                })
                .collect(),
            stall_timeout,
            max_line,
        }
    }

    /// Restarts the stall timers: reading starts now (after a backfill that followed
    /// the connect, whose time is not the server's silence).
    pub fn restart_timers(&mut self) {
        let now = Instant::now();
        for connection in &mut self.connections {
            connection.last_byte = now;
        }
    }
}

impl Frames for Lines {
    /// A line (without its end) and the index of its connection.
    type Frame = (usize, String);

    async fn next(&mut self, deadline: Instant) -> Result<Option<(usize, String)>, SourceError> {
        loop {
            for (index, connection) in self.connections.iter_mut().enumerate() {
                if let Some(end) = connection.buffer.iter().position(|byte| *byte == b'\n') {
                    let line: Vec<u8> = connection.buffer.drain(..=end).collect();
                    return Ok(Some((index, line_text(&line))));
                }
                if connection.buffer.len() as u64 > self.max_line {
                    return Err(SourceError::Body(BodyError::TooLarge {
                        limit: self.max_line,
                    }));
                }
            }
            let Some(stall_at) = self
                .connections
                .iter()
                .map(|connection| connection.last_byte + self.stall_timeout)
                .min()
            else {
                return Err(disconnected("no stream to read"));
            };
            let started = std::time::Instant::now();
            let chunks = self
                .connections
                .iter_mut()
                .map(|connection| Box::pin(connection.response.chunk()));
            // Each `chunk` future only takes data when it is ready, so dropping the
            // ones that lost the race loses nothing.
            let first = async {
                let (chunk, index, _losers) = select_all(chunks).await;
                (chunk, index)
            };
            let Some((chunk, index)) =
                before_stall(first, deadline, stall_at, self.stall_timeout).await?
            else {
                return Ok(None);
            };
            match chunk {
                Ok(Some(bytes)) => {
                    let connection = &mut self.connections[index];
                    connection.buffer.extend_from_slice(&bytes);
                    connection.last_byte = Instant::now();
                }
                Ok(None) => return Err(disconnected("closed by the server")),
                Err(err) => return Err(disconnected(&describe(&err, started.elapsed()))),
            }
        }
    }
}

/// A line's text as [`Lines`] hands it on: without its `\n` or `\r\n` end, invalid
/// UTF-8 replaced.
pub fn line_text(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
}

/// A [`SourceError::Disconnected`] without a documented reconnect wait.
pub fn disconnected(reason: &str) -> SourceError {
    SourceError::Disconnected {
        reason: reason.to_string(),
        reconnect_after: None,
    }
}

/// What one read window gathered.
#[derive(Debug)]
pub struct Gathered<T> {
    /// The decoded items, in arrival order.
    pub items: Vec<T>,
    /// Why the connection ended during the window, if it did; the items before it
    /// are still good.
    pub ended: Option<SourceError>,
}

/// Reads `frames` until `window` says the batch is complete, handing each frame to
/// `decode`.
pub async fn read_window<F: Frames, T>(
    frames: &mut F,
    window: Window,
    mut decode: impl FnMut(F::Frame) -> Step<T>,
) -> Gathered<T> {
    let mut items = Vec::new();
    let mut deadline = Instant::now() + window.quiet;
    while items.len() < window.batch {
        match frames.next(deadline).await {
            Ok(None) => break,
            Ok(Some(frame)) => match decode(frame) {
                Step::Item(item) => {
                    if items.is_empty() {
                        deadline = Instant::now() + window.linger;
                    }
                    items.push(item);
                }
                Step::Skip => {}
                Step::Close(reason) => {
                    return Gathered {
                        items,
                        ended: Some(disconnected(&reason)),
                    };
                }
            },
            Err(err) => {
                return Gathered {
                    items,
                    ended: Some(err),
                };
            }
        }
    }
    Gathered { items, ended: None }
}

/// The one first-run rule of the stream sources. A stream never runs out of pages,
/// so on a first run (no committed position) the page that ends the catch-up is
/// handed on without `more`: the REST backfill's last round (Mastodon, X) or the
/// first read window (Jetstream, whose server replays nothing without a cursor).
/// Once it is committed the poll loop leaves its first-run state (what that page
/// held older than `poll.backfill` was stored without alerts; everything after it
/// alerts) and, woken by `wake`, fetches again at once.
pub fn end_first_run(page: &mut Page, wake: &Notify) {
    page.more = false;
    wake.notify_one();
}

/// One stream source's open connection between fetches, and the page rules every
/// stream shares.
pub struct Stream<F> {
    connection: Option<F>,
    /// Why the connection ended while a window was read, reported at the next fetch
    /// so the poll loop's backoff and health apply.
    ended: Option<SourceError>,
    wake: Arc<Notify>,
    window: Window,
}

impl<F: Frames> Stream<F> {
    /// Not connected; reads in `window`s.
    pub fn new(window: Window) -> Stream<F> {
        Stream {
            connection: None,
            ended: None,
            wake: Arc::new(Notify::new()),
            window,
        }
    }

    /// Reads in windows other than the source's default (tests).
    pub fn set_window(&mut self, window: Window) {
        self.window = window;
    }

    /// The signal the source hands the poll loop ([`Source::wake`](super::Source::wake)).
    pub fn wake(&self) -> Option<Arc<Notify>> {
        Some(Arc::clone(&self.wake))
    }

    /// Whether a connection is open.
    pub fn is_open(&self) -> bool {
        self.connection.is_some()
    }

    /// The open connection, if any.
    pub fn connection_mut(&mut self) -> Option<&mut F> {
        self.connection.as_mut()
    }

    /// Keeps `connection` open for the next fetches.
    pub fn open(&mut self, connection: F) {
        self.connection = Some(connection);
    }

    /// Drops the connection (the next fetch connects again).
    pub fn close(&mut self) {
        self.connection = None;
    }

    /// Why the connection ended during the last window, once: the fetch after a
    /// page that was cut short fails with it.
    pub fn ended(&mut self) -> Result<(), SourceError> {
        self.ended.take().map_or(Ok(()), Err)
    }

    /// Reads one [`read_window`] from the open connection. When the connection ends
    /// during the window it is dropped: a window that read nothing fails with the
    /// reason, one that read items hands them on and keeps the reason for
    /// [`Stream::ended`].
    pub async fn read<T>(
        &mut self,
        decode: impl FnMut(F::Frame) -> Step<T>,
    ) -> Result<Vec<T>, SourceError> {
        let Some(connection) = self.connection.as_mut() else {
            return Err(disconnected("not connected"));
        };
        let gathered = read_window(connection, self.window, decode).await;
        let Some(err) = gathered.ended else {
            return Ok(gathered.items);
        };
        self.connection = None;
        if gathered.items.is_empty() {
            return Err(err);
        }
        self.ended = Some(err);
        Ok(gathered.items)
    }

    /// The page of what a window read: each post once (an edit with its original,
    /// a message sent twice), the `cursor` after them, `more` (the loop reads again
    /// as soon as it is committed) unless the page ends a `first_run`
    /// ([`end_first_run`]).
    pub fn page(&self, mut posts: Vec<Post>, cursor: Option<String>, first_run: bool) -> Page {
        let mut seen = HashSet::new();
        posts.retain(|post: &Post| seen.insert(post.id.clone()));
        let mut page = Page {
            posts,
            cursor,
            more: true,
            not_before: None,
            backfill: false,
        };
        if first_run {
            end_first_run(&mut page, &self.wake);
        }
        page
    }
}

/// A live source's cursor: the newest platform id seen (`{"last_id": "…"}`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_id: Option<String>,
}

/// The last id of a live source's cursor (`None`: first run, or unreadable).
pub fn cursor_last_id(cursor: Option<&str>) -> Option<String> {
    cursor
        .and_then(|text| serde_json::from_str::<Cursor>(text).ok())
        .and_then(|cursor| cursor.last_id)
}

/// The cursor naming `last_id`.
pub fn cursor_text(last_id: Option<String>) -> String {
    serde_json::to_string(&Cursor { last_id }).expect("a cursor serializes")
}

/// The cursor after `items`: the newest of `last_id` and each item's id (`id_of`).
pub fn last_id_after<T>(
    last_id: Option<String>,
    items: &[T],
    id_of: impl Fn(&T) -> Option<String>,
) -> String {
    cursor_text(
        items
            .iter()
            .fold(last_id, |newest, item| newest_id(newest, id_of(item))),
    )
}

/// The REST half of a live source after a connect: the streams (timelines, search
/// queries) still to catch up from the cursor, with their platform state.
pub struct Backfill<S: Streams> {
    /// Each stream still behind and its state.
    pub pending: Vec<(String, S::State)>,
}

impl<S: Streams> Backfill<S> {
    /// Nothing to catch up.
    pub fn none() -> Backfill<S> {
        Backfill {
            pending: Vec::new(),
        }
    }

    /// Whether every stream caught up.
    pub fn is_done(&self) -> bool {
        self.pending.is_empty()
    }

    /// One round: a page of each stream still behind, as the page to hand on. The
    /// cursor moves to the newest id (`id_of` a finished stream's state) only when
    /// every stream caught up, so a restart during the backfill asks again from the
    /// old id. A first run (no `last_id`) ends with the last round
    /// ([`end_first_run`]); then the `stream`'s stall timers restart (the backfill
    /// was not the server's silence).
    pub async fn round(
        &mut self,
        source: &SourceName,
        rest: &mut S,
        last_id: Option<String>,
        stream: &mut Stream<Lines>,
        id_of: impl Fn(&S::State) -> Option<String>,
    ) -> Result<Page, SourceError> {
        let first_run = last_id.is_none();
        let mut posts = Vec::new();
        let mut newest = last_id.clone();
        for (key, state) in std::mem::take(&mut self.pending) {
            let page = rest.fetch_stream(&key, Some(state)).await?;
            posts.extend(page.posts);
            if page.more {
                self.pending.push((key, page.state));
            } else {
                newest = newest_id(newest, id_of(&page.state));
            }
        }
        let done = self.is_done();
        debug!(source = %source, n_posts = posts.len(), done, "stream backfill");
        if done && let Some(lines) = stream.connection_mut() {
            lines.restart_timers();
        }
        let mut page = Page {
            posts,
            cursor: Some(cursor_text(if done { newest } else { last_id })),
            more: true,
            not_before: None,
            backfill: false,
        };
        if done && first_run {
            end_first_run(&mut page, &stream.wake);
        }
        Ok(page)
    }
}

/// Mastodon's Server-Sent Events, one parser per connection: `event:` and `data:`
/// fields up to a blank line; comment lines (`:thump`) are heartbeats.
#[derive(Debug, Default)]
pub struct SseParser {
    event: String,
    data: Vec<String>,
}

/// One complete Server-Sent Event.
#[derive(Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name (`message` when the event named none).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

impl SseParser {
    /// Feeds one line; a complete event comes back at the blank line that ends it.
    pub fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            if self.data.is_empty() {
                self.event.clear();
                return None;
            }
            let event = std::mem::take(&mut self.event);
            return Some(SseEvent {
                event: if event.is_empty() {
                    "message".to_string()
                } else {
                    event
                },
                data: std::mem::take(&mut self.data).join("\n"),
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = value.to_string(),
            "data" => self.data.push(value.to_string()),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    /// Frames a test sends when it likes; a dropped sender is a connection the
    /// server closed. The stall timer is the shared one.
    struct Channel {
        frames: mpsc::UnboundedReceiver<&'static str>,
        last_frame: Instant,
        stall_timeout: Duration,
    }

    impl Frames for Channel {
        type Frame = &'static str;

        async fn next(&mut self, deadline: Instant) -> Result<Option<&'static str>, SourceError> {
            let stall_at = self.last_frame + self.stall_timeout;
            match before_stall(self.frames.recv(), deadline, stall_at, self.stall_timeout).await? {
                None => Ok(None),
                Some(None) => Err(disconnected("closed by the server")),
                Some(Some(frame)) => {
                    self.last_frame = Instant::now();
                    Ok(Some(frame))
                }
            }
        }
    }

    fn channel(stall_timeout: Duration) -> (mpsc::UnboundedSender<&'static str>, Channel) {
        let (send, frames) = mpsc::unbounded_channel();
        let channel = Channel {
            frames,
            last_frame: Instant::now(),
            stall_timeout,
        };
        (send, channel)
    }

    /// An empty frame is a keep-alive, `bye` the platform's close, the rest items.
    fn decode(frame: &'static str) -> Step<&'static str> {
        match frame {
            "" => Step::Skip,
            "bye" => Step::Close("said goodbye".into()),
            item => Step::Item(item),
        }
    }

    const WINDOW: Window = Window {
        batch: 3,
        linger: Duration::from_millis(100),
        quiet: Duration::from_secs(1),
    };

    fn post(id: &str) -> Post {
        Post::from_json(&format!(r#"{{"source":"s","id":"{id}","text":"t"}}"#)).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_closes_at_its_batch_its_linger_after_the_first_item_or_when_quiet() {
        let (send, mut frames) = channel(Duration::from_secs(60));
        for frame in ["a", "", "b", "c", "d", "e"] {
            send.send(frame).unwrap();
        }
        let started = Instant::now();
        let full = read_window(&mut frames, WINDOW, decode).await;
        assert_eq!(full.items, ["a", "b", "c"], "closed at the batch size");
        assert_eq!(started.elapsed(), Duration::ZERO);
        let started = Instant::now();
        let lingered = read_window(&mut frames, WINDOW, decode).await;
        assert_eq!(lingered.items, ["d", "e"]);
        assert_eq!(started.elapsed(), WINDOW.linger, "closed after the linger");
        // Keep-alives alone end no batch before the quiet window.
        let started = Instant::now();
        let keep_alive = send.clone();
        tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                keep_alive.send("").unwrap();
            }
        });
        let quiet = read_window(&mut frames, WINDOW, decode).await;
        assert!(quiet.items.is_empty() && quiet.ended.is_none());
        assert_eq!(started.elapsed(), WINDOW.quiet, "closed when quiet");
        send.send("f").unwrap();
        send.send("bye").unwrap();
        let closed = read_window(&mut frames, WINDOW, decode).await;
        assert_eq!(closed.items, ["f"]);
        assert!(
            matches!(&closed.ended, Some(SourceError::Disconnected { reason, .. }) if reason == "said goodbye"),
            "{closed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_end_after_items_is_reported_at_the_next_fetch_and_silence_is_a_stall() {
        let mut stream = Stream::new(WINDOW);
        let (send, frames) = channel(Duration::from_secs(60));
        stream.open(frames);
        send.send("a").unwrap();
        drop(send);
        assert_eq!(stream.read(decode).await.unwrap(), ["a"], "handed on first");
        assert!(!stream.is_open(), "the connection is dropped");
        let ended = stream.ended().expect_err("reported next");
        assert!(
            ended.to_string().contains("closed by the server"),
            "{ended}"
        );
        assert!(stream.ended().is_ok(), "once");
        assert!(stream.read(decode).await.is_err(), "not connected");

        // Silence for the stall timeout: the first window is quiet, the next stalls.
        let (_send, frames) = channel(Duration::from_millis(1_500));
        stream.open(frames);
        let started = Instant::now();
        assert!(stream.read(decode).await.unwrap().is_empty());
        let stalled = stream.read(decode).await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_millis(1_500));
        assert!(stalled.is_transient());
        assert!(stalled.to_string().contains("stalled"), "{stalled}");
        assert!(!stream.is_open() && stream.ended().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_keeps_each_post_once_and_a_first_run_page_ends_the_first_run_and_wakes() {
        let stream: Stream<Channel> = Stream::new(WINDOW);
        let posts = || vec![post("1"), post("2"), post("1")];
        let page = stream.page(posts(), Some("c".into()), false);
        let ids: Vec<&str> = page.posts.iter().map(|post| post.id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
        assert!(page.more, "a stream always has more");
        let wake = stream.wake().unwrap();
        let woken = tokio::time::timeout(Duration::from_secs(1), wake.notified());
        assert!(woken.await.is_err(), "no wake outside a first run");
        let first = stream.page(posts(), Some("c".into()), true);
        assert!(!first.more, "the loop leaves its first-run state");
        let woken = tokio::time::timeout(Duration::from_secs(1), wake.notified());
        assert!(woken.await.is_ok(), "and comes back at once");
    }

    #[test]
    fn sse_events_end_at_blank_lines_and_comments_are_heartbeats() {
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        for line in [
            ":thump",
            "",
            "event: update",
            "data: {\"id\":\"1\"}",
            "",
            "event: delete",
            "data: 1",
            ":thump",
            "",
            "data: a",
            "data: b",
            "",
        ] {
            events.extend(parser.line(line));
        }
        let pairs: Vec<(&str, &str)> = events
            .iter()
            .map(|event| (event.event.as_str(), event.data.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("update", "{\"id\":\"1\"}"),
                ("delete", "1"),
                ("message", "a\nb")
            ]
        );
    }
}
