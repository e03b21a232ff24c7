//! The scan: a word-anchored Aho–Corasick automaton over folded text.
//!
//! A pattern that begins with a word character only counts at the start of a word
//! (`thy` must not fire inside `worthy`). A plain Aho–Corasick automaton finds it
//! anywhere and leaves the rejection to a later check; this one never starts a match
//! inside a word. It is the classic construction with two roots instead of one:
//!
//! - `BOUNDARY`: the previous byte is not a word byte (or the text just began), so a
//!   pattern may start at the next byte;
//! - `IN_WORD`: the previous byte is a word byte and no pattern is under way, so the
//!   next byte may start a pattern only if it is not a word byte itself.
//!
//! Failure links follow only suffixes that start where a match may start, and end at
//! whichever root fits the last byte. The result is a dense DFA (one table lookup per
//! byte, like aho-corasick's own DFA) that idles in `IN_WORD` through the inside of
//! words instead of chasing every suffix through the trie, and that reports exactly
//! the matches an unanchored search would report minus those glued to a word on the
//! left.
//!
//! Word bytes are ASCII letters, digits and `_`, and every byte of a non-ASCII
//! character: after [`fold`](crate::text::fold) every non-ASCII character left
//! is a letter or digit.

use std::collections::VecDeque;

/// The root state at a word boundary (also the start state).
const BOUNDARY: u32 = 0;
/// The root state inside a word.
const IN_WORD: u32 = 1;
/// Marks a trie transition not (yet) present while building.
const ABSENT: u32 = u32::MAX;

/// Why the automaton could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The patterns need more states than state ids can address.
    #[error("the keywords need {states} automaton states, more than the {limit} supported")]
    TooLarge {
        /// States needed.
        states: usize,
        /// States supported with this alphabet.
        limit: usize,
    },
    /// A pattern was empty (it would match everywhere).
    #[error("pattern {0} is empty")]
    EmptyPattern(usize),
}

/// True for bytes that are part of a word in folded text.
pub(super) const fn is_word_byte(byte: u8) -> bool {
    byte >= 0x80 || byte.is_ascii_alphanumeric() || byte == b'_'
}

/// [`is_word_byte`] of every byte, for the word masks of [`Scanner::for_each_with_words`].
static WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = is_word_byte(byte as u8);
        byte += 1;
    }
    table
};

/// A compiled set of folded patterns; pattern ids are their positions at build time.
pub(super) struct Scanner {
    /// Byte → column of the transition table.
    classes: [u8; 256],
    /// Columns per state.
    stride: u32,
    /// Dense transitions; ids are premultiplied by `stride` (state `i` is `i * stride`).
    trans: Vec<u32>,
    /// Match states come first: a (premultiplied) id below this one is a match state.
    match_limit: u32,
    /// Per match state: its patterns are `match_patterns[match_ends[i]..match_ends[i + 1]]`.
    match_ends: Vec<u32>,
    match_patterns: Vec<u32>,
    pattern_lens: Vec<u32>,
    /// Premultiplied id of `BOUNDARY`, the start state.
    start: u32,
}

