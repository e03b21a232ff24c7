//! A local file of JSON posts, one per line, followed like `tail -F`: only complete
//! lines are consumed, and the cursor names the file (device, inode and a fingerprint
//! of its first bytes) and the offset. Used to pipe in posts from any system (mail
//! gateways, call-centre tickets) and by load tests.
//!
//! - A file renamed away (rotation) is read to its end before the new file at the path
//!   is opened; after a restart the rotated file is found by its inode beside the path.
//! - A file truncated in place (logrotate's `copytruncate`) is read from its start
//!   again, even when it was refilled past the old offset: its first bytes no longer
//!   match the fingerprint.
//! - A line longer than `max_batch_bytes` is skipped with a warning, never a failure.
//! - The file's directory is watched (inotify through `notify`) and a change wakes the
//!   poll loop at once; the interval is only the fallback.

use std::fs::Metadata;
use std::io::SeekFrom;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use notify::Watcher;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::Notify;

use super::api::warn_dropped;
use super::{Page, Source, SourceError};
use crate::model::Post;
use crate::model::SourceName;
use crate::settings::{FieldError, parse_options};

/// Validated `kind = "jsonl"` options.
#[derive(Debug, Clone)]
pub struct JsonlSettings {
    /// The followed file.
    pub path: PathBuf,
    /// Most bytes read in one poll; the rest follows immediately in the next one. A
    /// line longer than this is skipped.
    pub max_batch_bytes: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonlOptions {
    path: PathBuf,
    #[serde(default = "default_max_batch_bytes")]
    max_batch_bytes: u64,
}

// The one default kept in Rust: it bounds memory, not behaviour a user tunes.
fn default_max_batch_bytes() -> u64 {
    1 << 20
}

impl JsonlSettings {
    /// Validates `path` and `max_batch_bytes`.
    pub fn parse(options: Map<String, Value>) -> Result<JsonlSettings, FieldError> {
        let options: JsonlOptions = parse_options(options)?;
        if options.path.as_os_str().is_empty() {
            return Err(FieldError::new("path", "must not be empty"));
        }
        if options.max_batch_bytes < 4096 {
            return Err(FieldError::new("max_batch_bytes", "must be at least 4096"));
        }
        Ok(JsonlSettings {
            path: options.path,
            max_batch_bytes: options.max_batch_bytes,
        })
    }
}

/// Bytes at the start of a file that its fingerprint covers.
const HEAD_BYTES: u64 = 256;

/// Which file a cursor belongs to, as the file system names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    inode: u64,
}

impl FileId {
    fn of(meta: &Metadata) -> FileId {
        FileId {
            dev: meta.dev(),
            inode: meta.ino(),
        }
    }
}

/// A hash of a file's first `len` bytes: tells a file truncated and refilled in place
/// (same inode, same or larger size) from the one the offset was counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Head {
    len: u64,
    hash: u64,
}

impl Head {
    /// The fingerprint of `bytes` (a file's first up to [`HEAD_BYTES`] bytes).
    fn of(bytes: &[u8]) -> Head {
        Head {
            len: bytes.len() as u64,
            hash: head_hash(bytes),
        }
    }

    /// Whether a file starting with `bytes` is the one this fingerprint was taken of.
    fn matches(&self, bytes: &[u8]) -> bool {
        usize::try_from(self.len)
            .ok()
            .and_then(|len| bytes.get(..len))
            .is_some_and(|start| head_hash(start) == self.hash)
    }
}

fn head_hash(bytes: &[u8]) -> u64 {
    let digest = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// Position in the followed file. Cursors written before fingerprints existed hold
/// only `inode` and `offset`; they are accepted (any device, no fingerprint check)
/// and written back in the full form after the next poll.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct JsonlCursor {
    #[serde(default)]
    dev: u64,
    inode: u64,
    offset: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    head: Option<Head>,
    /// Start of an over-long line still being skipped; `offset` is how far it was scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    skipping: Option<u64>,
}

impl JsonlCursor {
    /// Whether the cursor was taken in the file with this device and inode.
    fn names(&self, id: FileId) -> bool {
        self.inode != 0 && self.inode == id.inode && (self.dev == 0 || self.dev == id.dev)
    }

    fn to_json(self) -> String {
        serde_json::to_string(&self).expect("cursor serializes")
    }
}

