//! The matcher: compiled [`KeywordRules`] → which brands a text mentions, and where.
//!
//! Pure and synchronous: no I/O, no clock. Text and patterns are folded with the same
//! rules ([`normalize`]), searched at once with aho-corasick, then kept only on whole
//! words; a brand with any `exclude` term present is dropped. Spans are byte offsets
//! into the original text.

pub mod normalize;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Serialize;

use crate::config::KeywordRules;
use crate::model::Post;
use normalize::{Folded, fold};

/// How a term is written in the keywords file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TermKind {
    /// A name or phrase from `terms`.
    Term,
    /// An `@handle`.
    Handle,
    /// A `#hashtag`.
    Hashtag,
    /// A listed misspelling.
    Misspelling,
}

/// One occurrence of a term in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermMatch {
    /// The term as written in the keywords file.
    pub term: String,
    /// The original text at `start..end`.
    pub matched: String,
    /// Which list the term came from.
    pub kind: TermKind,
    /// Byte offset where the match starts in the original text.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
}

/// All matches of one brand in one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandHit {
    /// Brand name.
    pub brand: String,
    /// The brand's team.
    pub team: Option<String>,
    /// Non-overlapping matches in text order.
    pub terms: Vec<TermMatch>,
}

/// Why the keywords could not be compiled.
#[derive(Debug, thiserror::Error)]
#[error("cannot compile keywords: {0}")]
pub struct MatcherError(#[from] aho_corasick::BuildError);

/// Compiled keyword rules, immutable once built (reloads build a new one).
#[derive(Debug)]
pub struct Matcher {
    searcher: AhoCorasick,
    /// For each pattern id, every (brand, role) that uses it.
    owners: Vec<Vec<Owner>>,
    brands: Vec<BrandInfo>,
}

#[derive(Debug, Clone)]
struct Owner {
    brand: usize,
    role: Role,
    original: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Find(TermKind),
    Exclude,
}

#[derive(Debug)]
struct BrandInfo {
    name: String,
    team: Option<String>,
}

impl Matcher {
    /// Compiles `rules`.
    pub fn new(rules: &KeywordRules) -> Result<Matcher, MatcherError> {
        let mut patterns: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<Owner>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let mut add = |term: &str, brand: usize, role: Role| {
            let folded = fold(term);
            if folded.trim().is_empty() {
                return;
            }
            let id = *index.entry(folded.clone()).or_insert_with(|| {
                patterns.push(folded);
                owners.push(Vec::new());
                patterns.len() - 1
            });
            let owner = Owner {
                brand,
                role,
                original: term.to_string(),
            };
            if !owners[id]
                .iter()
                .any(|o| o.brand == brand && o.role == role)
            {
                owners[id].push(owner);
            }
        };
        for (brand, rules) in rules.brands.iter().enumerate() {
            let lists = [
                (&rules.terms, Role::Find(TermKind::Term)),
                (&rules.handles, Role::Find(TermKind::Handle)),
                (&rules.hashtags, Role::Find(TermKind::Hashtag)),
                (&rules.misspellings, Role::Find(TermKind::Misspelling)),
                (&rules.exclude, Role::Exclude),
            ];
            for (list, role) in lists {
                for term in list {
                    add(term, brand, role);
                }
            }
        }
        let searcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)?;
        let brands = rules
            .brands
            .iter()
            .map(|b| BrandInfo {
                name: b.name.clone(),
                team: b.team.clone(),
            })
            .collect();
        Ok(Matcher {
            searcher,
            owners,
            brands,
        })
    }

    /// Number of distinct folded patterns compiled.
    pub fn pattern_count(&self) -> usize {
        self.owners.len()
    }

    /// The brands mentioned in a post's text.
    pub fn match_post(&self, post: &Post) -> Vec<BrandHit> {
        self.find(&post.text)
    }

    /// The brands mentioned in `text`, in keywords-file order.
    pub fn find(&self, text: &str) -> Vec<BrandHit> {
        let mut folded = Folded::default();
        folded.fold_into(text);
        let mut found: Vec<Vec<TermMatch>> = vec![Vec::new(); self.brands.len()];
        let mut excluded = vec![false; self.brands.len()];
        for m in self.searcher.find_overlapping_iter(&folded.text) {
            if !on_word_boundaries(&folded.text, m.start(), m.end()) {
                continue;
            }
            let (start, end) = folded.original_range(m.start(), m.end());
            for owner in &self.owners[m.pattern().as_usize()] {
                match owner.role {
                    Role::Exclude => excluded[owner.brand] = true,
                    Role::Find(kind) => found[owner.brand].push(TermMatch {
                        term: owner.original.clone(),
                        matched: text[start..end].to_string(),
                        kind,
                        start,
                        end,
                    }),
                }
            }
        }
        found
            .into_iter()
            .enumerate()
            .filter(|(brand, terms)| !terms.is_empty() && !excluded[*brand])
            .map(|(brand, terms)| BrandHit {
                brand: self.brands[brand].name.clone(),
                team: self.brands[brand].team.clone(),
                terms: longest_non_overlapping(terms),
            })
            .collect()
    }
}