impl Scanner {
    /// Compiles `patterns` (folded, non-empty).
    pub(super) fn new<I, P>(patterns: I) -> Result<Scanner, ScanError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let patterns: Vec<P> = patterns.into_iter().collect();
        let (classes, stride) = byte_classes(patterns.iter().map(AsRef::as_ref));
        let mut trie = Trie::new(stride);
        for (id, pattern) in patterns.iter().enumerate() {
            let pattern = pattern.as_ref();
            if pattern.is_empty() {
                return Err(ScanError::EmptyPattern(id));
            }
            trie.insert(pattern, &classes, id as u32);
        }
        let limit = (u32::MAX / stride) as usize - 1;
        if trie.len() > limit {
            return Err(ScanError::TooLarge {
                states: trie.len(),
                limit,
            });
        }
        let mut scanner = trie.into_dfa(&classes);
        scanner.pattern_lens = patterns.iter().map(|p| p.as_ref().len() as u32).collect();
        Ok(scanner)
    }

    /// Heap memory held by the automaton, in bytes.
    pub(super) fn memory_usage(&self) -> usize {
        4 * (self.trans.len()
            + self.match_ends.len()
            + self.match_patterns.len()
            + self.pattern_lens.len())
    }

    /// Calls `found(pattern, start, end)` for every occurrence in `folded` of a
    /// pattern that does not start glued to a word byte on its left (overlapping
    /// matches included), in order of `end`.
    pub(super) fn for_each(&self, folded: &[u8], found: impl FnMut(u32, usize, usize)) {
        self.scan::<false>(folded, &mut Vec::new(), found);
    }

    /// [`Scanner::for_each`], also writing into `words` one mask per 64 bytes of
    /// `folded` whose bit `i` is set when byte `i` is a word byte: the scan waits on
    /// each table lookup, so the mask comes nearly free.
    pub(super) fn for_each_with_words(
        &self,
        folded: &[u8],
        words: &mut Vec<u64>,
        found: impl FnMut(u32, usize, usize),
    ) {
        self.scan::<true>(folded, words, found);
    }

    fn scan<const WORDS: bool>(
        &self,
        folded: &[u8],
        words: &mut Vec<u64>,
        mut found: impl FnMut(u32, usize, usize),
    ) {
        let mut state = self.start;
        let mut mask = 0u64;
        words.clear();
        for (at, &byte) in folded.iter().enumerate() {
            if WORDS {
                mask |= u64::from(WORD_BYTES[usize::from(byte)]) << (at % 64);
                if at % 64 == 63 {
                    words.push(std::mem::take(&mut mask));
                }
            }
            state = self.trans[(state + u32::from(self.classes[usize::from(byte)])) as usize];
            if state < self.match_limit {
                let index = (state / self.stride) as usize;
                let (from, to) = (self.match_ends[index], self.match_ends[index + 1]);
                for &pattern in &self.match_patterns[from as usize..to as usize] {
                    let end = at + 1;
                    found(
                        pattern,
                        end - self.pattern_lens[pattern as usize] as usize,
                        end,
                    );
                }
            }
        }
        if WORDS && !folded.len().is_multiple_of(64) {
            words.push(mask);
        }
    }
}

/// A summary: the tables run to millions of entries.
impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("states", &(self.trans.len() / self.stride as usize))
            .field("columns", &self.stride)
            .field("patterns", &self.pattern_lens.len())
            .finish()
    }
}

/// Gives every byte used in a pattern its own column, plus one column for all other
/// word bytes and one for all other non-word bytes (each group behaves alike
/// everywhere). At most 256 columns.
fn byte_classes<'a>(patterns: impl Iterator<Item = &'a [u8]>) -> ([u8; 256], u32) {
    let mut used = [false; 256];
    for pattern in patterns {
        for &byte in pattern {
            used[usize::from(byte)] = true;
        }
    }
    let mut column = [None::<u8>; 256];
    let mut columns = 0u32;
    let mut next = || {
        columns += 1;
        (columns - 1) as u8
    };
    for byte in 0..=255u8 {
        if used[usize::from(byte)] {
            column[usize::from(byte)] = Some(next());
        }
    }
    let (mut word, mut other) = (None, None);
    let mut classes = [0u8; 256];
    for byte in 0..=255u8 {
        classes[usize::from(byte)] = match column[usize::from(byte)] {
            Some(own) => own,
            None if is_word_byte(byte) => *word.get_or_insert_with(&mut next),
            None => *other.get_or_insert_with(&mut next),
        };
    }
    (classes, columns)
}

/// The pattern trie while building: dense rows with [`ABSENT`] holes.
struct Trie {
    stride: u32,
    /// Row-major, `stride` columns per state, unpremultiplied ids.
    rows: Vec<u32>,
    /// Patterns ending at each state and starting where its path starts.
    own: Vec<Vec<u32>>,
}

impl Trie {
    fn new(stride: u32) -> Trie {
        let mut trie = Trie {
            stride,
            rows: Vec::new(),
            own: Vec::new(),
        };
        trie.add_state(); // BOUNDARY
        trie.add_state(); // IN_WORD
        trie
    }

    fn len(&self) -> usize {
        self.own.len()
    }

    fn add_state(&mut self) -> u32 {
        self.rows
            .extend(std::iter::repeat_n(ABSENT, self.stride as usize));
        self.own.push(Vec::new());
        self.own.len() as u32 - 1
    }

