//! Generated typo variants, found by a hash lookup at word boundaries instead of by the
//! automaton.
//!
//! A generated typo only counts standing alone: it must start at the start of a word,
//! end at the end of one and take no suffix (glued or after an apostrophe). So a typo
//! that begins and ends with a word byte can only occur as a span of whole words of
//! the folded post, and looking each such span up in a hash table of the variants finds
//! exactly the occurrences the automaton would have found and the matcher accepted.
//! Keeping the variants (about 240 per brand) out of the dense automaton is what keeps
//! compiling many brands fast and small: each one costs its bytes and a few table
//! entries instead of a dense row per state.
//!
//! The rare typo that begins or ends with another byte (a term like `Disney+`) is not
//! looked up here: the matcher keeps it in the automaton, where the usual boundary
//! rules apply. It still gets an id here, so every generated typo has one.

use crate::text::char_at;

use super::scan::is_word_byte;

/// [`TypoIndex::term_of`] of a removed typo.
const REMOVED: u32 = u32::MAX;

/// Above this share of used slots, [`IdTable`] doubles.
const MAX_LOAD: (usize, usize) = (5, 8);

/// Filter bits per slot of [`IdTable`]: 6 to 13 per id, so about one lookup in ten of
/// an absent key gets past the filter.
const FILTER_BITS_PER_SLOT: usize = 4;

const K: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// A 64-bit hash of a byte string: whole 8-byte words, the last one read overlapping
/// the one before (so every byte is read without copying a tail), the length mixed in.
pub(super) fn hash(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    let word = |at: usize| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(word)
    };
    let half = |at: usize| {
        let mut half = [0u8; 4];
        half.copy_from_slice(&bytes[at..at + 4]);
        u64::from(u32::from_le_bytes(half))
    };
    let mut state = len as u64;
    let last = match len {
        8.. => {
            let mut at = 0;
            while at + 8 < len {
                state = mix(state ^ word(at), K);
                at += 8;
            }
            word(len - 8)
        }
        4..8 => half(0) << 32 | half(len - 4),
        1..4 => {
            u64::from(bytes[0]) << 16 | u64::from(bytes[len / 2]) << 8 | u64::from(bytes[len - 1])
        }
        0 => 0,
    };
    mix(mix(state ^ last, K) ^ K, 0xD6E8_FEB8_6659_FD93)
}

/// Entries of [`TypoIndex::quick`] per looked-up typo (at least [`QUICK_MIN`], at most
/// [`QUICK_MAX`]).
const QUICK_PER_TYPO: usize = 4;
const QUICK_MIN: usize = 1 << 12;
const QUICK_MAX: usize = 1 << 22;
/// [`TypoIndex::quick`] flag: a one-word typo has this key.
const ONE_WORD: u8 = 1;
/// [`TypoIndex::quick`] flag: the last word of a typo of several words has this key.
const LAST_WORD: u8 = 2;

/// What the quick filter knows of a word: its first four bytes, its last two and its
/// length, read without a loop (a shorter word: its first, middle and last byte).
fn quick_key(span: &[u8]) -> u64 {
    let len = span.len();
    let key = if len >= 4 {
        let mut head = [0u8; 4];
        head.copy_from_slice(&span[..4]);
        u64::from(u32::from_le_bytes(head))
            | u64::from(span[len - 2]) << 32
            | u64::from(span[len - 1]) << 40
    } else if len > 0 {
        u64::from(span[0]) | u64::from(span[len / 2]) << 8 | u64::from(span[len - 1]) << 16
    } else {
        0
    };
    (key | (len as u64) << 48).wrapping_mul(K)
}

/// The word-byte masks of `folded`, 64 bytes each, as [`TypoIndex::for_each`] takes
/// them (in the matcher the scanner makes them while scanning).
#[cfg(test)]
fn word_masks(folded: &[u8], masks: &mut Vec<u64>) {
    masks.clear();
    masks.extend(folded.chunks(64).map(|block| {
        block
            .iter()
            .enumerate()
            .fold(0, |mask, (at, &b)| mask | u64::from(is_word_byte(b)) << at)
    }));
}

