//! The matcher: compiled [`KeywordRules`] → which brands and topics a post mentions,
//! where, and why.
//!
//! Pure and synchronous: no I/O, no clock. Each post is folded once ([`crate::text`]),
//! scanned once by one automaton (`scan.rs`) holding every folded written variant of
//! every term (terms, joined/hyphenated phrases, handles, hashtags, domains,
//! misspellings, exclusions, context words, topic terms) that never starts a match
//! inside a word, and its spans of whole words are looked up among the generated typos
//! (`typo_index.rs`: a typo only counts standing alone, so it needs no automaton
//! states). Candidates are kept when they end on a word boundary (or before
//! a Turkish suffix), checked against the original text
//! (letter case, accents) and fed into per-brand and per-topic rules. Spans are byte
//! offsets into the original text. A compiled [`Matcher`] never changes its rules (only
//! hit counters, and generated typos it switches off as noisy); reloads build a new one
//! inside a new keyword snapshot (`pipeline::snapshot`) and swap that.

pub mod bench;
mod glued;
mod noisy;
mod scan;
mod settings;
mod suffix;
mod typo_index;
pub mod typos;
mod words;

use std::cell::RefCell;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::keywords::{Brand, CaseRule, Filters, KeywordRules, Severity, Typos};
use crate::model::Post;
use crate::text::{Folded, char_at, fold, is_accented, is_word_char};
use glued::GluedVerdicts;
#[cfg(test)]
use noisy::{NOISY_MIN_HITS, NOISY_SHARE};
use noisy::{TypoTally, switch_off_as_noisy};
pub use scan::ScanError;
use scan::Scanner;
pub use settings::MatcherSettings;
use typo_index::TypoIndex;
use typos::PostTest;

/// Which kind of variant matched, as reported in explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TermKind {
    /// The term exactly as written in the keywords file, letter case included.
    Exact,
    /// The term after folding: another letter case (`TÜRK TELEKOM`), other diacritics,
    /// Turkish i forms, joined, hyphenated or without its apostrophe (`mcdonalds`).
    Folded,
    /// A listed misspelling or a generated typo variant.
    Misspelling,
    /// The term followed by a Turkish suffix (`Turkcell'e`, `turkcellden`).
    Suffix,
    /// A `#hashtag`.
    Hashtag,
    /// An `@handle`.
    Handle,
    /// A web domain.
    Domain,
}

impl TermKind {
    /// The kind's name as explanations and metrics show it (its JSON form).
    pub fn as_str(self) -> &'static str {
        match self {
            TermKind::Exact => "exact",
            TermKind::Folded => "folded",
            TermKind::Misspelling => "misspelling",
            TermKind::Suffix => "suffix",
            TermKind::Hashtag => "hashtag",
            TermKind::Handle => "handle",
            TermKind::Domain => "domain",
        }
    }
}

/// [`TermMatch::kinds`]: how the term itself matched, then `suffix` when a Turkish
/// suffix follows; held inline (no allocation), a list of names in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermKinds {
    kinds: [TermKind; 2],
    len: u8,
}

impl TermKinds {
    /// `base`, followed by [`TermKind::Suffix`] when `suffixed`.
    pub fn new(base: TermKind, suffixed: bool) -> TermKinds {
        TermKinds {
            kinds: [base, TermKind::Suffix],
            len: 1 + u8::from(suffixed),
        }
    }

    /// The kinds in order.
    pub fn as_slice(&self) -> &[TermKind] {
        &self.kinds[..usize::from(self.len)]
    }
}

impl std::ops::Deref for TermKinds {
    type Target = [TermKind];

    fn deref(&self) -> &[TermKind] {
        self.as_slice()
    }
}

impl Serialize for TermKinds {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.as_slice())
    }
}

/// One occurrence of a term in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermMatch {
    /// The term as written in the keywords file (shared with the compiled matcher).
    pub term: Arc<str>,
    /// The original text at `start..end`.
    pub matched: String,
    /// How it matched.
    pub kind: TermKind,
    /// The folded variant the automaton found (`turkcel`, `turk-telekom`; shared with
    /// the compiled matcher for written variants).
    pub variant: Arc<str>,
    /// True when the variant is a generated typo, not written in the keywords file.
    pub generated: bool,
    /// Byte offset where the match starts in the original text.
    pub start: usize,
    /// Byte offset where the term ends; a Turkish suffix after it is not included
    /// (`kind` says `suffix`).
    pub end: usize,
    /// Every way it matched: how the term itself did (`exact`, `folded`,
    /// `misspelling`, `hashtag`, `handle`, `domain`), then `suffix` when a Turkish
    /// suffix follows (`turkcelden`: `misspelling`, `suffix`). `kind` keeps its one
    /// value: `suffix` for a term with a suffix, else the first of these.
    pub kinds: TermKinds,
    /// The Turkish suffix after the term as written (`'nin`, `den`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// Why a `case = "exact"` term written in another case still counts (`suffix:'nin`,
    /// `hashtag:#thy`, `handle:@thy`, `context:rötar`, `term:Türk Hava Yolları`);
    /// empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

/// Whether a hit comes from a `[[brand]]` or a `[[topic]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HitKind {
    /// A brand entry.
    Brand,
    /// A topic entry.
    Topic,
}

/// All matches of one brand or topic in one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandHit {
    /// Brand or topic name (shared with the compiled matcher).
    pub brand: Arc<str>,
    /// Its team (shared with the compiled matcher).
    pub team: Option<Arc<str>>,
    /// Brand or topic.
    pub kind: HitKind,
    /// The brand's severity (topics are normal).
    pub severity: Severity,
    /// The brand is a competitor entry (`competitor_of`).
    pub competitor: bool,
    /// Non-overlapping matches in text order.
    pub terms: Vec<TermMatch>,
}

#[cfg(test)]
impl BrandHit {
    /// A brand hit whose one exact match is `term` at the start of the text (tests of
    /// the stages after the matcher).
    pub(crate) fn exact_for_tests(brand: &str, team: Option<&str>, term: &str) -> BrandHit {
        BrandHit {
            brand: brand.into(),
            team: team.map(Arc::from),
            kind: HitKind::Brand,
            severity: Severity::Normal,
            competitor: false,
            terms: vec![TermMatch {
                term: term.into(),
                matched: term.into(),
                kind: TermKind::Exact,
                variant: term.to_lowercase().into(),
                generated: false,
                start: 0,
                end: term.len(),
                kinds: TermKinds::new(TermKind::Exact, false),
                suffix: None,
                evidence: Vec::new(),
            }],
        }
    }
}

/// Why the keywords could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    /// The matcher's automaton could not be built.
    #[error("cannot compile keywords: {0}")]
    Scan(#[from] ScanError),
    /// The benchmark's aho-corasick comparison automaton could not be built.
    #[error("cannot build the comparison automaton: {0}")]
    Baseline(#[from] aho_corasick::BuildError),
}

/// One compiled variant and how often it produced a hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariantReport {
    /// Brand or topic name.
    pub brand: String,
    /// The term as written.
    pub term: String,
    /// The folded variant searched for.
    pub variant: String,
    /// Where it came from: `term`, `handle`, `hashtag`, `domain`, `misspelling`,
    /// `typo`, `exclude`, `require_any`, `context`, `all`, `any`, `none`.
    pub source: &'static str,
    /// Hits it contributed to since the matcher was built.
    pub hits: u64,
    /// Why a generated typo is not used: `real word` or `taken by another term` (not
    /// compiled), or [`NOISY`] (switched off while matching).
    pub dropped: Option<&'static str>,
}

