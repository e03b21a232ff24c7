//! A local file of JSON posts, one per line, followed like `tail -F`: only complete
//! lines are consumed, the offset is the cursor, and a rotated or truncated file is
//! picked up from its start. Used to pipe in posts from any system (mail gateways,
//! call-centre tickets) and by load tests.

use std::io::SeekFrom;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{Page, Source, SourceError};
use crate::config::{FieldError, parse_options};
use crate::model::Post;

/// Validated `kind = "jsonl"` options.
#[derive(Debug, Clone)]
pub struct JsonlSettings {
    /// The followed file.
    pub path: PathBuf,
    /// Most bytes read in one poll; the rest follows immediately in the next one.
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

/// Position in the followed file: which file (inode) and how far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct JsonlCursor {
    inode: u64,
    offset: u64,
}

/// Follows one JSON-lines file.
pub struct JsonlSource {
    name: String,
    settings: JsonlSettings,
    open: Option<(File, u64)>,
}

impl JsonlSource {
    /// A source named `name` following `settings.path`.
    pub fn new(name: String, settings: JsonlSettings) -> JsonlSource {
        JsonlSource {
            name,
            settings,
            open: None,
        }
    }

    /// Reads complete lines from `offset` of the open file.
    async fn read_from(&mut self, inode: u64, offset: u64) -> Result<Page, SourceError> {
        let (file, _) = self.open.as_mut().expect("file is open");
        let len = file.metadata().await?.len();
        // A file shorter than our offset was truncated in place (copytruncate).
        let offset = if len < offset { 0 } else { offset };
        file.seek(SeekFrom::Start(offset)).await?;
        let mut buffer = Vec::new();
        file.take(self.settings.max_batch_bytes)
            .read_to_end(&mut buffer)
            .await?;
        let complete = buffer
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        if complete == 0 && buffer.len() as u64 >= self.settings.max_batch_bytes {
            return Err(SourceError::Malformed(format!(
                "line at offset {offset} is longer than max_batch_bytes"
            )));
        }
        let posts = parse_lines(&self.name, &buffer[..complete], offset);
        let consumed = offset + complete as u64;
        Ok(Page {
            posts,
            cursor: Some(cursor_string(inode, consumed)),
            more: consumed < len && complete > 0,
            not_before: None,
            backfill: false,
        })
    }
}

#[async_trait::async_trait]
impl Source for JsonlSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn fetch(&mut self, cursor: Option<&str>) -> Result<Page, SourceError> {
        let cursor: JsonlCursor = cursor
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default();
        let on_disk = match tokio::fs::metadata(&self.settings.path).await {
            Ok(meta) => Some(meta.ino()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(err.into()),
        };
        if self.open.is_none() {
            let Some(inode) = on_disk else {
                return Ok(Page {
                    cursor: Some(cursor_string(cursor.inode, cursor.offset)),
                    ..Page::default()
                });
            };
            let file = File::open(&self.settings.path).await?;
            self.open = Some((file, inode));
        }
        let open_inode = self.open.as_ref().map_or(0, |(_, inode)| *inode);
        // The cursor belongs to the open file only if the inodes agree.
        let offset = if cursor.inode == open_inode {
            cursor.offset
        } else {
            0
        };
        let page = self.read_from(open_inode, offset).await?;
        if !page.posts.is_empty() || page.more {
            return Ok(page);
        }
        // Drained: if the path now names another file, it was rotated; switch to it.
        match on_disk {
            Some(inode) if inode != open_inode => {
                tracing::info!(source = %self.name, "followed file was rotated, reopening");
                let file = File::open(&self.settings.path).await?;
                self.open = Some((file, inode));
                self.read_from(inode, 0).await
            }
            _ => Ok(page),
        }
    }
}

fn cursor_string(inode: u64, offset: u64) -> String {
    serde_json::to_string(&JsonlCursor { inode, offset }).expect("cursor serializes")
}

/// Parses complete lines; malformed ones are logged with their offset and skipped.
fn parse_lines(source: &str, bytes: &[u8], base_offset: u64) -> Vec<Post> {
    let mut posts = Vec::new();
    let mut offset = base_offset;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let trimmed = text.trim();
        if !trimmed.is_empty() {
            match Post::from_json(trimmed) {
                Ok(post) => posts.push(post),
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
