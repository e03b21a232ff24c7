//! Plain data shared by every stage: a [`Post`], its [`Author`], and the typed
//! identifiers that must not be mixed up ([`HitId`], [`DeliveryId`]).
//!
//! No I/O and no clock here. The JSON form of [`Post`] is mentiond's own
//! interchange format (the `jsonl` source reads it, alerts embed it), so the
//! types derive serde; platform wire formats stay inside `sources/*`.
//!
//! [`decode_lenient`] is the one decoder of untrusted items (this form and every
//! platform's wire items): an optional field with an invalid value is dropped and
//! reported instead of costing the whole item.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// Declares a text identifier: a newtype over `String` that reads as `&str` but cannot
/// be passed where another kind of identifier is expected.
macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> $name {
                $name(text.to_string())
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> $name {
                $name(text)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

text_id! {
    /// A delivery's id (`msg_…`, deterministic from what it carries): the outbox key,
    /// sent as `webhook-id` and in `Message-ID`, the same on every retry.
    DeliveryId
}

text_id! {
    /// A configured receiver's name (`[[receivers]] name`), as routes name it.
    ReceiverName
}

text_id! {
    /// A configured source's name (`[[sources]] name`): the key of its cursor and health.
    /// Not a post's own `source` (its channel), which a jsonl line may set itself.
    SourceName
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
    /// The reactions the platform counted when the post was fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engagement: Option<Engagement>,
}

/// The reactions a platform counts on a post, as it reported them at fetch time; each
/// count is absent where the platform has no such count (Reddit and Hacker News have
/// a `score` only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    /// Likes, favourites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likes: Option<u64>,
    /// Reposts, retweets, boosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reposts: Option<u64>,
    /// Replies, comments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<u64>,
    /// Quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quotes: Option<u64>,
    /// Net votes: Reddit's score, Hacker News points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u64>,
}

impl Engagement {
    /// `None` when no count is known, so a post without counts carries no engagement.
    pub fn known(self) -> Option<Engagement> {
        (self != Engagement::default()).then_some(self)
    }
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
    /// Parses one line of the JSON post form, rejecting empty `source` or `id`; an
    /// optional field with an invalid value is dropped (see [`Post::from_json_lenient`]).
    pub fn from_json(line: &str) -> Result<Post, PostParseError> {
        Post::from_json_lenient(line).map(|(post, _)| post)
    }

    /// Like [`Post::from_json`], also returning the optional fields whose invalid
    /// values were dropped (`created_at: "yesterday"`), so the caller can warn.
    pub fn from_json_lenient(line: &str) -> Result<(Post, Vec<DroppedField>), PostParseError> {
        // The well-formed line, by far the most common, is decoded once and directly.
        let (post, dropped) = match serde_json::from_str::<Post>(line) {
            Ok(post) => (post, Vec::new()),
            Err(err) => {
                let value: Value = serde_json::from_str(line).map_err(|_| err)?;
                decode_lenient(value)?
            }
        };
        Post::checked(post, dropped)
    }

    /// Like [`Post::from_json_lenient`] for an item already parsed as JSON (one
    /// element of an array the HTTP intake received).
    pub fn from_value_lenient(value: Value) -> Result<(Post, Vec<DroppedField>), PostParseError> {
        let (post, dropped) = decode_lenient(value)?;
        Post::checked(post, dropped)
    }

    /// Refuses an empty `source` or `id`.
    fn checked(
        post: Post,
        dropped: Vec<DroppedField>,
    ) -> Result<(Post, Vec<DroppedField>), PostParseError> {
        if post.source.trim().is_empty() {
            return Err(PostParseError::Empty("source"));
        }
        if post.id.trim().is_empty() {
            return Err(PostParseError::Empty("id"));
        }
        Ok((post, dropped))
    }

    /// A stable key for the author within the post's source, if any is known.
    pub fn author_key(&self) -> Option<&str> {
        let author = self.author.as_ref()?;
        author.id.as_deref().or(author.handle.as_deref())
    }
}

/// An optional field whose invalid value [`decode_lenient`] dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedField {
    /// Where it was: keys joined by `.`, array positions as `[]` (`author.followers`).
    pub field: String,
    /// The dropped value as JSON, cut to [`EXAMPLE_CHARS`] characters; attacker-controlled.
    pub example: String,
}

/// Longest example value kept in a [`DroppedField`].
pub const EXAMPLE_CHARS: usize = 80;

/// Fields one item may lose before it counts as malformed.
const MAX_DROPPED: usize = 16;

/// Decodes one untrusted item as `T`. A field that fails to decode is removed (an
/// array element takes its whole array with it) and decoding is tried again: when
/// `T` then accepts the item, that field was optional (an `Option` or
/// `#[serde(default)]`) and is reported as a [`DroppedField`]; when the failure comes
/// back at or above a removed field, that field was required and the first error is
/// returned, so a bad `id` or `text` still makes the item malformed.
pub fn decode_lenient<T: DeserializeOwned>(
    mut value: Value,
) -> Result<(T, Vec<DroppedField>), serde_json::Error> {
    let mut removed: Vec<Vec<Step>> = Vec::new();
    let mut dropped = Vec::new();
    let mut first_error = None;
    loop {
        let err = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(decoded) => return Ok((decoded, dropped)),
            Err(err) => err,
        };
        let path = field_path(err.path());
        let first = first_error.take().unwrap_or_else(|| err.into_inner());
        let removable = path.filter(|path| {
            removed.len() < MAX_DROPPED && !removed.iter().any(|done| done.starts_with(path))
        });
        let Some((path, example)) =
            removable.and_then(|path| Some((path.clone(), remove(&mut value, &path)?)))
        else {
            return Err(first);
        };
        dropped.push(DroppedField {
            field: field_name(&path),
            example: example.to_string().chars().take(EXAMPLE_CHARS).collect(),
        });
        removed.push(path);
        first_error = Some(first);
    }
}