/// [`VariantReport::dropped`] of a generated typo switched off for firing too often.
pub const NOISY: &str = "noisy: more hits than a slip of the finger gets";

/// [`VariantReport::dropped`] of a generated typo or folded variant switched off by
/// people's feedback ([`Matcher::set_feedback_off`]).
pub const FEEDBACK_OFF: &str = "feedback: switched off as not relevant";

/// Compiled keyword rules, immutable once built (reloads build a new one) apart from
/// hit counters and the switch that turns off noisy generated typos.
#[derive(Debug)]
pub struct Matcher {
    scanner: Scanner,
    patterns: Vec<Pattern>,
    /// Owners of written variants; owner id `owners.len() + n` is generated typo `n`.
    owners: Vec<Owner>,
    typos: TypoIndex,
    entities: Vec<Entity>,
    /// Per owner: hits it contributed to.
    variant_hits: Vec<AtomicU64>,
    /// Per owner: a generated typo switched off as noisy.
    noisy: Vec<AtomicBool>,
    /// Per owner: hits of a generated typo whose post carried evidence of its brand.
    evidence_hits: Vec<AtomicU64>,
    /// Per owner: switched off by people's feedback.
    feedback_off: Vec<AtomicBool>,
    /// The `(brand, variant)` list last given to [`Matcher::set_feedback_off`] and the
    /// owners it switched off.
    feedback_applied: Mutex<FeedbackApplied>,
    /// Per entity: hits with at least one written (not generated) term.
    written_hits: Vec<AtomicU64>,
    /// Owners switched off since the last [`Matcher::take_noisy`].
    newly_noisy: Mutex<Vec<u32>>,
    dropped: Vec<Dropped>,
}

/// The `(brand, variant)` list people's feedback switched off, as last applied, and
/// the owners it switched off.
#[derive(Debug, Default)]
struct FeedbackApplied {
    variants: Vec<(String, String)>,
    owners: Vec<u32>,
}

#[derive(Debug)]
struct Pattern {
    /// Shared with the hits' [`TermMatch::variant`].
    text: Arc<str>,
    owners: Vec<u32>,
    /// The last character is a word character, so the one after must not be.
    word_end: bool,
    /// Some owner accepts a Turkish suffix glued to it ([`OwnerView::accepts_suffix`]):
    /// when none does (generated typos, handles, hashtags), a glued word after it is
    /// refused without reading it as a suffix chain.
    takes_glued_suffix: bool,
    /// What the text is as a name a brand's suffix is glued to (`typos::glued_name`);
    /// set only for a pattern that takes glued suffixes.
    name: words::NameWord,
}

#[derive(Debug)]
struct Owner {
    entity: u32,
    role: Role,
    source: Source,
    /// Shared with the hits' [`TermMatch::term`].
    written: Arc<str>,
    pattern: u32,
    case_exact: bool,
    ascii_strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Find,
    Exclude,
    Context,
    /// A `context` word: not required, only evidence for a case-exact term.
    Hint,
    All(u8),
    Any,
    None,
    /// A word that makes a brand's generated typo read like a mention of it (an `any`
    /// or `all` word of a topic built on the brand's term), for the noisy switch.
    Evidence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Term,
    Handle,
    Hashtag,
    Domain,
    Misspelling,
    Typo,
    Rule,
}

#[derive(Debug)]
struct Entity {
    /// Shared with the hits' [`BrandHit::brand`].
    name: Arc<str>,
    /// Shared with the hits' [`BrandHit::team`].
    team: Option<Arc<str>>,
    kind: HitKind,
    severity: Severity,
    competitor: bool,
    filters: Filters,
    requires_context: bool,
    all_count: u8,
    has_any: bool,
    near: Option<u32>,
    /// `ascii_strict` is not set: an accented spelling of an ASCII term counts unless
    /// the accented word is a word as written ([`accented_word`]).
    accent_guard: bool,
}

#[derive(Debug)]
struct Dropped {
    /// Generated after this many typos were kept (and, when `late`, right after the
    /// last of them): the order in which variants were refused.
    after: u32,
    late: bool,
    entity: u32,
    /// The term, in [`TypoIndex::term`].
    term: u32,
    variant: Box<str>,
    reason: &'static str,
}

/// What the per-owner checks and reports need of an owner, written or generated.
#[derive(Debug, Clone, Copy)]
struct OwnerView<'a> {
    entity: u32,
    role: Role,
    source: Source,
    written: &'a Arc<str>,
    variant: &'a str,
    /// `variant` shared, for a written variant (a generated typo's text is a slice of
    /// one buffer).
    shared_variant: Option<&'a Arc<str>>,
    case_exact: bool,
    ascii_strict: bool,
    /// A generated typo that is a word of these languages' lists (`words::Guard`):
    /// refused in a post that reads as one of them.
    foreign: u16,
}

/// [`Candidate::pattern`] of a typo found by lookup: this bit plus the typo's id.
const LOOKED_UP: u32 = 1 << 31;

/// A folded match that passed the boundary checks.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    pattern: u32,
    start: usize,
    end: usize,
    /// End of the suffix after the term (`end` when there is none); it decides the
    /// kind, spans stop at `end`.
    suffix_end: usize,
    /// The suffix is glued to the term without an apostrophe.
    glued: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct EntityState {
    touched: bool,
    excluded: bool,
    context: bool,
    evidence: bool,
    any: bool,
    none: bool,
    all_mask: u64,
}

/// An accepted occurrence of an owner's variant, before it is explained: its kinds,
/// suffix and a [`TermMatch`] are made only for those a hit keeps.
#[derive(Debug, Clone)]
struct Found {
    entity: u32,
    owner: u32,
    candidate: Candidate,
    generated: bool,
    /// Byte span in the original text.
    start: usize,
    end: usize,
    /// Why a case-exact term written in another case counts ([`TermMatch::evidence`]);
    /// empty, and so not allocated, for every other term.
    evidence: Vec<String>,
}

impl Found {
    /// `owner` (id `owner_id`) found at `candidate`, spanning `span` of the original.
    fn new(
        owner: &OwnerView<'_>,
        owner_id: u32,
        candidate: &Candidate,
        span: &std::ops::Range<usize>,
        evidence: Vec<String>,
    ) -> Found {
        Found {
            entity: owner.entity,
            owner: owner_id,
            candidate: *candidate,
            generated: owner.source == Source::Typo,
            start: span.start,
            end: span.end,
            evidence,
        }
    }
}