/// An open-addressing (linear probing) hash table of `u32` ids whose keys the caller
/// keeps: lookups ask the caller to compare an id. Its size is fixed when it is made.
#[derive(Debug, Default)]
pub(super) struct IdTable {
    /// Per used slot the high half of its hash and `id + 1` in the low half, 0 when
    /// free; the length is a power of two. The hash half spares most key comparisons,
    /// which would each touch the caller's keys at a random place.
    slots: Vec<u64>,
    /// One bit per id, at `hash >> 32`: a lookup of an absent key mostly ends here,
    /// in a bit array small enough to stay in cache, instead of at a random slot.
    filter: Vec<u64>,
    len: usize,
}

/// The slot of `id` with `hash`.
fn slot(hash: u64, id: u32) -> u64 {
    hash & !0xFFFF_FFFF | u64::from(id + 1)
}

impl IdTable {
    /// A table for up to `capacity` ids.
    pub(super) fn with_capacity(capacity: usize) -> IdTable {
        let slots = Self::slots_for(capacity);
        IdTable {
            slots: vec![0; slots],
            filter: vec![0; slots * FILTER_BITS_PER_SLOT / 64],
            len: 0,
        }
    }

    /// The filter word and bit of `hash`.
    fn filter_bit(&self, hash: u64) -> (usize, u64) {
        let bit = (hash >> 32) as usize & (self.filter.len() * 64 - 1);
        (bit / 64, 1 << (bit % 64))
    }

    fn slots_for(ids: usize) -> usize {
        (ids * MAX_LOAD.1 / MAX_LOAD.0 + 1)
            .next_power_of_two()
            .max(16)
    }

