//! One immutable value holds everything compiled from `keywords.toml`: the rules (which
//! the search sources build their queries from), the matcher (whose hits carry each
//! brand's team, severity and competitor flag), and the brands' own handles. The
//! daemon holds it behind one atomic swap, so a reload replaces all of it at once and
//! a batch uses one snapshot from start to end.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::keywords::KeywordRules;
use crate::matcher::{Matcher, MatcherError};
use crate::routing::OwnHandles;

/// Everything compiled from one version of the keywords.
#[derive(Debug)]
pub struct KeywordSnapshot {
    /// The validated watch list.
    pub rules: Arc<KeywordRules>,
    /// The compiled matcher.
    pub matcher: Matcher,
    /// Replies from these handles acknowledge hits.
    pub own_handles: OwnHandles,
}

impl KeywordSnapshot {
    /// Compiles `rules`.
    pub fn new(rules: KeywordRules) -> Result<KeywordSnapshot, MatcherError> {
        Ok(KeywordSnapshot {
            matcher: Matcher::new(&rules)?,
            own_handles: OwnHandles::new(&rules),
            rules: Arc::new(rules),
        })
    }
}

/// The snapshot in force, swapped atomically.
#[derive(Debug)]
pub struct SharedKeywords(ArcSwap<KeywordSnapshot>);

impl SharedKeywords {
    /// Holds a first snapshot.
    pub fn new(snapshot: KeywordSnapshot) -> SharedKeywords {
        SharedKeywords(ArcSwap::from_pointee(snapshot))
    }

    /// The snapshot to use now; a caller keeps it for a whole batch.
    pub fn current(&self) -> Arc<KeywordSnapshot> {
        self.0.load_full()
    }

    /// Installs `snapshot` for every later [`SharedKeywords::current`] call and
    /// returns the previous one (readers holding it finish their batch with it).
    pub fn replace(&self, snapshot: KeywordSnapshot) -> Arc<KeywordSnapshot> {
        self.0.swap(Arc::new(snapshot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keywords::parse_keywords;
    use crate::model::Post;

    fn rules(term: &str) -> KeywordRules {
        let text = format!(
            "[[brand]]\nname = \"B\"\nterms = [\"{term}\"]\nown_handles = [\"{term}care\"]\n"
        );
        parse_keywords(std::path::Path::new("keywords.toml"), &text).unwrap()
    }

    #[test]
    fn a_swap_replaces_matcher_rules_and_handles_together() {
        let shared = SharedKeywords::new(KeywordSnapshot::new(rules("Turkcell")).unwrap());
        let held = shared.current();
        shared.replace(KeywordSnapshot::new(rules("Vodafone")).unwrap());
        let now = shared.current();
        let post = Post::from_json(r#"{"source":"s","id":"1","text":"Vodafone yok"}"#).unwrap();
        assert!(
            held.matcher.match_post(&post).is_empty(),
            "a held snapshot keeps its rules"
        );
        assert_eq!(now.matcher.match_post(&post).len(), 1);
        assert_eq!(now.rules.brands[0].terms[0].text, "Vodafone");
        let reply = Post::from_json(
            r#"{"source":"s","id":"2","in_reply_to":"1","author":{"handle":"vodafonecare"},"text":"DM"}"#,
        )
        .unwrap();
        assert_eq!(
            now.own_handles
                .replies(std::slice::from_ref(&reply), chrono::Utc::now())
                .len(),
            1
        );
        assert!(
            held.own_handles
                .replies(&[reply], chrono::Utc::now())
                .is_empty()
        );
    }
}