/// Per-thread buffers reused across posts so matching does not allocate in the
/// steady state (only hits allocate their explanations).
#[derive(Debug, Default)]
struct Scratch {
    folded: Folded,
    candidates: Vec<Candidate>,
    states: Vec<EntityState>,
    touched: Vec<u32>,
    found: Vec<Found>,
    positions: Vec<(u32, u32, u32)>,
    /// Word-byte masks of `folded`, 64 bytes each, for the typo lookup.
    words: Vec<u64>,
    /// Context words found (entity, original span), evidence for case-exact terms.
    hints: Vec<(u32, usize, usize)>,
    /// Case-exact terms found in another case without evidence at their place: they
    /// count when the post has other evidence.
    deferred: Vec<Found>,
    /// Glued-suffix verdicts of this thread, for every matcher.
    glued: GluedVerdicts,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Matcher {
    /// Compiles `rules`: every variant of every term into one DFA.
    pub fn new(rules: &KeywordRules) -> Result<Matcher, MatcherError> {
        let builder = Builder {
            scanned_typos: SCANNED_TYPOS,
            ..Builder::default()
        };
        Self::compile(rules, builder)
    }

    /// Tests only: [`Matcher::new`] with every generated typo looked up, however few.
    #[cfg(test)]
    fn with_typos_looked_up(rules: &KeywordRules) -> Result<Matcher, MatcherError> {
        Self::compile(rules, Builder::default())
    }

    /// Tests only: [`Matcher::new`] with every generated typo in the automaton, as
    /// before typos were looked up, to hold the lookup equal to it.
    #[cfg(test)]
    fn with_typos_in_automaton(rules: &KeywordRules) -> Result<Matcher, MatcherError> {
        let builder = Builder {
            typos_in_automaton: true,
            ..Builder::default()
        };
        Self::compile(rules, builder)
    }

    fn compile(rules: &KeywordRules, mut builder: Builder) -> Result<Matcher, MatcherError> {
        for brand in &rules.brands {
            let entity = builder.entity(Entity {
                requires_context: !brand.require_any.is_empty(),
                accent_guard: brand.ascii_strict.is_none(),
                severity: brand.severity,
                competitor: brand.competitor_of.is_some(),
                ..Entity::new(&brand.name, &brand.team, HitKind::Brand, &brand.filters)
            });
            let strict = |written: &str| ascii_strict(brand, written);
            for term in &brand.terms {
                let exact = term.case == CaseRule::Exact;
                for variant in phrase_variants(&term.text) {
                    builder
                        .add(&variant, entity, Role::Find, Source::Term, &term.text)
                        .case_exact(exact)
                        .ascii_strict(strict(&term.text));
                }
            }
            let lists = [
                (&brand.handles, Source::Handle),
                (&brand.hashtags, Source::Hashtag),
                (&brand.domains, Source::Domain),
                (&brand.misspellings, Source::Misspelling),
            ];
            for (list, source) in lists {
                for written in list {
                    builder
                        .add(written, entity, Role::Find, source, written)
                        .ascii_strict(source == Source::Misspelling && strict(written));
                }
            }
            for (list, role) in [
                (&brand.exclude, Role::Exclude),
                (&brand.require_any, Role::Context),
                (&brand.context, Role::Hint),
            ] {
                for written in list {
                    builder.add(written, entity, role, Source::Rule, written);
                }
            }
        }
        for topic in &rules.topics {
            let entity = builder.entity(Entity {
                all_count: topic.all.len() as u8,
                has_any: !topic.any.is_empty(),
                near: topic.near,
                ..Entity::new(&topic.name, &topic.team, HitKind::Topic, &topic.filters)
            });
            for (group, written) in topic.all.iter().enumerate() {
                builder.add(
                    written,
                    entity,
                    Role::All(group as u8),
                    Source::Rule,
                    written,
                );
            }
            for (list, role) in [(&topic.any, Role::Any), (&topic.none, Role::None)] {
                for written in list {
                    builder.add(written, entity, role, Source::Rule, written);
                }
            }
            // A topic built on a brand's term names words that come with real mentions
            // of the brand (`Turkcell` + `çekmiyor`): evidence for its typos.
            let folded_all: Vec<String> = topic
                .all
                .iter()
                .map(|w| fold(w).trim().to_string())
                .collect();
            for (brand_id, brand) in rules.brands.iter().enumerate() {
                let built_on = |term: &String| folded_all.contains(&fold(term).trim().to_string());
                if brand.typos == Typos::Off || !brand.terms.iter().map(|t| &t.text).any(built_on) {
                    continue;
                }
                for written in topic.any.iter().chain(&topic.all) {
                    if !built_on(written) {
                        builder.add(
                            written,
                            brand_id as u32,
                            Role::Evidence,
                            Source::Rule,
                            written,
                        );
                    }
                }
            }
        }
        // Typos go last so that any explicitly written variant (of this brand or
        // another) takes precedence over a generated one.
        for (entity, brand) in rules.brands.iter().enumerate() {
            if brand.typos == Typos::Off {
                continue;
            }
            for term in &brand.terms {
                // A slip typed with Turkish letters of a Turkish name is mostly a
                // Turkish word (`çıksa` one key from `Çimsa`): by default generated
                // typos of such a name take no accents.
                let strict = brand.ascii_strict.unwrap_or(!term.text.is_ascii());
                builder.typos(entity as u32, &term.text, strict);
            }
        }
        builder.build()
    }

    /// Number of distinct folded patterns compiled.
    pub fn pattern_count(&self) -> usize {
        self.patterns.len() + self.typos.looked_up_len()
    }

    /// Heap memory held by the compiled matcher, in bytes (automaton plus tables).
    pub fn memory_usage(&self) -> usize {
        let patterns: usize = self
            .patterns
            .iter()
            .map(|p| size_of::<Pattern>() + p.text.len() + p.owners.len() * 4)
            .sum();
        let owners: usize = self
            .owners
            .iter()
            .map(|o| {
                size_of::<Owner>()
                    + size_of::<AtomicU64>()
                    + size_of::<AtomicBool>()
                    + o.written.len()
            })
            .sum();
        let counters = (self.owners.len()..self.variant_hits.len())
            .map(|_| 2 * size_of::<AtomicU64>() + 2 * size_of::<AtomicBool>())
            .sum::<usize>();
        self.scanner.memory_usage() + patterns + owners + self.typos.memory_usage() + counters
    }

    /// The folded patterns, as the automaton searches them (for raw-scan comparisons).
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.patterns
            .iter()
            .map(|p| &*p.text)
            .chain(self.typos.looked_up_texts())
    }

    /// The brands and topics a post mentions, honouring every filter.
    pub fn match_post(&self, post: &Post) -> Vec<BrandHit> {
        self.run(&post.text, Some(post))
    }

    /// The brands and topics `text` mentions; filters on post properties pass.
    pub fn find(&self, text: &str) -> Vec<BrandHit> {
        self.run(text, None)
    }

    /// Every compiled variant (and dropped typo) of brand or topic `name` with its hit
    /// count, or `None` when there is no such entry.
    pub fn variant_report(&self, name: &str) -> Option<Vec<VariantReport>> {
        let entity = self.entities.iter().position(|e| &*e.name == name)? as u32;
        let mut report: Vec<VariantReport> = self
            .owner_ids()
            .filter(|&id| self.owner(id).entity == entity)
            .map(|id| self.report(id as usize))
            .collect();
        report.extend(
            self.dropped
                .iter()
                .filter(|d| d.entity == entity)
                .map(|d| VariantReport {
                    brand: name.to_string(),
                    term: self.typos.term(d.term).written.to_string(),
                    variant: d.variant.to_string(),
                    source: "typo",
                    hits: 0,
                    dropped: Some(d.reason),
                }),
        );
        Some(report)
    }