/// Follows one JSON-lines file.
pub struct JsonlSource {
    name: SourceName,
    settings: JsonlSettings,
    open: Option<(File, FileId)>,
    /// Over-long lines skipped since start, shown in each skip's warning.
    skipped_lines: u64,
    wake: Arc<Notify>,
    // Kept for its lifetime: dropping it stops the watch.
    watcher: Option<notify::RecommendedWatcher>,
}

impl JsonlSource {
    /// A source named `name` following `settings.path`, watching its directory.
    pub fn new(name: SourceName, settings: JsonlSettings) -> JsonlSource {
        let wake = Arc::new(Notify::new());
        let watcher = watch(&name, &settings.path, &wake);
        JsonlSource {
            name,
            settings,
            open: None,
            skipped_lines: 0,
            wake,
            watcher,
        }
    }

    /// Opens the file the cursor belongs to: the file at the path, or when that is
    /// another file, the cursor's file renamed beside it (rotated while we were
    /// down), so its unread tail comes first. `None` if there is nothing to read.
    async fn open_file(
        &self,
        cursor: &JsonlCursor,
        on_disk: Option<FileId>,
    ) -> Result<Option<(File, FileId)>, SourceError> {
        if cursor.inode != 0
            && !on_disk.is_some_and(|id| cursor.names(id))
            && let Some(found) = self.find_rotated(cursor).await
        {
            return Ok(Some(found));
        }
        if on_disk.is_none() {
            return Ok(None);
        }
        match File::open(&self.settings.path).await {
            Ok(file) => {
                let id = FileId::of(&file.metadata().await?);
                Ok(Some((file, id)))
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The cursor's file in the path's directory under another name, if its
    /// fingerprint still matches. Errors mean "not found": the path is read instead.
    async fn find_rotated(&self, cursor: &JsonlCursor) -> Option<(File, FileId)> {
        let dir = parent_dir(&self.settings.path);
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(err) => {
                tracing::warn!(source = %self.name, error = %err, "cannot look for the rotated file");
                return None;
            }
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let Ok(meta) = entry.metadata().await else {
                continue;
            };
            if !meta.is_file() || !cursor.names(FileId::of(&meta)) {
                continue;
            }
            let path = entry.path();
            let mut file = File::open(&path).await.ok()?;
            let id = FileId::of(&file.metadata().await.ok()?);
            let head = read_head(&mut file).await.ok()?;
            if cursor.names(id) && cursor.head.is_none_or(|h| h.matches(&head)) {
                tracing::info!(source = %self.name, path = %path.display(), offset = cursor.offset, "finishing the rotated file first");
                return Some((file, id));
            }
        }
        None
    }

    /// Reads complete lines of the open file after the cursor (from its start if the
    /// cursor belongs to another file or the file was truncated or refilled).
    async fn read_open(&mut self, cursor: &JsonlCursor) -> Result<Page, SourceError> {
        let Some((file, id)) = self.open.as_mut() else {
            return Ok(Page::default());
        };
        let id = *id;
        let head = read_head(file).await?;
        let len = file.metadata().await?.len();
        let ours = cursor.names(id);
        let same = ours && cursor.offset <= len && cursor.head.is_none_or(|h| h.matches(&head));
        if ours && !same {
            tracing::info!(source = %self.name, offset = cursor.offset, len, "followed file was truncated or replaced, reading from the start");
        }
        let (offset, skipping) = if same {
            (cursor.offset, cursor.skipping)
        } else {
            (0, None)
        };
        let at = |offset, skipping| {
            JsonlCursor {
                dev: id.dev,
                inode: id.inode,
                offset,
                head: Some(Head::of(&head)),
                skipping,
            }
            .to_json()
        };
        file.seek(SeekFrom::Start(offset)).await?;
        let mut buffer = Vec::new();
        file.take(self.settings.max_batch_bytes)
            .read_to_end(&mut buffer)
            .await?;
        let read_to = offset + buffer.len() as u64;
        let full = buffer.len() as u64 >= self.settings.max_batch_bytes;
        let first_newline = buffer.iter().position(|&b| b == b'\n');
        if skipping.is_some() || (full && first_newline.is_none()) {
            let start = skipping.unwrap_or(offset);
            // The over-long line is scanned one batch per poll: memory stays bounded.
            let Some(i) = first_newline else {
                return Ok(Page {
                    cursor: Some(at(read_to, Some(start))),
                    more: read_to < len && !buffer.is_empty(),
                    ..Page::default()
                });
            };
            let end = offset + i as u64 + 1;
            self.skipped_lines += 1;
            tracing::warn!(
                source = %self.name,
                offset = start,
                length = end - start,
                max_batch_bytes = self.settings.max_batch_bytes,
                skipped_lines = self.skipped_lines,
                "skipping line longer than max_batch_bytes"
            );
            return Ok(Page {
                cursor: Some(at(end, None)),
                more: end < len,
                ..Page::default()
            });
        }
        let complete = buffer
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let posts = parse_lines(&self.name, &buffer[..complete], offset);
        let consumed = offset + complete as u64;
        Ok(Page {
            posts,
            cursor: Some(at(consumed, None)),
            more: consumed < len && complete > 0,
            not_before: None,
            backfill: false,
        })
    }
}

#[async_trait::async_trait]
impl Source for JsonlSource {
    fn name(&self) -> &SourceName {
        &self.name
    }

    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SourceError> {
        let cursor: JsonlCursor = cursor
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default();
        let on_disk = match tokio::fs::metadata(&self.settings.path).await {
            Ok(meta) => Some(FileId::of(&meta)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(err.into()),
        };
        if self.open.is_none() {
            let Some(opened) = self.open_file(&cursor, on_disk).await? else {
                return Ok(Page {
                    cursor: Some(cursor.to_json()),
                    ..Page::default()
                });
            };
            self.open = Some(opened);
        }
        let page = self.read_open(&cursor).await?;
        let open_id = self.open.as_ref().map(|(_, id)| *id);
        let rotated = on_disk.is_some() && on_disk != open_id;
        if !page.posts.is_empty() || page.more {
            // The new file at the path waits behind a rotated one: no interval between.
            let more = page.more || rotated;
            return Ok(Page { more, ..page });
        }
        // Drained: if the path now names another file, it was rotated; switch to it.
        if !rotated {
            return Ok(page);
        }
        let Some(opened) = self.open_file(&JsonlCursor::default(), on_disk).await? else {
            return Ok(page);
        };
        tracing::info!(source = %self.name, "followed file was rotated, reopening");
        self.open = Some(opened);
        self.read_open(&JsonlCursor::default()).await
    }

    fn wake(&self) -> Option<Arc<Notify>> {
        self.watcher.as_ref().map(|_| Arc::clone(&self.wake))
    }
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The first up to [`HEAD_BYTES`] bytes of `file`.
async fn read_head(file: &mut File) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(0)).await?;
    let mut head = Vec::new();
    file.take(HEAD_BYTES).read_to_end(&mut head).await?;
    Ok(head)
}

/// Watches the directory of `path` (so creation and rotation are seen too) and
/// notifies `wake` on any change to a file whose name starts with the followed
/// file's (`posts.jsonl`, `posts.jsonl.1`). `None` when watching is impossible: the
/// source then polls at its interval only.
fn watch(
    source: &SourceName,
    path: &Path,
    wake: &Arc<Notify>,
) -> Option<notify::RecommendedWatcher> {
    let dir = parent_dir(path);
    let file_name = path.file_name()?.to_os_string();
    let notify = Arc::clone(wake);
    let handler = move |event: notify::Result<notify::Event>| match event {
        // Our own reads show up as access events: waking on them would loop.
        Ok(event) if matches!(event.kind, notify::EventKind::Access(_)) => {}
        Ok(event) => {
            let ours = event.paths.iter().any(|changed| {
                changed.file_name().is_some_and(|name| {
                    name.as_encoded_bytes()
                        .starts_with(file_name.as_encoded_bytes())
                })
            });
            if ours {
                // One stored permit however many events: bursts coalesce into one poll.
                notify.notify_one();
            }
        }
        // A lost event (queue overflow) may hide a change: look.
        Err(_) => notify.notify_one(),
    };
    let watched = notify::recommended_watcher(handler).and_then(|mut watcher| {
        watcher.watch(&dir, notify::RecursiveMode::NonRecursive)?;
        Ok(watcher)
    });
    match watched {
        Ok(watcher) => Some(watcher),
        Err(err) => {
            tracing::warn!(source = %source, path = %dir.display(), error = %err, "cannot watch the directory, polling at the interval only");
            None
        }
    }
}

/// Parses complete lines; malformed ones are logged with their offset and skipped.
fn parse_lines(source: &SourceName, bytes: &[u8], base_offset: u64) -> Vec<Post> {
    let mut posts = Vec::new();
    let mut offset = base_offset;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let trimmed = text.trim();
        if !trimmed.is_empty() {
            match Post::from_json_lenient(trimmed) {
                Ok((post, dropped)) => {
                    warn_dropped(source, &dropped);
                    posts.push(post);
                }
                Err(err) => {
                    tracing::warn!(source = %source, offset, error = %crate::escape::log(&err.to_string()), "skipping malformed line")
                }
            }
        }
        offset += line.len() as u64;
    }
    posts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Duration;

    fn source(path: PathBuf) -> JsonlSource {
        JsonlSource::new(
            "tickets".into(),
            JsonlSettings {
                path,
                max_batch_bytes: 4096,
            },
        )
    }

    fn append(path: &std::path::Path, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    fn line(id: u32) -> String {
        format!("{{\"source\":\"mail\",\"id\":\"{id}\",\"text\":\"Turkcell {id}\"}}\n")
    }

    async fn ids(source: &mut JsonlSource, cursor: &mut Option<String>) -> Vec<String> {
        let page = source.fetch(cursor.as_deref()).await.unwrap();
        *cursor = page.cursor;
        page.posts.into_iter().map(|p| p.id).collect()
    }

    #[tokio::test]
    async fn follows_appends_partial_lines_and_skips_malformed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        let mut src = source(path.clone());
        let mut cursor = None;
        assert!(ids(&mut src, &mut cursor).await.is_empty());
        append(
            &path,
            &format!(
                "{}not json\n{}{{\"source\":\"mail\",\"id\"",
                line(1),
                line(2)
            ),
        );
        assert_eq!(ids(&mut src, &mut cursor).await, ["1", "2"]);
        append(&path, ":\"3\",\"text\":\"x\"}\n");
        assert_eq!(ids(&mut src, &mut cursor).await, ["3"]);
        assert!(ids(&mut src, &mut cursor).await.is_empty());
    }

    #[tokio::test]
    async fn cursor_resumes_in_a_new_instance_and_rotation_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        append(&path, &(line(1) + &line(2)));
        let mut cursor = None;
        assert_eq!(
            ids(&mut source(path.clone()), &mut cursor).await,
            ["1", "2"]
        );

        append(&path, &line(3));
        let mut restarted = source(path.clone());
        assert_eq!(ids(&mut restarted, &mut cursor).await, ["3"]);

        // Rotate: the old file gets one more line, then a new file appears.
        append(&path, &line(4));
        std::fs::rename(&path, dir.path().join("in.jsonl.1")).unwrap();
        append(&path, &line(5));
        assert_eq!(ids(&mut restarted, &mut cursor).await, ["4"]);
        assert_eq!(ids(&mut restarted, &mut cursor).await, ["5"]);
    }

