//! What a keyword set costs: the full matcher over a corpus (one post a line) next to a
//! bare aho-corasick DFA scan of the same patterns over the same bytes.
//!
//! This is the one place in the matcher that reads a clock; `mentiond bench` prints
//! its [`BenchReport`].

use std::time::{Duration, Instant};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use serde::Serialize;

use super::{Matcher, MatcherError, VariantReport};
use crate::keywords::KeywordRules;
use crate::text::Folded;

/// Passes over the corpus per engine; the median time is reported.
const RUNS: usize = 3;

/// Results of one benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Posts (lines) in the corpus.
    pub posts: usize,
    /// Bytes of post text (without line ends).
    pub bytes: usize,
    /// Distinct folded patterns compiled.
    pub patterns: usize,
    /// Time to compile the keywords, seconds.
    pub compile_seconds: f64,
    /// Heap held by the compiled matcher, bytes.
    pub memory_bytes: usize,
    /// The full matcher (fold, scan, boundaries, checks, rules).
    pub matcher: EngineRun,
    /// A DFA over the same folded patterns, scanning the raw bytes, counting matches.
    pub raw_dfa: EngineRun,
    /// The same DFA over text folded beforehand (folding not timed): the scan alone.
    pub prefolded_dfa: EngineRun,
    /// `matcher.mb_per_s / raw_dfa.mb_per_s`.
    pub ratio: f64,
    /// Posts with at least one hit.
    pub posts_with_hits: usize,
    /// Brand and topic hits.
    pub hits: usize,
    /// Hits to which a generated typo variant contributed.
    pub typo_hits: usize,
    /// The variants behind most hits (one pass).
    pub busiest_variants: Vec<VariantReport>,
}

/// Timing of one engine over the corpus.
#[derive(Debug, Clone, Serialize)]
pub struct EngineRun {
    /// Median seconds per pass.
    pub seconds: f64,
    /// Posts per second.
    pub posts_per_s: f64,
    /// Megabytes (10^6 bytes) per second.
    pub mb_per_s: f64,
}

/// Compiles `rules` and runs both engines over `corpus`, one post a line, on this
/// thread.
pub fn run(rules: &KeywordRules, corpus: &str) -> Result<BenchReport, MatcherError> {
    let posts: Vec<&str> = corpus.lines().collect();
    let bytes: usize = posts.iter().map(|p| p.len()).sum();
    let mut compile = Vec::new();
    let mut matcher_times = Vec::new();
    let mut last = None;
    let (mut posts_with_hits, mut hits, mut typo_hits) = (0, 0, 0);
    for _ in 0..RUNS {
        let started = Instant::now();
        let matcher = Matcher::new(rules)?;
        compile.push(started.elapsed());
        let started = Instant::now();
        (posts_with_hits, hits, typo_hits) = (0, 0, 0);
        for post in &posts {
            let found = matcher.find(post);
            posts_with_hits += usize::from(!found.is_empty());
            hits += found.len();
            typo_hits += found
                .iter()
                .filter(|hit| hit.terms.iter().any(|t| t.generated))
                .count();
        }
        matcher_times.push(started.elapsed());
        last = Some(matcher);
    }
    let matcher = last.expect("RUNS is at least one");
    let raw = AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::DFA))
        .match_kind(MatchKind::Standard)
        .build(matcher.patterns())?;
    let mut raw_times = time_scan(&raw, posts.iter().map(|post| post.as_bytes()));
    let mut folded = Folded::default();
    let mut prefolded: Vec<u8> = Vec::with_capacity(bytes);
    let mut ends = Vec::with_capacity(posts.len());
    for post in &posts {
        folded.fold_into(post);
        prefolded.extend_from_slice(folded.as_bytes());
        ends.push(prefolded.len());
    }
    let starts = std::iter::once(0).chain(ends.iter().copied());
    let prefolded_posts: Vec<&[u8]> = starts
        .zip(&ends)
        .map(|(start, &end)| &prefolded[start..end])
        .collect();
    let mut prefolded_times = time_scan(&raw, prefolded_posts.iter().copied());
    let engine = |times: &mut Vec<Duration>| {
        let seconds = median(times).as_secs_f64();
        EngineRun {
            seconds,
            posts_per_s: posts.len() as f64 / seconds,
            mb_per_s: bytes as f64 / 1e6 / seconds,
        }
    };
    let matcher_run = engine(&mut matcher_times);
    let raw_run = engine(&mut raw_times);
    let prefolded_run = engine(&mut prefolded_times);
    Ok(BenchReport {
        posts: posts.len(),
        bytes,
        patterns: matcher.pattern_count(),
        compile_seconds: median(&mut compile).as_secs_f64(),
        memory_bytes: matcher.memory_usage(),
        ratio: matcher_run.mb_per_s / raw_run.mb_per_s,
        matcher: matcher_run,
        raw_dfa: raw_run,
        prefolded_dfa: prefolded_run,
        posts_with_hits,
        hits,
        typo_hits,
        busiest_variants: matcher.busiest_variants(15),
    })
}

/// Median-ready pass times of an overlapping scan over `posts`, one call per post.
fn time_scan<'a>(
    dfa: &AhoCorasick,
    posts: impl Iterator<Item = &'a [u8]> + Clone,
) -> Vec<Duration> {
    (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let matches: usize = posts
                .clone()
                .map(|post| dfa.find_overlapping_iter(post).count())
                .sum();
            // Keeps the scan's work observable so it cannot be optimised away.
            std::hint::black_box(matches);
            started.elapsed()
        })
        .collect()
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}