    /// Variants that contributed to hits, most hits first.
    pub fn busiest_variants(&self, limit: usize) -> Vec<VariantReport> {
        let mut busy: Vec<VariantReport> = self
            .owner_ids()
            .map(|id| self.report(id as usize))
            .filter(|report| report.hits > 0)
            .collect();
        busy.sort_by_key(|report| std::cmp::Reverse(report.hits));
        busy.truncate(limit);
        busy
    }

    /// Generated typos switched off as [`NOISY`] since the last call (the pipeline
    /// logs them).
    pub fn take_noisy(&self) -> Vec<VariantReport> {
        let owners =
            std::mem::take(&mut *self.newly_noisy.lock().unwrap_or_else(|e| e.into_inner()));
        owners
            .into_iter()
            .map(|id| self.report(id as usize))
            .collect()
    }

    /// Switches off, before matching starts, the generated typos named by `(brand,
    /// variant)` (the folded variant, as [`VariantReport`] names it): those an earlier
    /// matcher found noisy stay off across reloads and restarts. Written variants and
    /// names that are not a compiled typo are left alone; returns how many were
    /// switched off. They are not reported again by [`Matcher::take_noisy`].
    pub fn switch_off_typos<'a>(
        &self,
        variants: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> usize {
        let wanted: std::collections::HashSet<(&str, &str)> = variants.into_iter().collect();
        if wanted.is_empty() {
            return 0;
        }
        let written = self.owners.len() as u32;
        let mut switched = 0;
        for id in self.owner_ids().filter(|&id| id >= written) {
            let owner = self.owner(id);
            let brand = &*self.entities[owner.entity as usize].name;
            if wanted.contains(&(brand, owner.variant))
                && !self.noisy[id as usize].swap(true, Ordering::Relaxed)
            {
                switched += 1;
            }
        }
        switched
    }

    /// Switches off exactly the variants named by `(brand, variant)` (the folded variant,
    /// as [`VariantReport`] names it) that people's feedback switched off, and switches
    /// back on those it no longer names; called with the store's list before each batch,
    /// so feedback given beside the running daemon applies from its next batch. Only a
    /// generated typo or a folded form of a written term (`turktelekom`) is switched
    /// off, never the brand's own term, handle, hashtag, domain or listed misspelling.
    /// An unchanged list costs one comparison. Returns how many are off.
    pub fn set_feedback_off(&self, mut variants: Vec<(String, String)>) -> usize {
        variants.sort_unstable();
        variants.dedup();
        let mut applied = self
            .feedback_applied
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if applied.variants == variants {
            return applied.owners.len();
        }
        for &owner in &applied.owners {
            self.feedback_off[owner as usize].store(false, Ordering::Relaxed);
        }
        let wanted: std::collections::HashSet<(&str, &str)> = variants
            .iter()
            .map(|(brand, variant)| (brand.as_str(), variant.as_str()))
            .collect();
        let mut off = Vec::new();
        if !wanted.is_empty() {
            for id in self.owner_ids() {
                let owner = self.owner(id);
                let switchable = match owner.source {
                    Source::Typo => true,
                    Source::Term => fold(&owner.written[..]).trim() != owner.variant,
                    _ => false,
                };
                let brand = &*self.entities[owner.entity as usize].name;
                if switchable
                    && owner.role == Role::Find
                    && wanted.contains(&(brand, owner.variant))
                {
                    self.feedback_off[id as usize].store(true, Ordering::Relaxed);
                    off.push(id);
                }
            }
        }
        *applied = FeedbackApplied {
            variants,
            owners: off,
        };
        applied.owners.len()
    }

    /// Counts a hit's terms and switches off a generated typo that fires like a word
    /// ([`switch_off_as_noisy`]); `context`: the post carried one of the brand's context
    /// words, which with a written term beside the typo is the evidence it is weighed by.
    fn count(&self, entity: u32, terms: &[Found], context: bool) {
        let has_written = terms.iter().any(|term| !term.generated);
        let written = if has_written {
            self.written_hits[entity as usize].fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.written_hits[entity as usize].load(Ordering::Relaxed)
        };
        for term in terms {
            let owner = term.owner;
            let hits = self.variant_hits[owner as usize].fetch_add(1, Ordering::Relaxed) + 1;
            if !term.generated {
                continue;
            }
            let evidence = &self.evidence_hits[owner as usize];
            let with_evidence = if has_written || context {
                evidence.fetch_add(1, Ordering::Relaxed) + 1
            } else {
                evidence.load(Ordering::Relaxed)
            };
            let tally = TypoTally {
                hits,
                with_evidence,
                written_hits: written,
            };
            if switch_off_as_noisy(tally)
                && !self.noisy[owner as usize].swap(true, Ordering::Relaxed)
            {
                self.newly_noisy
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(owner);
            }
        }
    }

    /// The explanation of a kept occurrence in `text` (folded in `folded`).
    /// Its evidence moves into the explanation.
    fn explain(&self, found: &mut Found, text: &str, folded: &Folded) -> TermMatch {
        self.owner(found.owner).term_match(
            text,
            folded,
            &found.candidate,
            found.start..found.end,
            std::mem::take(&mut found.evidence),
        )
    }