    fn cell(&self, state: u32, column: u8) -> usize {
        (state * self.stride + u32::from(column)) as usize
    }

    fn insert(&mut self, pattern: &[u8], classes: &[u8; 256], id: u32) {
        let mut state = BOUNDARY;
        for &byte in pattern {
            let cell = self.cell(state, classes[usize::from(byte)]);
            state = match self.rows[cell] {
                ABSENT => {
                    let next = self.add_state();
                    self.rows[cell] = next;
                    next
                }
                next => next,
            };
        }
        self.own[state as usize].push(id);
    }

    /// Fills every hole with its failure transition, collects the matches of each
    /// state and lays states out match-first with premultiplied ids.
    fn into_dfa(mut self, classes: &[u8; 256]) -> Scanner {
        let stride = self.stride;
        let states = self.len();
        let mut word_column = vec![false; stride as usize];
        for byte in 0..=255u8 {
            word_column[usize::from(classes[usize::from(byte)])] = is_word_byte(byte);
        }
        let mut fail = vec![BOUNDARY; states];
        let mut queue = VecDeque::new();
        // BOUNDARY: a missing pattern start leaves the byte behind as the last one.
        for column in 0..stride as u8 {
            let cell = self.cell(BOUNDARY, column);
            let after = if word_column[usize::from(column)] {
                IN_WORD
            } else {
                BOUNDARY
            };
            match self.rows[cell] {
                ABSENT => self.rows[cell] = after,
                child => {
                    fail[child as usize] = after;
                    queue.push_back(child);
                }
            }
        }
        // IN_WORD: a word byte continues the word; anything else may start a pattern.
        for column in 0..stride as u8 {
            let next = if word_column[usize::from(column)] {
                IN_WORD
            } else {
                self.rows[self.cell(BOUNDARY, column)]
            };
            let cell = self.cell(IN_WORD, column);
            self.rows[cell] = next;
        }
        // Breadth first, so a state's failure state (shorter) is complete before it.
        let mut order = Vec::with_capacity(states);
        while let Some(state) = queue.pop_front() {
            order.push(state);
            let fallback = fail[state as usize];
            for column in 0..stride as u8 {
                let cell = self.cell(state, column);
                let via_fail = self.rows[self.cell(fallback, column)];
                match self.rows[cell] {
                    ABSENT => self.rows[cell] = via_fail,
                    child => {
                        fail[child as usize] = via_fail;
                        queue.push_back(child);
                    }
                }
            }
        }
        // Matches: a state's own patterns plus those of its failure state (suffixes),
        // computed in breadth-first order so the failure state's list is final.
        let mut matches: Vec<Vec<u32>> = vec![Vec::new(); states];
        for &state in &order {
            let mut list = std::mem::take(&mut self.own[state as usize]);
            list.extend_from_slice(&matches[fail[state as usize] as usize]);
            matches[state as usize] = list;
        }
        // New numbering: match states, then BOUNDARY, IN_WORD, then the rest.
        let mut layout: Vec<u32> = order
            .iter()
            .copied()
            .filter(|&s| !matches[s as usize].is_empty())
            .collect();
        let match_count = layout.len() as u32;
        layout.push(BOUNDARY);
        layout.push(IN_WORD);
        layout.extend(
            order
                .iter()
                .copied()
                .filter(|&s| matches[s as usize].is_empty()),
        );
        let mut renamed = vec![0u32; states];
        for (new, &old) in layout.iter().enumerate() {
            renamed[old as usize] = new as u32 * stride;
        }
        let mut trans = Vec::with_capacity(self.rows.len());
        let mut match_ends = vec![0u32];
        let mut match_patterns = Vec::new();
        for &old in &layout {
            let row = &self.rows[self.cell(old, 0)..self.cell(old, 0) + stride as usize];
            trans.extend(row.iter().map(|&next| renamed[next as usize]));
            if !matches[old as usize].is_empty() {
                match_patterns.extend_from_slice(&matches[old as usize]);
                match_ends.push(match_patterns.len() as u32);
            }
        }
        Scanner {
            classes: *classes,
            stride,
            trans,
            match_limit: match_count * stride,
            match_ends,
            match_patterns,
            pattern_lens: Vec::new(),
            start: renamed[BOUNDARY as usize],
        }
    }
}