    /// Fetches until nothing more is waiting (bounded), returning every id read.
    async fn drain(source: &mut JsonlSource, cursor: &mut Option<String>) -> Vec<String> {
        let mut all = Vec::new();
        for _ in 0..10_000 {
            let page = source.fetch(cursor.as_deref()).await.unwrap();
            *cursor = page.cursor;
            let done = page.posts.is_empty() && !page.more;
            all.extend(page.posts.into_iter().map(|p| p.id));
            if done {
                return all;
            }
        }
        panic!("source never drained");
    }

    #[tokio::test]
    async fn a_line_longer_than_max_batch_bytes_is_skipped_and_later_lines_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        let long = format!(
            "{{\"source\":\"mail\",\"id\":\"big\",\"text\":\"{}\"}}\n",
            "x".repeat(10_000)
        );
        append(&path, &(line(1) + &long + &line(2) + &line(3)));
        let mut src = source(path.clone());
        let mut cursor = None;
        assert_eq!(drain(&mut src, &mut cursor).await, ["1", "2", "3"]);
        assert_eq!(src.skipped_lines, 1);

        // One still being written when polled: skipped once it ends, not re-read.
        append(&path, &"y".repeat(6_000));
        assert!(drain(&mut src, &mut cursor).await.is_empty());
        append(&path, &("y".repeat(6_000) + "\n" + &line(4)));
        assert_eq!(drain(&mut src, &mut cursor).await, ["4"]);
        assert_eq!(src.skipped_lines, 2);