    /// Every owner id in use: written variants, then generated typos.
    fn owner_ids(&self) -> impl Iterator<Item = u32> + '_ {
        let written = self.owners.len() as u32;
        (0..self.variant_hits.len() as u32)
            .filter(move |&id| id < written || !self.typos.is_removed(id - written))
    }

    /// Owner `id`, written or generated.
    fn owner(&self, id: u32) -> OwnerView<'_> {
        match self.owners.get(id as usize) {
            Some(owner) => OwnerView {
                entity: owner.entity,
                role: owner.role,
                source: owner.source,
                written: &owner.written,
                variant: &self.patterns[owner.pattern as usize].text,
                shared_variant: Some(&self.patterns[owner.pattern as usize].text),
                case_exact: owner.case_exact,
                ascii_strict: owner.ascii_strict,
                foreign: 0,
            },
            None => {
                let typo = id - self.owners.len() as u32;
                let term = self.typos.term_of(typo);
                OwnerView {
                    entity: term.entity,
                    role: Role::Find,
                    source: Source::Typo,
                    written: &term.written,
                    variant: self.typos.text(typo),
                    shared_variant: None,
                    case_exact: false,
                    ascii_strict: term.ascii_strict,
                    foreign: self.typos.foreign(typo),
                }
            }
        }
    }

    fn report(&self, owner_id: usize) -> VariantReport {
        let owner = self.owner(owner_id as u32);
        let source = match (owner.source, owner.role) {
            (Source::Term, _) => "term",
            (Source::Handle, _) => "handle",
            (Source::Hashtag, _) => "hashtag",
            (Source::Domain, _) => "domain",
            (Source::Misspelling, _) => "misspelling",
            (Source::Typo, _) => "typo",
            (Source::Rule, Role::Exclude) => "exclude",
            (Source::Rule, Role::Context) => "require_any",
            (Source::Rule, Role::Hint) => "context",
            (Source::Rule, Role::All(_)) => "all",
            (Source::Rule, Role::Any) => "any",
            (Source::Rule, Role::Evidence) => "context",
            (Source::Rule, _) => "none",
        };
        VariantReport {
            brand: self.entities[owner.entity as usize].name.to_string(),
            term: owner.written.to_string(),
            variant: owner.variant.to_string(),
            source,
            hits: self.variant_hits[owner_id].load(Ordering::Relaxed),
            dropped: if self.noisy[owner_id].load(Ordering::Relaxed) {
                Some(NOISY)
            } else {
                self.feedback_off[owner_id]
                    .load(Ordering::Relaxed)
                    .then_some(FEEDBACK_OFF)
            },
        }
    }

    fn run(&self, text: &str, post: Option<&Post>) -> Vec<BrandHit> {
        SCRATCH.with(|scratch| self.run_with(&mut scratch.borrow_mut(), text, post))
    }

    fn run_with(&self, scratch: &mut Scratch, text: &str, post: Option<&Post>) -> Vec<BrandHit> {
        scratch.folded.fold_into(text);
        scratch.candidates.clear();
        let Scratch {
            folded,
            candidates,
            words,
            glued,
            ..
        } = scratch;
        let folded = folded.as_bytes();
        // What the rules ask of the whole post (does it look Turkish, read as another
        // language, …), each worked out at most once and only when a rule asks.
        let mut facts = typos::PostFacts::new(text);
        let scanned = |id, start, end| {
            let pattern = &self.patterns[id as usize];
            // The glued word is judged only when an owner could accept a suffix; the
            // owners that cannot refuse a glued candidate below.
            let glue = |word_end| {
                pattern.takes_glued_suffix
                    && glued.accepts(&folded[start..word_end], end - start, |test| match test {
                        PostTest::LooksTurkish => facts.looks_turkish(),
                        PostTest::NotForeign => !facts.reads_foreign(),
                    })
            };
            if let Some(candidate) = candidate(folded, pattern, id, start, end, glue) {
                candidates.push(candidate);
            }
        };
        if self.typos.is_empty() {
            self.scanner.for_each(folded, scanned);
        } else {
            self.scanner.for_each_with_words(folded, words, scanned);
        }
        let scanned = candidates.len();
        self.typos.for_each(folded, words, |id, start, end| {
            candidates.push(Candidate {
                pattern: LOOKED_UP | id,
                start,
                end,
                suffix_end: end,
                glued: false,
            });
        });
        if candidates.len() > scanned {
            // The order the automaton reports in (by end, the longer first), which
            // decides among equal matches later.
            candidates.sort_unstable_by_key(|c| (c.end, c.start));
        }
        if scratch.candidates.is_empty() {
            return Vec::new();
        }
        if scratch.states.len() < self.entities.len() {
            scratch
                .states
                .resize(self.entities.len(), EntityState::default());
        }
        let Scratch {
            folded,
            candidates,
            states,
            touched,
            found,
            positions,
            hints,
            deferred,
            ..
        } = scratch;
        for candidate in candidates.iter() {
            let term_range = folded.original_range(candidate.start..candidate.end);
            let typo_owner = [(candidate.pattern & !LOOKED_UP) + self.owners.len() as u32];
            let owners = if candidate.pattern & LOOKED_UP != 0 {
                &typo_owner[..]
            } else {
                &self.patterns[candidate.pattern as usize].owners[..]
            };
            for &owner_id in owners {
                let owner = self.owner(owner_id);
                // A generated typo must stand alone: typo plus suffix is two steps away
                // from the term and mostly another word (`googl` + `e`).
                let suffixed = candidate.suffix_end > candidate.end;
                // A glued candidate's word passed `typos::accepts_glued_suffix` in the
                // scan (`glued::GluedVerdicts`); it holds for every owner that accepts
                // a glued suffix. A name that goes on past the brand (`Thyde Monnier`)
                // does not, unless the post is Turkish (`Turkcellden Ahmet Bey aradı`).
                let accepted = (!candidate.glued
                    || owner.accepts_suffix()
                        && (!owner.is_name()
                            || typos::name_takes_glued_suffix(
                                self.patterns[candidate.pattern as usize].name,
                                || facts.looks_turkish(),
                            ))
                        && (!typos::in_name_run(
                            text,
                            folded.original_range(candidate.start..candidate.suffix_end),
                        ) || facts.looks_turkish()))
                    && !self.feedback_off[owner_id as usize].load(Ordering::Relaxed)
                    && !(owner.source == Source::Typo
                        && (suffixed
                            || self.noisy[owner_id as usize].load(Ordering::Relaxed)
                            || facts.reads_as_other_name(term_range.clone())
                            || owner.foreign != 0 && facts.reads_as(owner.foreign, owner.variant)))
                    && self.accents_allowed(&owner, &text[term_range.clone()]);
                if !accepted {
                    continue;
                }
                let mut evidence = Vec::new();
                // A capitalised slip in a post of another language is mostly somebody's
                // name (`Nobby`, `Mr. Merto`) or a German noun (`Bummel`): it counts
                // only with evidence of its brand, as a case-exact term in another case.
                let name_like = owner.source == Source::Typo
                    && typos::is_capitalised(&text[term_range.clone()])
                    && facts.reads_foreign();
                if name_like
                    || owner.case_exact && !same_case(&text[term_range.clone()], owner.written)
                {
                    evidence = typed_as_name(text, folded, candidate);
                    if evidence.is_empty() {
                        // Other evidence may come later in the post: decided below.
                        deferred.push(Found::new(
                            &owner,
                            owner_id,
                            candidate,
                            &term_range,
                            evidence,
                        ));
                        continue;
                    }
                }
                let state = &mut states[owner.entity as usize];
                if !state.touched {
                    state.touched = true;
                    touched.push(owner.entity);
                }
                match owner.role {
                    Role::Exclude => state.excluded = true,
                    Role::Context | Role::Hint => {
                        state.context |= owner.role == Role::Context;
                        // A brand's context word is evidence for the noisy switch too.
                        state.evidence |= owner.role == Role::Hint;
                        hints.push((owner.entity, term_range.start, term_range.end));
                    }
                    Role::None => state.none = true,
                    Role::All(group) => state.all_mask |= 1 << group,
                    Role::Any => state.any = true,
                    Role::Evidence => state.evidence = true,
                    Role::Find => {}
                }
                let group = match owner.role {
                    Role::All(group) => u32::from(group),
                    Role::Any => u32::from(self.entities[owner.entity as usize].all_count),
                    _ => u32::MAX,
                };
                if group != u32::MAX && self.entities[owner.entity as usize].near.is_some() {
                    positions.push((
                        owner.entity,
                        group,
                        word_index(folded.as_bytes(), candidate.start),
                    ));
                }
                if matches!(owner.role, Role::Find | Role::All(_) | Role::Any) {
                    found.push(Found::new(
                        &owner,
                        owner_id,
                        candidate,
                        &term_range,
                        evidence,
                    ));
                }
            }
        }
        if !deferred.is_empty() {
            self.decide_deferred(text, deferred, hints, found, states, touched);
        }
        hints.clear();
        touched.sort_unstable();
        // Grouped by entity, in the order found within each (stable): each group is
        // decided in place as `touched` reaches it (every entity of `found` is in
        // `touched`), without copying it out.
        found.sort_by_key(|found| found.entity);
        let mut group_start = 0;
        let mut hits = Vec::new();
        for &entity_id in touched.iter() {
            let group_len = found[group_start..]
                .iter()
                .take_while(|found| found.entity == entity_id)
                .count();
            let group = &mut found[group_start..group_start + group_len];
            group_start += group_len;
            let entity = &self.entities[entity_id as usize];
            let state = std::mem::take(&mut states[entity_id as usize]);
            let fires = match entity.kind {
                HitKind::Brand => !state.excluded && (!entity.requires_context || state.context),
                HitKind::Topic => {
                    let all = if entity.all_count == 0 {
                        0
                    } else {
                        u64::MAX >> (64 - entity.all_count)
                    };
                    state.all_mask == all
                        && (!entity.has_any || state.any)
                        && !state.none
                        && entity
                            .near
                            .is_none_or(|near| within(positions, entity_id, entity.groups(), near))
                }
            } && passes(&entity.filters, post);
            if !fires || group.is_empty() {
                continue;
            }
            let kept = longest_non_overlapping(group);
            let kept = &mut group[..kept];
            self.count(entity_id, kept, state.context || state.evidence);
            hits.push(
                entity.hit(
                    kept.iter_mut()
                        .map(|found| self.explain(found, text, folded))
                        .collect(),
                ),
            );
        }
        found.clear();
        touched.clear();
        positions.clear();
        hits
    }
}

