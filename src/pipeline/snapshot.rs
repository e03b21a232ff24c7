//! One immutable value holds everything compiled from `keywords.toml` and the routes:
//! the rules (which the search sources build their queries from), the matcher (whose
//! hits carry each brand's team, severity and competitor flag), the brands' own
//! handles, the router, and the sentiment lexicon. The daemon holds it behind one atomic swap, so a reload
//! replaces all of it at once and a batch uses one matcher and router pair from start
//! to end.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::keywords::KeywordRules;
use crate::matcher::{Matcher, MatcherError};
use crate::routing::{OwnHandles, Router};
use crate::sentiment::Lexicon;

/// Everything compiled from one version of the keywords and routes.
#[derive(Debug)]
pub struct KeywordSnapshot {
    /// The validated watch list.
    pub rules: Arc<KeywordRules>,
    /// The compiled matcher.
    pub matcher: Matcher,
    /// Replies from these handles acknowledge hits.
    pub own_handles: OwnHandles,
    /// Routes hits to receivers; the escalation loop reads it too.
    pub router: Arc<Router>,
    /// Reads each matched post's tone (the `[sentiment]` lexicon).
    pub lexicon: Arc<Lexicon>,
}

impl KeywordSnapshot {
    /// Compiles `rules` beside `router`.
    pub fn new(rules: KeywordRules, router: Router) -> Result<KeywordSnapshot, MatcherError> {
        Ok(KeywordSnapshot {
            matcher: Matcher::new(&rules)?,
            own_handles: OwnHandles::new(&rules),
            rules: Arc::new(rules),
            router: Arc::new(router),
            lexicon: Lexicon::builtin(),
        })
    }

    /// The same snapshot reading tones with `lexicon` instead of the built-in one.
    pub fn with_lexicon(self, lexicon: Arc<Lexicon>) -> KeywordSnapshot {
        KeywordSnapshot { lexicon, ..self }
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
    use crate::model::ReceiverName;
    use crate::routing::tests::route;

    fn rules(term: &str) -> KeywordRules {
        let text = format!(
            "[[brand]]\nname = \"B\"\nterms = [\"{term}\"]\nown_handles = [\"{term}care\"]\n"
        );
        parse_keywords(std::path::Path::new("keywords.toml"), &text).unwrap()
    }

    #[test]
    fn a_swap_replaces_matcher_rules_handles_and_router_together() {
        let snapshot = |term, receiver: &str| {
            KeywordSnapshot::new(rules(term), Router::new(vec![route(&[receiver])])).unwrap()
        };
        let shared = SharedKeywords::new(snapshot("Turkcell", "old"));
        let held = shared.current();
        shared.replace(snapshot("Vodafone", "new"));
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
        assert_eq!(now.router.operator_receivers(), [ReceiverName::from("new")]);
        assert_eq!(
            held.router.operator_receivers(),
            [ReceiverName::from("old")]
        );
    }
}