        // The skip survives a restart: a new instance resumes from the cursor.
        append(&path, &long);
        append(&path, &line(5));
        let mut restarted = source(path.clone());
        assert_eq!(drain(&mut restarted, &mut cursor).await, ["5"]);
    }

    #[tokio::test]
    async fn copytruncate_refilled_past_the_old_offset_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        append(&path, &(1..=1000).map(line).collect::<String>());
        let mut src = source(path.clone());
        let mut cursor = None;
        assert_eq!(drain(&mut src, &mut cursor).await.len(), 1000);

        // logrotate's copytruncate: copy, truncate the same inode, and the writer
        // refills it past the old offset before the next poll.
        let inode = std::fs::metadata(&path).unwrap().ino();
        std::fs::copy(&path, dir.path().join("in.jsonl.1")).unwrap();
        let refill: String = (10_001..=13_000).map(line).collect();
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)
            .unwrap()
            .write_all(refill.as_bytes())
            .unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);

        let ids = drain(&mut src, &mut cursor).await;
        let expected: Vec<String> = (10_001..=13_000).map(|id| id.to_string()).collect();
        assert_eq!(ids, expected, "all 3,000 posts of the refilled file");
        // A restart with that cursor reads nothing twice.
        assert!(drain(&mut source(path), &mut cursor).await.is_empty());
    }

    #[tokio::test]
    async fn rotation_while_down_finishes_the_rotated_file_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        append(&path, &(line(1) + &line(2)));
        let mut cursor = None;
        assert_eq!(
            drain(&mut source(path.clone()), &mut cursor).await,
            ["1", "2"]
        );

        // While down: two more lines, then rotated away and a new file started.
        append(&path, &(line(3) + &line(4)));
        std::fs::rename(&path, dir.path().join("in.jsonl.1")).unwrap();
        append(&path, &(line(5) + &line(6)));
        let mut restarted = source(path.clone());
        let page = restarted.fetch(cursor.as_deref()).await.unwrap();
        assert!(
            page.more,
            "the new file is read without waiting the interval"
        );
        let ids: Vec<_> = page.posts.into_iter().map(|p| p.id).collect();
        assert_eq!(ids, ["3", "4"]);
        cursor = page.cursor;
        assert_eq!(drain(&mut restarted, &mut cursor).await, ["5", "6"]);
        append(&path, &line(7));
        assert_eq!(drain(&mut restarted, &mut cursor).await, ["7"]);
    }

    #[tokio::test]
    async fn a_cursor_without_fingerprint_is_accepted_and_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        append(&path, &(line(1) + &line(2)));
        let inode = std::fs::metadata(&path).unwrap().ino();
        let old = format!("{{\"inode\":{inode},\"offset\":{}}}", line(1).len());
        let mut cursor = Some(old);
        assert_eq!(drain(&mut source(path.clone()), &mut cursor).await, ["2"]);
        let upgraded: JsonlCursor = serde_json::from_str(cursor.as_deref().unwrap()).unwrap();
        assert_eq!(upgraded.inode, inode);
        assert_ne!(upgraded.dev, 0);
        let len = (line(1) + &line(2)).len() as u64;
        assert_eq!(upgraded.head.map(|h| h.len), Some(len.min(HEAD_BYTES)));
        assert_eq!(upgraded.offset, len);
    }

    #[tokio::test]
    async fn an_append_wakes_the_source_within_milliseconds_and_its_reads_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        append(&path, &line(1));
        let mut src = source(path.clone());
        let wake = src.wake().expect("the directory is watched");
        let mut cursor = None;
        assert_eq!(drain(&mut src, &mut cursor).await, ["1"]);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = tokio::time::timeout(Duration::from_millis(10), wake.notified()).await;

        let started = std::time::Instant::now();
        append(&path, &line(2));
        tokio::time::timeout(Duration::from_secs(2), wake.notified())
            .await
            .expect("woken within 2 s");
        eprintln!("append to wake: {:?}", started.elapsed());
        assert_eq!(drain(&mut src, &mut cursor).await, ["2"]);

        // Reading the file is no change: no wake loop.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = tokio::time::timeout(Duration::from_millis(10), wake.notified()).await;
        assert!(drain(&mut src, &mut cursor).await.is_empty());
        assert!(
            tokio::time::timeout(Duration::from_millis(300), wake.notified())
                .await
                .is_err(),
            "a read woke the source"
        );
    }

    #[tokio::test]
    async fn truncation_restarts_from_the_top_and_large_input_pages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        append(&path, &(line(1) + &line(2)));
        let mut src = source(path.clone());
        let mut cursor = None;
        assert_eq!(ids(&mut src, &mut cursor).await.len(), 2);
        std::fs::write(&path, line(9)).unwrap();
        assert_eq!(ids(&mut src, &mut cursor).await, ["9"]);

        let many: String = (100..300).map(line).collect();
        append(&path, &many);
        let page = src.fetch(cursor.as_deref()).await.unwrap();
        assert!(page.more, "4 KiB batches need several polls");
        assert!(page.posts.len() < 200);
    }
}