impl Matcher {
    /// Whether `original`, found for `owner`, may carry the accents it has.
    fn accents_allowed(&self, owner: &OwnerView<'_>, original: &str) -> bool {
        // ASCII text carries no accents: no character walk.
        let accented = || !original.is_ascii() && original.chars().any(is_accented);
        // An accent on a slip of an ASCII name is a second step away from it (`Inté`
        // for Intel): another word.
        if owner.ascii_strict || owner.source == Source::Typo && owner.written.is_ascii() {
            return !accented();
        }
        let guard = self.entities[owner.entity as usize].accent_guard;
        !(guard && owner.written.is_ascii() && accented() && accented_word(original))
    }

    /// Keeps each case-exact term found in another case (`thy`) whose brand has other
    /// evidence in the post: one of its context words, or another of its terms.
    fn decide_deferred(
        &self,
        text: &str,
        deferred: &mut Vec<Found>,
        hints: &[(u32, usize, usize)],
        found: &mut Vec<Found>,
        states: &mut [EntityState],
        touched: &mut Vec<u32>,
    ) {
        let written = found.len();
        for mut term in deferred.drain(..) {
            let entity = term.entity;
            let context = hints
                .iter()
                .find(|(e, _, _)| *e == entity)
                .map(|&(_, start, end)| format!("context:{}", &text[start..end]));
            let other = || {
                found[..written]
                    .iter()
                    .find(|t| t.entity == entity && t.evidence.is_empty())
                    .map(|t| format!("term:{}", &text[t.start..t.end]))
            };
            let Some(evidence) = context.or_else(other) else {
                continue;
            };
            term.evidence.push(evidence);
            let state = &mut states[entity as usize];
            if !state.touched {
                state.touched = true;
                touched.push(entity);
            }
            found.push(term);
        }
    }
}

impl OwnerView<'_> {
    /// The explanation of a match of this owner at `candidate`, whose term spans
    /// `range` of the original text.
    fn term_match(
        &self,
        text: &str,
        folded: &Folded,
        candidate: &Candidate,
        range: std::ops::Range<usize>,
        evidence: Vec<String>,
    ) -> TermMatch {
        let matched = &text[range.clone()];
        let suffix = (candidate.suffix_end > candidate.end).then(|| {
            let suffix = folded.original_range(candidate.end..candidate.suffix_end);
            text[suffix].to_string()
        });
        let base = match self.source {
            Source::Handle => TermKind::Handle,
            Source::Hashtag => TermKind::Hashtag,
            Source::Domain => TermKind::Domain,
            Source::Misspelling | Source::Typo => TermKind::Misspelling,
            Source::Term | Source::Rule if matched == &**self.written => TermKind::Exact,
            Source::Term | Source::Rule => TermKind::Folded,
        };
        let kinds = TermKinds::new(base, suffix.is_some());
        let kind = match self.source {
            Source::Term | Source::Rule if suffix.is_some() => TermKind::Suffix,
            _ => base,
        };
        TermMatch {
            term: Arc::clone(self.written),
            matched: matched.to_string(),
            kind,
            variant: self
                .shared_variant
                .map_or_else(|| Arc::from(self.variant), Arc::clone),
            generated: self.source == Source::Typo,
            start: range.start,
            end: range.end,
            kinds,
            suffix,
            evidence,
        }
    }

    /// Whether this is a brand's name (a term or a written misspelling of it), whose
    /// glued suffixes also depend on what the name is as a word
    /// (`typos::name_takes_glued_suffix`); topic and context words are words by design.
    fn is_name(&self) -> bool {
        self.role == Role::Find && matches!(self.source, Source::Term | Source::Misspelling)
    }

    /// Whether a Turkish suffix glued without an apostrophe may follow.
    fn accepts_suffix(&self) -> bool {
        matches!(
            self.source,
            Source::Term | Source::Misspelling | Source::Rule
        )
    }
}

impl Entity {
    /// An entity without rules beyond finding its terms.
    fn new(name: &str, team: &Option<String>, kind: HitKind, filters: &Filters) -> Entity {
        Entity {
            name: Arc::from(name),
            team: team.as_deref().map(Arc::from),
            kind,
            severity: Severity::Normal,
            competitor: false,
            filters: filters.clone(),
            requires_context: false,
            all_count: 0,
            has_any: false,
            near: None,
            accent_guard: false,
        }
    }

    /// A hit of this entry with `terms`.
    fn hit(&self, terms: Vec<TermMatch>) -> BrandHit {
        BrandHit {
            brand: Arc::clone(&self.name),
            team: self.team.clone(),
            kind: self.kind,
            severity: self.severity,
            competitor: self.competitor,
            terms,
        }
    }

    fn groups(&self) -> u32 {
        u32::from(self.all_count) + u32::from(self.has_any)
    }
}

/// Collects patterns and their owners while compiling.
#[derive(Default)]
struct Builder {
    patterns: Vec<Pattern>,
    index: HashMap<String, u32>,
    owners: Vec<Owner>,
    typos: TypoIndex,
    entities: Vec<Entity>,
    dropped: Vec<Dropped>,
    /// Up to this many generated typos go into the automaton after all.
    scanned_typos: usize,
    #[cfg(test)]
    typos_in_automaton: bool,
}

/// Up to this many generated typos (about 200 brands' worth) the automaton holds them:
/// it finds them at no cost per word, and its size stays moderate (about 500 bytes per
/// typo). Beyond, they are looked up at word ends, which costs some matching speed but
/// keeps compiling thousands of brands fast and small.
const SCANNED_TYPOS: usize = 50_000;

impl Builder {
    fn entity(&mut self, entity: Entity) -> u32 {
        self.entities.push(entity);
        self.entities.len() as u32 - 1
    }

