//! What the live-stream sources share: reading lines from one or more open HTTP
//! responses as they arrive, with a stall timer, and batching what a platform's
//! decoder makes of those lines into pages.
//!
//! A live source (Mastodon SSE, X's filtered stream) keeps its open responses in
//! [`Lines`] between fetches and calls [`read_window`] at each fetch: it returns once
//! a batch is full, a short `linger` has passed since the batch's first item, or a
//! longer `quiet` window has passed without any item (keep-alives keep the connection
//! but end no batch), so the poll loop commits each batch before the next read (the
//! backpressure) and never spins while the stream is quiet. Any byte (a heartbeat
//! included) resets the stall timer; nothing at all for `stall_timeout` is a
//! [`SourceError::Disconnected`], and so is a response that ends or breaks off.

use std::time::Duration;

use std::collections::HashSet;

use futures_util::future::select_all;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::Instant;
use tracing::debug;

use super::streams::Streams;
use super::{Page, SourceError};
use crate::http::{BodyError, describe};
use crate::model::{Post, SourceName};
use crate::settings::{FieldError, duration_value};

/// The per-request timeout of a streaming request, in place of the client's
/// `request_timeout` (which would end a healthy stream): the stall timer watches it.
pub const STREAM_REQUEST_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

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

/// What a platform's decoder made of one line.
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

/// What [`Lines::next`] returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// A line (without its end) from the connection of that index.
    Line(usize, String),
    /// The deadline passed first.
    Deadline,
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

    /// The next complete line of any connection, or [`Read::Deadline`] once
    /// `deadline` passed; an error when a connection ended, broke off or stalled.
    pub async fn next(&mut self, deadline: Instant) -> Result<Read, SourceError> {
        loop {
            for (index, connection) in self.connections.iter_mut().enumerate() {
                if let Some(end) = connection.buffer.iter().position(|byte| *byte == b'\n') {
                    let mut line: Vec<u8> = connection.buffer.drain(..=end).collect();
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    return Ok(Read::Line(
                        index,
                        String::from_utf8_lossy(&line).into_owned(),
                    ));
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
            let read = tokio::time::timeout_at(deadline.min(stall_at), select_all(chunks))
                .await
                .map(|(chunk, index, _losers)| (chunk, index));
            match read {
                Ok((Ok(Some(bytes)), index)) => {
                    let connection = &mut self.connections[index];
                    connection.buffer.extend_from_slice(&bytes);
                    connection.last_byte = Instant::now();
                }
                Ok((Ok(None), _)) => return Err(disconnected("closed by the server")),
                Ok((Err(err), _)) => {
                    return Err(disconnected(&describe(&err, started.elapsed())));
                }
                Err(_) if Instant::now() >= stall_at => {
                    return Err(disconnected(&format!(
                        "stalled: nothing received for {}s",
                        self.stall_timeout.as_secs_f64()
                    )));
                }
                Err(_) => return Ok(Read::Deadline),
            }
        }
    }
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

/// Reads `lines` until `window` says the batch is complete, handing each line (with
/// the index of its connection) to `decode`.
pub async fn read_window<T>(
    lines: &mut Lines,
    window: Window,
    mut decode: impl FnMut(usize, &str) -> Step<T>,
) -> Gathered<T> {
    let mut items = Vec::new();
    let mut deadline = Instant::now() + window.quiet;
    while items.len() < window.batch {
        match lines.next(deadline).await {
            Ok(Read::Deadline) => break,
            Ok(Read::Line(index, line)) => match decode(index, &line) {
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
    /// old id. A first run (no `last_id`) ends with a page without `more` and
    /// signals `wake`, so the poll loop leaves its first-run state and comes back at
    /// once; then `lines`' stall timers restart (the backfill was not the server's
    /// silence).
    pub async fn round(
        &mut self,
        source: &SourceName,
        rest: &mut S,
        last_id: Option<String>,
        lines: Option<&mut Lines>,
        wake: &Notify,
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
        if done {
            if let Some(lines) = lines {
                lines.restart_timers();
            }
            if first_run {
                wake.notify_one();
            }
        }
        Ok(Page {
            posts,
            cursor: Some(cursor_text(if done { newest } else { last_id })),
            more: !(done && first_run),
            not_before: None,
            backfill: false,
        })
    }
}

/// A read window as the page to hand on, and why the connection ended during it.
#[derive(Debug)]
pub struct WindowPage {
    /// The posts read (each once), the cursor at the newest id, `more`.
    pub page: Page,
    /// The connection ended after these posts: report it at the next fetch.
    pub ended: Option<SourceError>,
}

/// Turns what a window gathered into the page to hand on: each item's id
/// (`id_of`) moves the cursor past `last_id`, `posts_of` maps it (a post repeated in
/// the window is kept once). A window that read nothing and ended is the error.
pub fn window_page<T>(
    gathered: Gathered<T>,
    last_id: Option<String>,
    id_of: impl Fn(&T) -> Option<String>,
    mut posts_of: impl FnMut(T) -> Vec<Post>,
) -> Result<WindowPage, SourceError> {
    if gathered.items.is_empty()
        && let Some(err) = gathered.ended
    {
        return Err(err);
    }
    let mut newest = last_id;
    let mut posts = Vec::new();
    for item in gathered.items {
        newest = newest_id(newest, id_of(&item));
        posts.extend(posts_of(item));
    }
    // An edit with its original, or a message the platform sent twice.
    let mut seen = HashSet::new();
    posts.retain(|post: &Post| seen.insert(post.id.clone()));
    Ok(WindowPage {
        page: Page {
            posts,
            cursor: Some(cursor_text(newest)),
            more: true,
            not_before: None,
            backfill: false,
        },
        ended: gathered.ended,
    })
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