#[cfg(test)]
mod tests {
    use aho_corasick::{AhoCorasick, MatchKind};

    use super::*;

    /// What the scanner must equal: an unanchored overlapping search, minus matches of
    /// word-initial patterns glued to a word byte on the left.
    fn reference(patterns: &[&str], text: &str) -> Vec<(u32, usize, usize)> {
        let unanchored = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .unwrap();
        let bytes = text.as_bytes();
        let mut all: Vec<(u32, usize, usize)> = unanchored
            .find_overlapping_iter(text)
            .filter(|m| {
                let starts_word = is_word_byte(bytes[m.start()]);
                let glued = m.start() > 0 && is_word_byte(bytes[m.start() - 1]);
                !(starts_word && glued)
            })
            .map(|m| (m.pattern().as_u32(), m.start(), m.end()))
            .collect();
        all.sort_unstable();
        all
    }

    fn scanned(patterns: &[&str], text: &str) -> Vec<(u32, usize, usize)> {
        let scanner = Scanner::new(patterns).unwrap();
        let mut all = Vec::new();
        scanner.for_each(text.as_bytes(), |p, s, e| all.push((p, s, e)));
        all.sort_unstable();
        all
    }

    #[test]
    fn finds_word_initial_patterns_only_at_word_starts() {
        let patterns = ["turk telekom", "telekom", "#thy", "thy", "cell", "turkcell"];
        let text = "turk telekom, turkcell #thy x#thy worthy thy'nin мтсthy thy";
        let found = scanned(&patterns, text);
        assert_eq!(found, reference(&patterns, text));
        // `telekom` after a space starts a word, inside the phrase too.
        assert!(found.contains(&(0, 0, 12)));
        assert!(found.contains(&(1, 5, 12)));
        // `#thy` may follow a letter; `thy` inside `worthy` or after Cyrillic may not.
        assert!(found.contains(&(2, 23, 27)));
        assert!(found.contains(&(2, 29, 33)));
        assert!(!found.iter().any(|&(p, _, _)| p == 4));
        assert_eq!(found.iter().filter(|&&(p, _, _)| p == 3).count(), 4);
    }

    #[test]
    fn the_scan_marks_exactly_the_word_bytes() {
        let scanner = Scanner::new(["ab", "é"]).unwrap();
        let all: Vec<u8> = (0..=255u8).chain(0..=255).collect();
        for len in [0, 1, 63, 64, 65, 128, 200, 512] {
            let text = &all[..len];
            let mut masks = vec![7];
            let mut found = Vec::new();
            scanner.for_each_with_words(text, &mut masks, |p, s, e| found.push((p, s, e)));
            let expected: Vec<u64> = text
                .chunks(64)
                .map(|block| {
                    block
                        .iter()
                        .enumerate()
                        .fold(0, |mask, (at, &b)| mask | u64::from(is_word_byte(b)) << at)
                })
                .collect();
            assert_eq!(masks, expected, "{len}");
            let mut plain = Vec::new();
            scanner.for_each(text, |p, s, e| plain.push((p, s, e)));
            assert_eq!(found, plain);
        }
    }

    #[test]
    fn debug_output_is_a_summary() {
        let scanner = Scanner::new(["ab", "b"]).unwrap();
        // BOUNDARY, IN_WORD, `a`, `ab`, `b`; columns `a`, `b`, other word, other byte.
        assert_eq!(
            format!("{scanner:?}"),
            "Scanner { states: 5, columns: 4, patterns: 2 }"
        );
    }

    #[test]
    fn rejects_empty_patterns() {
        assert!(matches!(
            Scanner::new(["a", ""]),
            Err(ScanError::EmptyPattern(1))
        ));
    }

    #[test]
    fn duplicate_patterns_are_each_reported() {
        assert_eq!(scanned(&["ab", "ab"], "ab"), [(0, 0, 2), (1, 0, 2)]);
    }

    proptest::proptest! {
        #[test]
        fn equals_a_filtered_unanchored_search(text in "[a-c #'_é\u{444}]{0,40}") {
            let patterns = ["a", "ab", "abc", "b c", "#a", "'b", "é", "\u{444}a", "ca", "c#", "a_b"];
            proptest::prop_assert_eq!(scanned(&patterns, &text), reference(&patterns, &text));
        }
    }
}