    /// Registers `variant` (folded here) for `entity`; returns the new owner so the
    /// caller can set per-term checks.
    fn add(
        &mut self,
        variant: &str,
        entity: u32,
        role: Role,
        source: Source,
        written: &str,
    ) -> &mut Owner {
        let folded = fold(variant).trim().to_string();
        let pattern = self.pattern(folded);
        self.owners.push(Owner {
            entity,
            role,
            source,
            written: Arc::from(written),
            pattern,
            case_exact: false,
            ascii_strict: false,
        });
        let id = self.owners.len() as u32 - 1;
        self.patterns[pattern as usize].owners.push(id);
        self.owners.last_mut().expect("an owner was just pushed")
    }

    fn pattern(&mut self, folded: String) -> u32 {
        match self.index.entry(folded) {
            Entry::Occupied(entry) => *entry.get(),
            Entry::Vacant(entry) => {
                let text: Arc<str> = Arc::from(entry.key().as_str());
                let id = self.patterns.len() as u32;
                entry.insert(id);
                let word_end = text.chars().next_back().is_some_and(is_word_char);
                self.patterns.push(Pattern {
                    text,
                    owners: Vec::new(),
                    word_end,
                    takes_glued_suffix: false,
                    name: words::NameWord::Name,
                });
                id
            }
        }
    }

    fn typos(&mut self, entity: u32, written: &str, ascii_strict: bool) {
        let folded = fold(written);
        // Slips in joined forms too: `yapikrdi`, `mcdonlds` (`McDonald's` joined).
        let mut bases = vec![folded.clone()];
        for joined in [
            folded.replace(' ', ""),
            folded.replace(|c: char| c == ' ' || c.is_ascii_punctuation(), ""),
        ] {
            if !bases.contains(&joined) {
                bases.push(joined);
            }
        }
        let term = self.typos.add_term(entity, written, ascii_strict);
        for base in bases {
            for variant in typos::variants(&base) {
                let reason = if variant.real_word {
                    Some("real word")
                } else if self.index.contains_key(&variant.text) {
                    // Typos that repeat an earlier typo are found at the end.
                    Some("taken by another term")
                } else {
                    None
                };
                match reason {
                    Some(reason) => self.dropped.push(Dropped {
                        after: self.typos.len() as u32,
                        late: false,
                        entity,
                        term,
                        variant: variant.text.into_boxed_str(),
                        reason,
                    }),
                    None if typo_index::looked_up(&variant.text) && !self.scans_typos() => {
                        let id = self.typos.push(&variant.text, term, true);
                        self.typos.set_foreign(id, variant.foreign);
                    }
                    None => {
                        // Not bounded by word bytes: the automaton finds it.
                        let folded = fold(&variant.text).trim().to_string();
                        let typo = self.typos.push(&folded, term, false);
                        self.typos.set_foreign(typo, variant.foreign);
                        let id = self.owners.len() as u32 + typo;
                        let pattern = self.pattern(folded);
                        self.patterns[pattern as usize].owners.push(id);
                    }
                }
            }
        }
    }

    /// Every generated typo goes into the automaton (tests compare the two ways).
    fn scans_typos(&self) -> bool {
        #[cfg(test)]
        return self.typos_in_automaton;
        #[cfg(not(test))]
        false
    }

    fn build(mut self) -> Result<Matcher, MatcherError> {
        let removed = self.typos.finish();
        if self.typos.looked_up_len() <= self.scanned_typos {
            let written = self.owners.len() as u32;
            for id in self.typos.take_looked_up() {
                let pattern = self.pattern(self.typos.text(id).to_string());
                self.patterns[pattern as usize].owners.push(written + id);
            }
        }
        for (id, term, variant) in removed {
            self.dropped.push(Dropped {
                after: id,
                late: true,
                entity: self.typos.term(term).entity,
                term,
                variant: variant.into_boxed_str(),
                reason: "taken by another term",
            });
        }
        self.dropped.sort_by_key(|d| (d.after, d.late));
        let scanner = Scanner::new(self.patterns.iter().map(|p| p.text.as_bytes()))?;
        let owners = self.owners.len() + self.typos.len();
        let variant_hits = (0..owners).map(|_| AtomicU64::new(0)).collect();
        let noisy = (0..owners).map(|_| AtomicBool::new(false)).collect();
        let evidence_hits = (0..owners).map(|_| AtomicU64::new(0)).collect();
        let feedback_off = (0..owners).map(|_| AtomicBool::new(false)).collect();
        let written_hits = self.entities.iter().map(|_| AtomicU64::new(0)).collect();
        let mut matcher = Matcher {
            scanner,
            patterns: self.patterns,
            owners: self.owners,
            typos: self.typos,
            entities: self.entities,
            variant_hits,
            noisy,
            evidence_hits,
            feedback_off,
            feedback_applied: Mutex::default(),
            written_hits,
            newly_noisy: Mutex::default(),
            dropped: self.dropped,
        };
        let takes: Vec<bool> = matcher
            .patterns
            .iter()
            .map(|p| {
                p.owners
                    .iter()
                    .any(|&id| matcher.owner(id).accepts_suffix())
            })
            .collect();
        for (pattern, takes) in matcher.patterns.iter_mut().zip(takes) {
            pattern.takes_glued_suffix = takes;
            // Looked up only where a glued suffix can be read (word-list lookups).
            if takes {
                pattern.name = typos::glued_name(&pattern.text);
            }
        }
        Ok(matcher)
    }
}

impl Owner {
    fn case_exact(&mut self, on: bool) -> &mut Owner {
        self.case_exact = on;
        self
    }

    fn ascii_strict(&mut self, on: bool) -> &mut Owner {
        self.ascii_strict = on;
        self
    }
}

/// A phrase also matches joined and hyphenated (`Türk Telekom` ~ `TürkTelekom` ~
/// `turk-telekom`), a hyphenated term spaced and joined (`Coca-Cola` ~ `Coca Cola`), and
/// a term with an apostrophe or another mark without it (`McDonald's` ~ `mcdonalds`,
/// `Arby's` ~ `arbys`, `Booking.com` ~ `bookingcom`, `Procter & Gamble` ~
/// `proctergamble`), each also with Turkish suffixes (`mcdonaldsdan`).
fn phrase_variants(term: &str) -> Vec<String> {
    let mut variants = vec![term.to_string()];
    let folded = fold(term);
    let mut spellings = vec![term.to_string()];
    if folded.contains('\'') {
        spellings.push(folded.replace('\'', ""));
    }
    // Every mark left out, the hyphen aside (it also splits, below): `Coca-Cola` is
    // `coca cola` and `cocacola` already, `Booking.com` is `bookingcom`. Not for a
    // short name: `H&M` without its mark is the word `hm`, `C&A` is `ca`.
    let unmarked = folded.replace(|c: char| c.is_ascii_punctuation() && c != '-', "");
    let long = unmarked.chars().filter(|c| c.is_alphanumeric()).count() >= 5;
    if long && unmarked != folded && !spellings.contains(&unmarked) {
        spellings.push(unmarked);
    }
    let splits: [&dyn Fn(char) -> bool; 2] =
        [&char::is_whitespace, &|c| c.is_whitespace() || c == '-'];
    for spelling in &spellings {
        if !variants.contains(spelling) {
            variants.push(spelling.clone());
        }
        for split in splits {
            let words: Vec<&str> = spelling
                .split(split)
                .filter(|word| !word.is_empty())
                .collect();
            if words.len() < 2 {
                continue;
            }
            for variant in [words.join(" "), words.concat(), words.join("-")] {
                if !variants.contains(&variant) {
                    variants.push(variant);
                }
            }
        }
    }
    variants
}