/// True when the match is not glued to a letter or digit on either side.
fn on_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let first = text[start..end].chars().next();
    let last = text[start..end].chars().next_back();
    let glued = |outside: Option<char>, inside: Option<char>| match (outside, inside) {
        (Some(o), Some(i)) => is_word_char(o) && is_word_char(i),
        _ => false,
    };
    !glued(before, first) && !glued(after, last)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Keeps, among overlapping matches, the earliest and then the longest.
fn longest_non_overlapping(mut terms: Vec<TermMatch>) -> Vec<TermMatch> {
    terms.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut kept: Vec<TermMatch> = Vec::with_capacity(terms.len());
    for term in terms {
        if kept.last().is_none_or(|last| term.start >= last.end) {
            kept.push(term);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_keywords;
    use std::path::Path;

    fn matcher() -> Matcher {
        let rules = parse_keywords(
            Path::new("k.toml"),
            r##"
[[brand]]
name = "Turkcell"
team = "care"
terms = ["Turkcell", "Turkcell Superonline"]
handles = ["@TurkcellHizmet"]
hashtags = ["#turkcell"]
misspellings = ["turkcel"]
exclude = ["Turkcell Süper Lig"]

[[brand]]
name = "Türk Telekom"
terms = ["Türk Telekom"]

[[brand]]
name = "Yapı Kredi"
terms = ["Yapı Kredi"]
"##,
        )
        .unwrap();
        Matcher::new(&rules).unwrap()
    }

    fn brands(text: &str) -> Vec<String> {
        matcher().find(text).into_iter().map(|h| h.brand).collect()
    }

    #[test]
    fn whole_words_any_case_and_turkish_forms() {
        let cases: &[(&str, &[&str])] = &[
            ("TURKCELL çekmiyor", &["Turkcell"]),
            ("turkcell'e ulaşamıyorum", &["Turkcell"]),
            ("Turkcell’den cevap yok", &["Turkcell"]),
            ("turkcellular phone", &[]),
            ("myturkcell", &[]),
            ("turkcel berbat", &["Turkcell"]),
            ("@TurkcellHizmet yardım", &["Turkcell"]),
            ("#Turkcell kesinti", &["Turkcell"]),
            ("TÜRK TELEKOM faturası", &["Türk Telekom"]),
            (
                "turk telekom ve YAPI KREDİ",
                &["Türk Telekom", "Yapı Kredi"],
            ),
            ("yapi kredi kartım", &["Yapı Kredi"]),
            ("Turkcell Süper Lig maçı", &[]),
            ("hiçbir marka yok", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(brands(text), *expected, "{text}");
        }
    }

    #[test]
    fn spans_point_into_multibyte_original_text() {
        let text = "Şikayet: YAPI KREDİ’ye ve Turkcell Superonline’a ulaşılamıyor";
        let hits = matcher().find(text);
        for hit in &hits {
            for term in &hit.terms {
                assert_eq!(&text[term.start..term.end], term.matched);
            }
        }
        let turkcell = hits.iter().find(|h| h.brand == "Turkcell").unwrap();
        assert_eq!(
            turkcell.terms.len(),
            1,
            "the longer phrase wins: {turkcell:?}"
        );
        assert_eq!(turkcell.terms[0].matched, "Turkcell Superonline");
        assert_eq!(turkcell.team.as_deref(), Some("care"));
        let yapi = hits.iter().find(|h| h.brand == "Yapı Kredi").unwrap();
        assert_eq!(yapi.terms[0].matched, "YAPI KREDİ");
    }

    #[test]
    fn kinds_are_reported() {
        let hits = matcher().find("@turkcellhizmet #turkcell turkcel");
        let kinds: Vec<_> = hits[0].terms.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [TermKind::Handle, TermKind::Hashtag, TermKind::Misspelling]
        );
    }
}
