//! Replies from a brand's own accounts: a post by one of the brand's `own_handles`
//! that answers another post acknowledges the hit on it. Pure, derived from the
//! keywords; the pipeline applies what it finds in the batch transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::keywords::KeywordRules;
use crate::model::Post;

/// A reply by one of a brand's own handles, seen in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnReply {
    /// Source of the reply (and of the post it answers).
    pub source: String,
    /// Id of the answered post within the source.
    pub in_reply_to: String,
    /// The brand whose handle answered.
    pub brand: String,
    /// The answering handle, with `@`.
    pub by: String,
    /// When the reply was posted (or seen).
    pub at: DateTime<Utc>,
}

/// Every brand's own handles, to recognise replies that answer a hit.
#[derive(Debug, Clone, Default)]
pub struct OwnHandles {
    /// Handle folded to lowercase, without `@` → brands owning it.
    brands_by_handle: HashMap<String, Vec<String>>,
}

impl OwnHandles {
    /// The own handles of every brand in the watch list.
    pub fn new(keywords: &KeywordRules) -> OwnHandles {
        let mut brands_by_handle: HashMap<String, Vec<String>> = HashMap::new();
        for brand in &keywords.brands {
            for handle in &brand.filters.own_handles {
                brands_by_handle
                    .entry(fold_handle(handle))
                    .or_default()
                    .push(brand.name.clone());
            }
        }
        OwnHandles { brands_by_handle }
    }

    /// The posts that are replies by an own handle, as acknowledgements of the posts
    /// they answer (the reply's own time, else `now`).
    pub fn replies(&self, posts: &[Post], now: DateTime<Utc>) -> Vec<OwnReply> {
        let mut replies = Vec::new();
        for post in posts {
            let (Some(answered), Some(handle)) = (
                &post.in_reply_to,
                post.author.as_ref().and_then(|a| a.handle.as_deref()),
            ) else {
                continue;
            };
            for brand in self
                .brands_by_handle
                .get(&fold_handle(handle))
                .into_iter()
                .flatten()
            {
                replies.push(OwnReply {
                    source: post.source.clone(),
                    in_reply_to: answered.clone(),
                    brand: brand.clone(),
                    by: format!("@{}", handle.trim_start_matches('@')),
                    at: post.created_at.unwrap_or(now),
                });
            }
        }
        replies
    }
}

fn fold_handle(handle: &str) -> String {
    handle.trim().trim_start_matches('@').to_lowercase()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::keywords::parse_keywords;

    const KEYWORDS: &str = r#"
[[brand]]
name = "Turkcell"
team = "care"
terms = ["Turkcell"]
own_handles = ["TurkcellHizmet"]
"#;

    fn keywords() -> KeywordRules {
        parse_keywords(std::path::Path::new("keywords.toml"), KEYWORDS).unwrap()
    }

    fn post(json: &str) -> Post {
        Post::from_json(json).unwrap()
    }

    #[test]
    fn only_replies_from_own_handles_acknowledge() {
        let handles = OwnHandles::new(&keywords());
        assert_eq!(keywords().brands[0].filters.own_handles, ["turkcellhizmet"]);
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
        let posts = [
            post(
                r#"{"source":"x","id":"r1","in_reply_to":"p1","author":{"handle":"turkcellhizmet"},"text":"DM'den yazar mısınız?"}"#,
            ),
            post(
                r#"{"source":"x","id":"r2","in_reply_to":"p1","author":{"handle":"ayse"},"text":"bana da oldu"}"#,
            ),
            post(
                r#"{"source":"x","id":"r3","author":{"handle":"TurkcellHizmet"},"text":"Duyuru"}"#,
            ),
        ];
        assert_eq!(
            handles.replies(&posts, now),
            [OwnReply {
                source: "x".into(),
                in_reply_to: "p1".into(),
                brand: "Turkcell".into(),
                by: "@turkcellhizmet".into(),
                at: now,
            }]
        );
    }
}