/// Whether ASCII-only `written` of `brand` refuses every accented spelling
/// (`ascii_strict = true`). By default it refuses only accented words that are words as
/// written (see [`accented_word`]).
fn ascii_strict(brand: &Brand, written: &str) -> bool {
    written.is_ascii() && brand.ascii_strict == Some(true)
}

/// True when a word of `original` carrying an accent is, as written, a bundled word
/// (`über` for Uber, `grátis` for Gratis), so the accent makes it another word rather
/// than the name typed on a Turkish keyboard (`Türkcell`).
fn accented_word(original: &str) -> bool {
    original
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.chars().any(is_accented))
        .any(|word| typos::is_listed_as_written(&word.to_lowercase()))
}

/// Applies the right-hand boundary rules to an automaton match (the scanner has
/// already kept it off a word on its left): the pattern must not be glued to word
/// characters, except to a Turkish suffix when `glue(word_end)` accepts the glued word
/// `folded[start..word_end]`; an apostrophe suffix (`turkcell'e`) is noted too.
fn candidate(
    folded: &[u8],
    pattern: &Pattern,
    id: u32,
    start: usize,
    end: usize,
    glue: impl FnOnce(usize) -> bool,
) -> Option<Candidate> {
    let mut candidate = Candidate {
        pattern: id,
        start,
        end,
        suffix_end: end,
        glued: false,
    };
    if !pattern.word_end {
        return Some(candidate);
    }
    match char_at(folded, end) {
        Some(c) if is_word_char(c) => {
            let word_end = end_of_word(folded, end);
            if !glue(word_end) {
                return None;
            }
            candidate.suffix_end = word_end;
            candidate.glued = true;
        }
        Some('\'') if char_at(folded, end + 1).is_some_and(char::is_alphabetic) => {
            candidate.suffix_end = end_of_word(folded, end + 1);
        }
        _ => {}
    }
    Some(candidate)
}

fn end_of_word(folded: &[u8], mut at: usize) -> usize {
    while let Some(c) = char_at(folded, at).filter(|&c| is_word_char(c)) {
        at += c.len_utf8();
    }
    at
}

/// Number of words that start before byte `at` of the folded text. Byte by byte: in
/// folded text every non-ASCII character is a word character, so a word byte is a
/// byte of a word character.
fn word_index(folded: &[u8], at: usize) -> u32 {
    let mut words = 0;
    let mut in_word = false;
    for &byte in &folded[..at] {
        let word = scan::is_word_byte(byte);
        words += u32::from(word && !in_word);
        in_word = word;
    }
    words
}

/// True when one occurrence of each of `groups` groups of `entity` lies within a
/// window of `near` words.
fn within(positions: &[(u32, u32, u32)], entity: u32, groups: u32, near: u32) -> bool {
    let mut mine: Vec<(u32, u32)> = positions
        .iter()
        .filter(|(e, _, _)| *e == entity)
        .map(|&(_, group, word)| (word, group))
        .collect();
    mine.sort_unstable();
    let mut counts = vec![0u32; groups as usize];
    let mut covered = 0;
    let mut left = 0;
    for right in 0..mine.len() {
        let group = mine[right].1 as usize;
        counts[group] += 1;
        if counts[group] == 1 {
            covered += 1;
        }
        while covered == groups {
            if mine[right].0 - mine[left].0 <= near {
                return true;
            }
            let group = mine[left].1 as usize;
            counts[group] -= 1;
            if counts[group] == 0 {
                covered -= 1;
            }
            left += 1;
        }
    }
    false
}

/// Letter case of `original` agrees with `written`: letter by letter when both have
/// as many letters, else both all upper-case or both not.
fn same_case(original: &str, written: &str) -> bool {
    fn cases(text: &str) -> impl Iterator<Item = bool> + '_ {
        text.chars()
            .filter(|c| c.is_alphabetic())
            .map(char::is_uppercase)
    }
    if cases(original).count() == cases(written).count() {
        cases(original).eq(cases(written))
    } else {
        cases(original).all(|upper| upper) == cases(written).all(|upper| upper)
    }
}

/// What shows, at its own place, that a case-exact term written in another case is the
/// name all the same: an apostrophe suffix after it (`thy'nin`: `suffix:'nin`), or a
/// `#` or `@` right before it (`hashtag:#thy`, `handle:@thy`). Empty when nothing does.
fn typed_as_name(text: &str, folded: &Folded, candidate: &Candidate) -> Vec<String> {
    let range = folded.original_range(candidate.start..candidate.end);
    let mut evidence = Vec::new();
    match text[..range.start].chars().next_back() {
        Some('#') => evidence.push(format!("hashtag:#{}", &text[range.clone()])),
        Some('@') => evidence.push(format!("handle:@{}", &text[range.clone()])),
        _ => {}
    }
    if candidate.suffix_end > candidate.end && !candidate.glued {
        let suffix = folded.original_range(candidate.end..candidate.suffix_end);
        evidence.push(format!("suffix:{}", &text[suffix]));
    }
    evidence
}

/// Whether a post passes `filters`; properties the post does not have pass.
fn passes(filters: &Filters, post: Option<&Post>) -> bool {
    let Some(post) = post else {
        return true;
    };
    let author = post.author.as_ref();
    let lang_ok = filters.lang.is_empty()
        || post
            .lang
            .as_ref()
            .is_none_or(|lang| filters.lang.iter().any(|l| l.eq_ignore_ascii_case(lang)));
    let source_ok = filters.sources.is_empty() || filters.sources.contains(&post.source);
    let followers_ok = filters.min_followers.is_none_or(|min| {
        author
            .and_then(|a| a.followers)
            .is_none_or(|followers| followers >= min)
    });
    let not_own = author
        .and_then(|a| a.handle.as_deref())
        .is_none_or(|handle| {
            let handle = handle.trim_start_matches('@');
            !filters
                .own_handles
                .iter()
                .any(|own| own.eq_ignore_ascii_case(handle))
        });
    let not_repost = !filters.skip_reposts
        || !(post.kind.as_deref() == Some("repost") || post.text.starts_with("RT @"));
    lang_ok && source_ok && followers_ok && not_own && not_repost
}

/// Keeps, among overlapping matches, the earliest, then the longest, then a written
/// variant rather than a generated one: moves them, in order, to the front of `terms`
/// and returns how many they are.
fn longest_non_overlapping(terms: &mut [Found]) -> usize {
    terms.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.end.cmp(&a.end))
            .then(a.generated.cmp(&b.generated))
    });
    // Kept terms move to the front in order; the rest are left behind them.
    let (mut end, mut kept) = (0, 0);
    for at in 0..terms.len() {
        if terms[at].start >= end {
            end = terms[at].end;
            terms.swap(kept, at);
            kept += 1;
        }
    }
    kept
}

#[cfg(test)]
mod quality_tests;
#[cfg(test)]
mod tests;
