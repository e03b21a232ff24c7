//! Search queries built from the watch list, for platforms that search server-side.
//! The platforms only narrow what is fetched; the matcher still decides what is a hit,
//! so queries may be broader than the keywords (Algolia is typo-tolerant, X tokenises).

use crate::keywords::{Brand, KeywordRules};

/// `explicit` when the source's configuration lists queries, else `derived` from the
/// keywords.
pub fn configured_or(explicit: &[String], derived: impl FnOnce() -> Vec<String>) -> Vec<String> {
    if explicit.is_empty() {
        derived()
    } else {
        explicit.to_vec()
    }
}

/// Every brand term, deduplicated case-insensitively, multi-word ones in double quotes
/// so they are searched as phrases.
pub fn phrase_terms(keywords: &KeywordRules) -> Vec<String> {
    dedup(
        keywords
            .brands
            .iter()
            .flat_map(|brand| brand.terms.iter())
            .map(|term| quote(&term.text)),
    )
}

/// Every hashtag without its `#`, lowercased and deduplicated.
pub fn hashtags(keywords: &KeywordRules) -> Vec<String> {
    dedup(
        keywords
            .brands
            .iter()
            .flat_map(|brand| brand.hashtags.iter())
            .map(|tag| tag.trim_start_matches('#').to_lowercase()),
    )
}

/// Terms (as phrases), handles and hashtags of every brand, as search clauses.
pub fn all_clauses(keywords: &KeywordRules) -> Vec<String> {
    let mut clauses = phrase_terms(keywords);
    clauses.extend(keywords.brands.iter().flat_map(|brand| {
        brand
            .handles
            .iter()
            .chain(brand.hashtags.iter())
            .cloned()
            .collect::<Vec<_>>()
    }));
    dedup(clauses.into_iter())
}

/// Terms (as phrases), handles and hashtags of one brand, as search clauses.
pub fn brand_clauses(brand: &Brand) -> Vec<String> {
    dedup(
        brand
            .terms
            .iter()
            .map(|term| quote(&term.text))
            .chain(brand.handles.iter().chain(brand.hashtags.iter()).cloned()),
    )
}

/// Joins `clauses` with ` OR ` into as few queries as fit in `max_chars` characters
/// each, counting `suffix` (appended to each query); a clause too long on its own
/// becomes its own query.
pub fn or_queries(clauses: &[String], suffix: &str, max_chars: usize) -> Vec<String> {
    let finish = |group: &[&String]| {
        let joined = group
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(" OR ");
        format!("({joined}){suffix}")
    };
    let mut queries = Vec::new();
    let mut group: Vec<&String> = Vec::new();
    for clause in clauses {
        group.push(clause);
        if group.len() > 1 && finish(&group).chars().count() > max_chars {
            group.pop();
            queries.push(finish(&group));
            group = vec![clause];
        }
    }
    if !group.is_empty() {
        queries.push(finish(&group));
    }
    queries
}

fn quote(term: &str) -> String {
    if term.chars().any(char::is_whitespace) {
        format!("\"{}\"", term.replace('"', ""))
    } else {
        term.to_string()
    }
}

fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items
        .filter(|item| seen.insert(item.to_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keywords::parse_keywords;
    use std::path::Path;

    fn rules() -> KeywordRules {
        parse_keywords(
            Path::new("k.toml"),
            "[[brand]]\nname = \"THY\"\nterms = [\"Türk Hava Yolları\", \"THY\"]\nhandles = [\"@TK_TR\"]\nhashtags = [\"#THY\", \"türkhavayolları\"]\n\n[[brand]]\nname = \"X\"\nterms = [\"thy\"]\nhashtags = [\"#thy\"]\n",
        )
        .unwrap()
    }

    #[test]
    fn phrases_are_quoted_and_duplicates_dropped() {
        assert_eq!(phrase_terms(&rules()), ["\"Türk Hava Yolları\"", "THY"]);
        assert_eq!(hashtags(&rules()), ["thy", "türkhavayolları"]);
        assert_eq!(
            all_clauses(&rules()),
            [
                "\"Türk Hava Yolları\"",
                "THY",
                "@TK_TR",
                "#THY",
                "#türkhavayolları"
            ]
        );
    }

    #[test]
    fn or_queries_respect_the_character_limit() {
        let clauses: Vec<String> = (0..40).map(|i| format!("marka{i:02}ü")).collect();
        let queries = or_queries(&clauses, " -is:nullcast", 60);
        assert!(queries.len() > 1);
        for query in &queries {
            assert!(query.chars().count() <= 60, "{query}");
            assert!(query.ends_with(" -is:nullcast"));
        }
        let rejoined: Vec<String> = queries
            .iter()
            .flat_map(|q| {
                q.trim_end_matches(" -is:nullcast")
                    .trim_matches(['(', ')'])
                    .split(" OR ")
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(rejoined, clauses, "every clause kept, in order");
        let long = vec!["x".repeat(100)];
        assert_eq!(or_queries(&long, "", 60).len(), 1);
    }
}
