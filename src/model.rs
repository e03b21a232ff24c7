//! Plain data shared by every stage: a [`Post`], its [`Author`], and the typed
//! identifiers that must not be mixed up ([`HitId`], [`DeliveryId`]).
//!
//! No I/O and no clock here. The JSON form of [`Post`] is mentiond's own
//! interchange format (the `jsonl` source reads it, alerts embed it), so the
//! types derive serde; platform wire formats stay inside `sources/*`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A stored hit's row id: what `mentiond ack`, the API and alerts show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HitId(pub i64);

impl std::fmt::Display for HitId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for HitId {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<HitId, Self::Err> {
        text.parse().map(HitId)
    }
}

/// A delivery's id (`msg_…`, deterministic from what it carries): the outbox key, sent
/// as `webhook-id` and in `Message-ID`, the same on every retry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeliveryId(pub String);

impl DeliveryId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for DeliveryId {
    fn from(text: &str) -> DeliveryId {
        DeliveryId(text.to_string())
    }
}

/// One public post, comment, article or ticket, as every stage sees it.
///
/// Only `source`, `id` and `text` are required in the JSON form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// Channel the post came from (`news`, `mastodon`, `callcenter`, …).
    pub source: String,
    /// Identifier unique within `source`; posts are deduplicated on `(source, id)`.
    pub id: String,
    /// Permalink, when the platform has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Who wrote it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
    /// The plain text that is matched against the keywords.
    pub text: String,
    /// Language code as reported by the platform (`tr`, `en`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// When it was posted, in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// Kind of item (`post`, `reply`, `repost`, `comment`, `article`, `ticket`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Id (within the same source) of the post this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
}

/// The author of a [`Post`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// Stable platform id of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Handle as shown on the platform, without a leading `@`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Follower count at fetch time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
}

/// Why a line could not be read as a [`Post`].
#[derive(Debug, thiserror::Error)]
pub enum PostParseError {
    /// The line is not a JSON post object.
    #[error("invalid post JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A required field is present but empty.
    #[error("field `{0}` must not be empty")]
    Empty(&'static str),
}

impl Post {
    /// Parses one line of the JSON post form, rejecting empty `source` or `id`.
    pub fn from_json(line: &str) -> Result<Post, PostParseError> {
        let post: Post = serde_json::from_str(line)?;
        if post.source.trim().is_empty() {
            return Err(PostParseError::Empty("source"));
        }
        if post.id.trim().is_empty() {
            return Err(PostParseError::Empty("id"));
        }
        Ok(post)
    }

    /// A stable key for the author within the post's source, if any is known.
    pub fn author_key(&self) -> Option<&str> {
        let author = self.author.as_ref()?;
        author.id.as_deref().or(author.handle.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_post_needs_only_source_id_text() {
        let post =
            Post::from_json(r#"{"source":"mail","id":"42","text":"Turkcell'e ulaşamıyorum"}"#)
                .unwrap();
        assert_eq!(post.text, "Turkcell'e ulaşamıyorum");
        assert!(post.author.is_none() && post.created_at.is_none());
        assert_eq!(
            serde_json::to_string(&post).unwrap(),
            r#"{"source":"mail","id":"42","text":"Turkcell'e ulaşamıyorum"}"#
        );
    }

    #[test]
    fn full_post_round_trips() {
        let line = r#"{"source":"x","id":"1","url":"https://x.com/a/status/1","author":{"id":"9","handle":"ayse","name":"Ayşe","followers":1200},"text":"THY rötar","lang":"tr","created_at":"2026-11-20T08:00:00Z","kind":"reply","in_reply_to":"0"}"#;
        let post = Post::from_json(line).unwrap();
        assert_eq!(post.author.as_ref().unwrap().followers, Some(1200));
        assert_eq!(post.author_key(), Some("9"));
        assert_eq!(serde_json::to_string(&post).unwrap(), line);
    }

    #[test]
    fn missing_or_empty_required_fields_are_errors() {
        assert!(Post::from_json(r#"{"source":"x","text":"t"}"#).is_err());
        assert!(Post::from_json(r#"{"source":"x","id":"1"}"#).is_err());
        assert!(matches!(
            Post::from_json(r#"{"source":"","id":"1","text":"t"}"#),
            Err(PostParseError::Empty("source"))
        ));
        assert!(Post::from_json("not json").is_err());
        assert!(
            Post::from_json(r#"{"source":"x","id":"1","text":"t","created_at":"yesterday"}"#)
                .is_err()
        );
    }
}