    /// Ids stored.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The stored id with `hash` that `is_key` accepts.
    pub(super) fn find(&self, hash: u64, mut is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let (word, bit) = self.filter_bit(hash);
        if self.filter[word] & bit == 0 {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            match self.slots[at] {
                0 => return None,
                slot if (slot ^ hash) >> 32 == 0 && is_key(slot as u32 - 1) => {
                    return Some(slot as u32 - 1);
                }
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// Stores `id` under `hash`: the caller has checked it is not there yet, and stores
    /// no more ids than the capacity the table was made with. Inserting in order of
    /// `hash & (slots - 1)` (see [`IdTable::home`]) writes the slots front to back.
    pub(super) fn insert(&mut self, hash: u64, id: u32) {
        debug_assert!((self.len + 1) * MAX_LOAD.1 <= self.slots.len() * MAX_LOAD.0 + MAX_LOAD.1);
        let (word, bit) = self.filter_bit(hash);
        self.filter[word] |= bit;
        self.len += 1;
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        while self.slots[at] != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = slot(hash, id);
    }

    /// The slot where a lookup of `hash` starts.
    pub(super) fn home(&self, hash: u64) -> usize {
        hash as usize & (self.slots.len() - 1)
    }

    fn memory_usage(&self) -> usize {
        8 * (self.slots.len() + self.filter.len())
    }
}

/// The term a typo was generated from: what its hits report and check.
#[derive(Debug)]
pub(super) struct TypoTerm {
    /// The brand (entity id) the term belongs to.
    pub(super) entity: u32,
    /// The term as written.
    pub(super) written: std::sync::Arc<str>,
    /// Accented spellings of an ASCII term do not count (`ascii_strict`).
    pub(super) ascii_strict: bool,
}

/// Every generated typo of a matcher: its folded text and term, and a hash table of
/// those that begin and end with a word byte.
#[derive(Debug, Default)]
pub(super) struct TypoIndex {
    /// The typos' texts, one after the other.
    text: String,
    /// Per typo: where its text ends in `text` (it starts where the previous ends).
    ends: Vec<u32>,
    /// Per typo: its term in `terms`.
    term_of: Vec<u32>,
    terms: Vec<TypoTerm>,
    /// The typos that begin and end with a word byte, by [`hash`] of their text (its
    /// filter refuses most spans of a post without touching the slots).
    table: IdTable,
    /// While building: hash and id of each typo `table` will hold. The table is built
    /// from it at the end, in slot order: inserting each typo as it comes would touch
    /// a random slot of a table larger than the CPU cache per typo.
    pending: Vec<(u64, u32)>,
    /// `lengths[n]` bit `w - 1`: some typo in `table` is `n` bytes and `w` words long
    /// (typos of more than 8 words set bit 7).
    lengths: Vec<u8>,
    /// The most words (runs of word bytes) a typo in `table` has.
    max_words: usize,
    /// Per [`quick_key`] (its high bits), [`ONE_WORD`] and [`LAST_WORD`] flags of the
    /// typos in `table`: nearly every word of a post is refused with this one load.
    quick: Vec<u8>,
    /// 64 minus log2 of the length of `quick`.
    quick_shift: u32,
    /// The shortest and longest last word of a typo in `table` (the whole typo when it
    /// is one word): shorter or longer words are not looked at.
    last_word_lengths: (usize, usize),
    /// The typos that are words of other languages' lists, with those languages
    /// (`words::Guard::Foreign`): few, so a map rather than a byte per typo.
    foreign: std::collections::HashMap<u32, u16>,
}

/// True when `text` begins and ends with a word byte, so it can only occur (standing
/// alone) as a span of whole words: such typos are looked up, not scanned for.
pub(super) fn looked_up(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first().is_some_and(|&b| is_word_byte(b))
        && bytes.last().is_some_and(|&b| is_word_byte(b))
}

impl TypoIndex {
    /// Registers a term whose typos [`TypoIndex::push`] will add.
    pub(super) fn add_term(&mut self, entity: u32, written: &str, ascii_strict: bool) -> u32 {
        self.terms.push(TypoTerm {
            entity,
            written: written.into(),
            ascii_strict,
        });
        self.terms.len() as u32 - 1
    }

    /// Number of typos.
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Number of typos found by lookup (the rest are in the automaton).
    pub(super) fn looked_up_len(&self) -> usize {
        self.table.len() + self.pending.len()
    }

    /// The folded text of typo `id`.
    pub(super) fn text(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 {
            0
        } else {
            self.ends[id - 1] as usize
        };
        &self.text[start..self.ends[id] as usize]
    }

    /// Marks typo `id` as a word of the languages of `mask` (see `words::Votes::reads_as`).
    pub(super) fn set_foreign(&mut self, id: u32, mask: u16) {
        if mask != 0 {
            self.foreign.insert(id, mask);
        }
    }

    /// The languages of which typo `id` is a word (0: none).
    pub(super) fn foreign(&self, id: u32) -> u16 {
        if self.foreign.is_empty() {
            return 0;
        }
        self.foreign.get(&id).copied().unwrap_or(0)
    }

    /// The term typo `id` was generated from.
    pub(super) fn term_of(&self, id: u32) -> &TypoTerm {
        &self.terms[self.term_of[id as usize] as usize]
    }

    /// Term `term` (as returned by [`TypoIndex::add_term`]).
    pub(super) fn term(&self, term: u32) -> &TypoTerm {
        &self.terms[term as usize]
    }

    /// The texts of the typos found by lookup.
    pub(super) fn looked_up_texts(&self) -> impl Iterator<Item = &str> {
        (0..self.len() as u32)
            .filter(|&id| {
                self.table
                    .find(hash(self.text(id).as_bytes()), |found| found == id)
                    .is_some()
            })
            .map(|id| self.text(id))
    }

    fn find(&self, span: &[u8], hash: u64) -> Option<u32> {
        self.table.find(hash, |id| self.text(id).as_bytes() == span)
    }

    /// Adds typo `text` of `term` and returns its id. With `look_up` (only for a text
    /// that begins and ends with a word byte, see [`looked_up`]) [`TypoIndex::for_each`]
    /// finds it; until [`TypoIndex::finish`] such a text may repeat an earlier one.
    pub(super) fn push(&mut self, text: &str, term: u32, look_up: bool) -> u32 {
        let id = self.ends.len() as u32;
        self.text.push_str(text);
        self.ends.push(self.text.len() as u32);
        self.term_of.push(term);
        if look_up {
            self.pending.push((hash(text.as_bytes()), id));
            if self.lengths.len() <= text.len() {
                self.lengths.resize(text.len() + 1, 0);
            }
            let words = words(text.as_bytes());
            self.lengths[text.len()] |= word_count_bit(words);
            self.max_words = self.max_words.max(words);
        }
        id
    }

    /// Builds the lookup table once every typo is in. A looked-up typo whose text an
    /// earlier one has is removed (the earlier one stays, as if the later one had been
    /// refused when it came): its id stays unused (see [`TypoIndex::is_removed`]). The
    /// removed ones are returned as `(id, term, text)`.
    pub(super) fn finish(&mut self) -> Vec<(u32, u32, String)> {
        let mut pending = std::mem::take(&mut self.pending);
        let mut table = IdTable::with_capacity(pending.len());
        // Slot order, so the table is written front to back; equal texts have equal
        // hashes and so end up side by side, the earliest first.
        pending.sort_unstable_by_key(|&(hash, id)| (table.home(hash), hash, id));
        let mut removed = Vec::new();
        let mut run = 0;
        for at in 0..pending.len() {
            let (hash, id) = pending[at];
            if pending[run].0 != hash {
                run = at;
            }
            let repeated = at > run && {
                let text = self.text(id);
                pending[run..at]
                    .iter()
                    .any(|&(_, earlier)| !self.is_removed(earlier) && self.text(earlier) == text)
            };
            if repeated {
                removed.push((id, self.term_of[id as usize], self.text(id).to_string()));
                self.term_of[id as usize] = REMOVED;
            } else {
                table.insert(hash, id);
            }
        }
        self.table = table;
        let entries = (self.table.len() * QUICK_PER_TYPO)
            .next_power_of_two()
            .clamp(QUICK_MIN, QUICK_MAX);
        self.quick = vec![0; entries];
        self.last_word_lengths = (usize::MAX, 0);
        self.quick_shift = 64 - entries.trailing_zeros();
        for id in 0..self.len() as u32 {
            let text = self.text(id).as_bytes();
            // A typo pushed without `look_up` only costs a false positive here.
            if !self.is_removed(id) && looked_up(self.text(id)) {
                let last_word = text
                    .iter()
                    .rposition(|&b| !is_word_byte(b))
                    .map_or(0, |at| at + 1);
                let flag = if last_word == 0 { ONE_WORD } else { LAST_WORD };
                let word = text.len() - last_word;
                let entry = self.quick_entry(quick_key(&text[last_word..]));
                self.quick[entry] |= flag;
                let (shortest, longest) = self.last_word_lengths;
                self.last_word_lengths = (shortest.min(word), longest.max(word));
            }
        }
        self.text.shrink_to_fit();
        removed.sort_unstable();
        removed
    }

    /// Stops looking typos up (the caller puts them into the automaton instead) and
    /// returns the ids of those that were, in order.
    pub(super) fn take_looked_up(&mut self) -> Vec<u32> {
        let ids = (0..self.len() as u32)
            .filter(|&id| {
                let text = self.text(id).as_bytes();
                !self.is_removed(id) && self.table.find(hash(text), |found| found == id).is_some()
            })
            .collect();
        *self = TypoIndex {
            text: std::mem::take(&mut self.text),
            ends: std::mem::take(&mut self.ends),
            term_of: std::mem::take(&mut self.term_of),
            terms: std::mem::take(&mut self.terms),
            foreign: std::mem::take(&mut self.foreign),
            ..TypoIndex::default()
        };
        ids
    }

    /// True for the id of a typo [`TypoIndex::finish`] removed as a repetition.
    pub(super) fn is_removed(&self, id: u32) -> bool {
        self.term_of[id as usize] == REMOVED
    }

    fn quick_entry(&self, key: u64) -> usize {
        // The high bits of the product depend on every byte of the key.
        (key >> self.quick_shift) as usize
    }

    /// True when there are typos to look up.
    pub(super) fn is_empty(&self) -> bool {
        self.table.len() == 0
    }

    /// Calls `found(id, start, end)` for every occurrence in `folded` of a looked-up
    /// typo standing alone: from the start of a word to the end of a word, not followed
    /// by an apostrophe and a letter. `masks` are the word-byte masks of `folded`, 64
    /// bytes each (see [`word_masks`]). Occurrences come by end.
    pub(super) fn for_each(
        &self,
        folded: &[u8],
        masks: &[u64],
        mut found: impl FnMut(u32, usize, usize),
    ) {
        if self.is_empty() {
            return;
        }
        let mut after_word = false;
        // Start of the word under way when a block begins.
        let mut open = 0;
        let mut recent = Recent::default();
        for (block, &mask) in masks.iter().enumerate() {
            let base = block * 64;
            // In a last, shorter block, only a word reaching the end of the text ends
            // past it (at bit `folded.len() - base`).
            let mut ends = !mask & (mask << 1 | u64::from(after_word));
            while ends != 0 {
                let bit = ends.trailing_zeros();
                ends &= ends - 1;
                // The word starts after the last non-word byte before its end.
                let before = !mask & ((1u64 << bit) - 1);
                let start = match before {
                    0 => open,
                    _ => base + 64 - before.leading_zeros() as usize,
                };
                let end = base + bit as usize;
                recent.push(start);
                let (shortest, longest) = self.last_word_lengths;
                if (shortest..=longest).contains(&(end - start)) {
                    self.word_end(folded, &recent, end, &mut found);
                }
            }
            let last_gap = !mask;
            open = match last_gap {
                0 => open,
                _ => base + 64 - last_gap.leading_zeros() as usize,
            };
            after_word = mask >> 63 != 0;
        }
        if after_word && folded.len().is_multiple_of(64) {
            recent.push(open);
            self.word_end(folded, &recent, folded.len(), &mut found);
        }
    }

    /// Looks up the spans of up to `max_words` words that end at `end`, the last of
    /// them the last in `recent`.
    fn word_end(
        &self,
        folded: &[u8],
        recent: &Recent,
        end: usize,
        found: &mut impl FnMut(u32, usize, usize),
    ) {
        let last = recent.back(1).unwrap_or(0);
        let flags = self.quick[self.quick_entry(quick_key(&folded[last..end]))];
        if flags == 0 {
            return;
        }
        // A typo takes no suffix, not after an apostrophe either.
        if folded.get(end) == Some(&b'\'')
            && char_at(folded, end + 1).is_some_and(char::is_alphabetic)
        {
            return;
        }
        let mut start = last;
        for words in 1..=self.max_words {
            if words > 1 {
                start = match recent.back(words) {
                    Some(start) => start,
                    None if recent.len < words => return,
                    None => {
                        // Beyond the recent starts (a typo of many words): byte by byte.
                        let Some(gap) = folded[..start].iter().rposition(|&b| is_word_byte(b))
                        else {
                            return;
                        };
                        folded[..gap]
                            .iter()
                            .rposition(|&b| !is_word_byte(b))
                            .map_or(0, |at| at + 1)
                    }
                };
            }
            let wanted = if words == 1 { ONE_WORD } else { LAST_WORD };
            if flags & wanted == 0 {
                continue;
            }
            let span = &folded[start..end];
            let Some(&used) = self.lengths.get(span.len()) else {
                return;
            };
            if used & word_count_bit(words) == 0 {
                continue;
            }
            if let Some(id) = self.find(span, hash(span)) {
                found(id, start, end);
            }
        }
    }

    /// Heap memory held, in bytes.
    pub(super) fn memory_usage(&self) -> usize {
        self.text.capacity()
            + 4 * (self.ends.len() + self.term_of.len())
            + self
                .terms
                .iter()
                .map(|t| size_of::<TypoTerm>() + t.written.len())
                .sum::<usize>()
            + self.table.memory_usage()
            + self.quick.len()
            + self.lengths.len()
    }
}

/// The starts of the last few words of a post (a ring).
#[derive(Debug, Default)]
struct Recent {
    starts: [usize; RECENT],
    /// Words seen so far.
    len: usize,
}

/// Word starts [`Recent`] keeps.
const RECENT: usize = 8;

impl Recent {
    fn push(&mut self, start: usize) {
        self.starts[self.len % RECENT] = start;
        self.len += 1;
    }

    /// The start of the `n`th word counting back from the last (1), if kept.
    fn back(&self, n: usize) -> Option<usize> {
        (n <= self.len.min(RECENT)).then(|| self.starts[(self.len - n) % RECENT])
    }
}

/// The bit of [`TypoIndex::lengths`] for typos of `words` words.
fn word_count_bit(words: usize) -> u8 {
    1 << (words.clamp(1, 8) - 1)
}

/// Number of runs of word bytes in `text`.
fn words(text: &[u8]) -> usize {
    let mut after_word = false;
    let mut words = 0;
    for &byte in text {
        let word = is_word_byte(byte);
        words += usize::from(word && !after_word);
        after_word = word;
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index of `typos` (one term each), every looked-up one pushed for lookup.
    fn index(typos: &[&str]) -> TypoIndex {
        let mut index = TypoIndex::default();
        for (n, typo) in typos.iter().enumerate() {
            let term = index.add_term(n as u32, typo, false);
            index.push(typo, term, looked_up(typo));
        }
        index
    }

    fn found(index: &TypoIndex, folded: &str) -> Vec<(&'static str, usize, usize)> {
        let mut all = Vec::new();
        let mut masks = Vec::new();
        word_masks(folded.as_bytes(), &mut masks);
        index.for_each(folded.as_bytes(), &masks, |id, start, end| {
            all.push((index.text(id).to_string().leak() as &str, start, end));
        });
        all
    }

    #[test]
    fn finds_whole_word_spans_without_suffix() {
        let mut typos = index(&["turkcel", "turk telekmo", "turktelekmo", "disnye+"]);
        assert!(typos.finish().is_empty());
        assert_eq!(
            found(&typos, "turkcel, turk telekmo'ya turktelekmo turk telekmo"),
            [
                ("turkcel", 0, 7),
                ("turktelekmo", 25, 36),
                ("turk telekmo", 37, 49)
            ]
        );
        for refused in [
            "turkcelde",
            "xturkcel",
            "turkcel's",
            "turkcel'ı",
            "turk  telekmo",
            "disnye+",
            "turkce",
        ] {
            assert_eq!(found(&typos, refused), [], "{refused}");
        }
        assert_eq!(found(&typos, "turkcel' x")[..], [("turkcel", 0, 7)]);
        assert_eq!(found(&typos, "é turkcel\u{e9}")[..], []);
        assert_eq!(typos.looked_up_len(), 3);
        assert_eq!(typos.len(), 4);
    }

    #[test]
    fn finds_typos_across_64_byte_blocks_and_at_the_end() {
        let mut typos = index(&["turkcel", "turk telekmo"]);
        typos.finish();
        for offset in 0..140 {
            let spaced = format!("{}turkcel", " ".repeat(offset));
            assert_eq!(found(&typos, &spaced), [("turkcel", offset, offset + 7)]);
            let glued = format!("{}turkcel ", "x".repeat(offset));
            let expected: &[_] = if offset == 0 {
                &[("turkcel", 0, 7)]
            } else {
                &[]
            };
            assert_eq!(found(&typos, &glued), expected, "{offset}");
            let phrase = format!("{}turk telekmo z", "a ".repeat(offset / 2));
            let start = offset / 2 * 2;
            assert_eq!(
                found(&typos, &phrase),
                [("turk telekmo", start, start + 12)]
            );
        }
    }

    #[test]
    fn a_repeated_typo_is_removed_and_the_first_kept() {
        let mut typos = index(&["koravl", "koravle", "koravl", "koravl"]);
        let removed = typos.finish();
        assert_eq!(
            removed,
            [(2, 2, "koravl".to_string()), (3, 3, "koravl".to_string())]
        );
        assert!(!typos.is_removed(0) && typos.is_removed(2) && typos.is_removed(3));
        assert_eq!(found(&typos, "koravl"), [("koravl", 0, 6)]);
        let mut ids = Vec::new();
        let mut masks = Vec::new();
        word_masks(b"koravl koravle", &mut masks);
        typos.for_each(b"koravl koravle", &masks, |id, _, _| ids.push(id));
        assert_eq!(ids, [0, 1]);
        assert_eq!(typos.term_of(0).entity, 0);
        assert_eq!(
            typos.looked_up_texts().collect::<Vec<_>>(),
            ["koravl", "koravle"]
        );
    }

    #[test]
    fn the_table_finds_every_id_it_holds_and_nothing_else() {
        let keys: Vec<String> = (0..5_000).map(|n| format!("key{n}")).collect();
        let mut table = IdTable::with_capacity(keys.len());
        for (id, key) in keys.iter().enumerate() {
            table.insert(hash(key.as_bytes()), id as u32);
        }
        assert_eq!(table.len(), keys.len());
        for (id, key) in keys.iter().enumerate() {
            let found = table.find(hash(key.as_bytes()), |other| keys[other as usize] == *key);
            assert_eq!(found, Some(id as u32));
        }
        for absent in ["key", "key5000", "yek1", ""] {
            let found = table.find(hash(absent.as_bytes()), |other| {
                keys[other as usize] == absent
            });
            assert_eq!(found, None);
        }
        assert_eq!(IdTable::default().find(0, |_| true), None);
    }

    #[test]
    fn the_hash_tells_lengths_and_bytes_apart() {
        let texts = [
            "",
            "a",
            "a\0",
            "abcdefgh",
            "abcdefgh\0",
            "abcdefghi",
            "bacdefghi",
        ];
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                assert_ne!(hash(a.as_bytes()), hash(b.as_bytes()), "{a:?} {b:?}");
            }
        }
    }
}