/// One step of a path into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The field a decoding error points at: its path cut after the last object key
/// (an element of an array stands for the array). `None` when it names no field.
fn field_path(path: &serde_path_to_error::Path) -> Option<Vec<Step>> {
    use serde_path_to_error::Segment;
    let mut steps = path
        .iter()
        .map(|segment| match segment {
            Segment::Map { key } => Some(Step::Key(key.clone())),
            Segment::Seq { index } => Some(Step::Index(*index)),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect::<Option<Vec<Step>>>()?;
    while matches!(steps.last(), Some(Step::Index(_))) {
        steps.pop();
    }
    (!steps.is_empty()).then_some(steps)
}

/// Removes the object key `path` ends in, returning its value.
fn remove(value: &mut Value, path: &[Step]) -> Option<Value> {
    let (Step::Key(key), parents) = path.split_last()? else {
        return None;
    };
    let mut parent = value;
    for step in parents {
        parent = match step {
            Step::Key(key) => parent.get_mut(key.as_str())?,
            Step::Index(index) => parent.get_mut(*index)?,
        };
    }
    parent.as_object_mut()?.remove(key)
}

/// `author.followers`, `items[].count`: a path without array positions, so each
/// field of a schema has one name however many items carry it.
fn field_name(path: &[Step]) -> String {
    let mut name = String::new();
    for step in path {
        match step {
            Step::Key(key) => {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(key);
            }
            Step::Index(_) => name.push_str("[]"),
        }
    }
    name
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
        let line = r#"{"source":"x","id":"1","url":"https://x.com/a/status/1","author":{"id":"9","handle":"ayse","name":"Ayşe","followers":1200},"text":"THY rötar","lang":"tr","created_at":"2026-11-20T08:00:00Z","kind":"reply","in_reply_to":"0","engagement":{"likes":3,"reposts":1,"score":7}}"#;
        let post = Post::from_json(line).unwrap();
        assert_eq!(post.author.as_ref().unwrap().followers, Some(1200));
        assert_eq!(post.author_key(), Some("9"));
        let engagement = post.engagement.unwrap();
        assert_eq!((engagement.likes, engagement.reposts), (Some(3), Some(1)));
        assert_eq!((engagement.replies, engagement.score), (None, Some(7)));
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
        // A required field with an invalid value is not dropped: the post is malformed.
        assert!(Post::from_json(r#"{"source":"x","id":1,"text":"t"}"#).is_err());
        assert!(Post::from_json(r#"{"source":"x","id":"1","text":["t"]}"#).is_err());
        assert!(
            Post::from_json(r#"{"source":"x","id":"1","text":"t","created_at":"yesterday"}"#)
                .is_ok()
        );
    }

    #[test]
    fn invalid_optional_fields_are_dropped_and_reported() {
        let line = r#"{"source":"tickets","id":"T-7","text":"Turkcell faturam","created_at":"yesterday","author":{"handle":"ayse","followers":"many"},"lang":"tr"}"#;
        let (post, dropped) = Post::from_json_lenient(line).unwrap();
        assert_eq!(post.id, "T-7");
        assert_eq!(post.text, "Turkcell faturam");
        assert_eq!(post.created_at, None);
        assert_eq!(post.lang.as_deref(), Some("tr"));
        let author = post.author.unwrap();
        assert_eq!(author.handle.as_deref(), Some("ayse"));
        assert_eq!(author.followers, None);
        let mut fields: Vec<_> = dropped
            .iter()
            .map(|d| (d.field.as_str(), d.example.as_str()))
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                ("author.followers", r#""many""#),
                ("created_at", r#""yesterday""#)
            ]
        );
        let (_, none) = Post::from_json_lenient(r#"{"source":"s","id":"1","text":"t"}"#).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn lenient_decoding_drops_arrays_whole_and_cuts_long_examples() {
        #[derive(Deserialize)]
        struct Item {
            id: String,
            #[serde(default)]
            langs: Vec<String>,
            note: Option<u64>,
        }
        let long = "x".repeat(500);
        let value = serde_json::json!({"id": "1", "langs": ["en", 5], "note": long});
        let (item, dropped) = decode_lenient::<Item>(value).unwrap();
        assert_eq!(item.id, "1");
        assert!(item.langs.is_empty() && item.note.is_none());
        assert_eq!(dropped[0].field, "langs");
        assert_eq!(dropped[1].field, "note");
        assert_eq!(dropped[1].example.chars().count(), EXAMPLE_CHARS);
        let missing = serde_json::json!({"langs": ["en"]});
        assert!(decode_lenient::<Item>(missing).is_err());
    }

    #[test]
    fn fuzzed_post_lines_parse_or_fail_without_panicking() {
        let seeds: &[&[u8]] = &[
            br#"{"source":"x","id":"1","url":"https://x.com/a/status/1","author":{"id":"9","handle":"ayse","name":"Ay\u015fe","followers":1200},"text":"Turkcell'e \u00e7ok k\u0131zg\u0131n\u0131m","lang":"tr","created_at":"2026-11-21T08:00:00Z","kind":"reply","in_reply_to":"0","engagement":{"likes":3,"reposts":1}}"#,
            br#"{"source":"mail","id":"m2","text":"THY bagaj","created_at":"yesterday","author":{"followers":"many"}}"#,
        ];
        crate::fuzz::run("post json line", seeds, |input| {
            let line = String::from_utf8_lossy(input);
            if let Ok((post, _dropped)) = Post::from_json_lenient(&line) {
                let _ = post.author_key();
            }
        });
    }
}
