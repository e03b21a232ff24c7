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

/// Above this share of used slots, [`IdTable`] doubles.
const MAX_LOAD: (usize, usize) = (5, 8);

/// Filter bits per looked-up typo: a false positive rate of about 1/8 per span.
const FILTER_BITS_PER_TYPO: usize = 8;

/// A 64-bit hash of a byte string (multiply-fold over 8-byte words).
pub(super) fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mix = |a: u64, b: u64| {
        let product = u128::from(a) * u128::from(b);
        (product as u64) ^ ((product >> 64) as u64)
    };
    let mut state = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        state = mix(state ^ u64::from_le_bytes(word), K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        state = mix(state ^ u64::from_le_bytes(word), K);
    }
    mix(state ^ K, 0xD6E8_FEB8_6659_FD93)
}

/// An open-addressing (linear probing) hash table of `u32` ids whose keys the caller
/// keeps: lookups and growth ask the caller to compare or rehash an id.
#[derive(Debug, Default)]
pub(super) struct IdTable {
    /// `id + 1` per used slot, 0 when free; the length is a power of two.
    slots: Vec<u32>,
    len: usize,
}

impl IdTable {
    /// A table that holds `capacity` ids without growing.
    pub(super) fn with_capacity(capacity: usize) -> IdTable {
        let mut table = IdTable::default();
        table.slots = vec![0; Self::slots_for(capacity)];
        table
    }

    fn slots_for(ids: usize) -> usize {
        (ids * MAX_LOAD.1 / MAX_LOAD.0 + 1).next_power_of_two().max(16)
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
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            match self.slots[at] {
                0 => return None,
                slot if is_key(slot - 1) => return Some(slot - 1),
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// Stores `id` under `hash` (the caller has checked it is not there yet);
    /// `hash_of` rehashes stored ids when the table grows.
    pub(super) fn insert(&mut self, hash: u64, id: u32, hash_of: impl Fn(u32) -> u64) {
        if (self.len + 1) * MAX_LOAD.1 > self.slots.len() * MAX_LOAD.0 {
            let old = std::mem::replace(
                &mut self.slots,
                vec![0; Self::slots_for((self.len + 1) * 2)],
            );
            for slot in old.into_iter().filter(|&slot| slot != 0) {
                self.place(hash_of(slot - 1), slot);
            }
        }
        self.place(hash, id + 1);
        self.len += 1;
    }

    fn place(&mut self, hash: u64, slot: u32) {
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        while self.slots[at] != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = slot;
    }

    fn memory_usage(&self) -> usize {
        4 * self.slots.len()
    }
}

/// The term a typo was generated from: what its hits report and check.
#[derive(Debug)]
pub(super) struct TypoTerm {
    /// The brand (entity id) the term belongs to.
    pub(super) entity: u32,
    /// The term as written.
    pub(super) written: String,
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
    /// The typos that begin and end with a word byte, by [`hash`] of their text.
    table: IdTable,
    /// Bit `hash >> 32` (masked) set for every typo in `table`: most spans of a post
    /// are refused here without touching the table.
    filter: Vec<u64>,
    /// `lengths[n]`: some typo in `table` is `n` bytes long.
    lengths: Vec<bool>,
    /// The most words (runs of word bytes) a typo in `table` has.
    max_words: usize,
}

/// True when `text` begins and ends with a word byte, so it can only occur (standing
/// alone) as a span of whole words: such typos are looked up, not scanned for.
pub(super) fn looked_up(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first().is_some_and(|&b| is_word_byte(b)) && bytes.last().is_some_and(|&b| is_word_byte(b))
}

impl TypoIndex {
    /// Registers a term whose typos [`TypoIndex::push`] will add.
    pub(super) fn add_term(&mut self, entity: u32, written: &str, ascii_strict: bool) -> u32 {
        self.terms.push(TypoTerm {
            entity,
            written: written.to_string(),
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
        self.table.len()
    }

    /// The folded text of typo `id`.
    pub(super) fn text(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] as usize };
        &self.text[start..self.ends[id] as usize]
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
            .map(|id| self.text(id))
            .filter(|text| looked_up(text))
    }

    /// True when a looked-up typo has exactly this text.
    pub(super) fn contains(&self, text: &str) -> bool {
        self.find(text.as_bytes(), hash(text.as_bytes())).is_some()
    }

    fn find(&self, span: &[u8], hash: u64) -> Option<u32> {
        self.table
            .find(hash, |id| self.text(id).as_bytes() == span)
    }

    /// Adds typo `text` of `term` and returns its id; when it begins and ends with a
    /// word byte it goes into the lookup table, which must not hold it yet.
    pub(super) fn push(&mut self, text: &str, term: u32) -> u32 {
        let id = self.ends.len() as u32;
        self.text.push_str(text);
        self.ends.push(self.text.len() as u32);
        self.term_of.push(term);
        if looked_up(text) {
            let Self {
                text: all,
                ends,
                table,
                ..
            } = self;
            table.insert(hash(text.as_bytes()), id, |id| {
                let id = id as usize;
                let start = if id == 0 { 0 } else { ends[id - 1] as usize };
                hash(&all.as_bytes()[start..ends[id] as usize])
            });
            if self.lengths.len() <= text.len() {
                self.lengths.resize(text.len() + 1, false);
            }
            self.lengths[text.len()] = true;
            self.max_words = self.max_words.max(words(text.as_bytes()));
        }
        id
    }

    /// Builds the span filter once every typo is in.
    pub(super) fn finish(&mut self) {
        let bits = (self.table.len() * FILTER_BITS_PER_TYPO)
            .next_power_of_two()
            .max(64);
        self.filter = vec![0; bits / 64];
        for id in 0..self.len() as u32 {
            let text = self.text(id);
            if looked_up(text) {
                let bit = self.filter_bit(hash(text.as_bytes()));
                self.filter[bit / 64] |= 1 << (bit % 64);
            }
        }
        self.text.shrink_to_fit();
    }

    fn filter_bit(&self, hash: u64) -> usize {
        (hash >> 32) as usize & (self.filter.len() * 64 - 1)
    }

    /// Calls `found(id, start, end)` for every occurrence in `folded` of a looked-up
    /// typo standing alone: from the start of a word to the end of a word, not followed
    /// by an apostrophe and a letter. `words` is a buffer for the post's word spans.
    /// Occurrences come by start, then by end.
    pub(super) fn for_each(
        &self,
        folded: &[u8],
        words: &mut Vec<(usize, usize)>,
        mut found: impl FnMut(u32, usize, usize),
    ) {
        if self.table.len() == 0 {
            return;
        }
        word_spans(folded, words);
        for (first, &(start, _)) in words.iter().enumerate() {
            for &(_, end) in words[first..].iter().take(self.max_words) {
                let span = &folded[start..end];
                let Some(&used) = self.lengths.get(span.len()) else {
                    break;
                };
                if !used {
                    continue;
                }
                let hash = hash(span);
                let bit = self.filter_bit(hash);
                if self.filter[bit / 64] & 1 << (bit % 64) == 0 {
                    continue;
                }
                // A typo takes no suffix, not after an apostrophe either.
                if folded.get(end) == Some(&b'\'')
                    && char_at(folded, end + 1).is_some_and(char::is_alphabetic)
                {
                    continue;
                }
                if let Some(id) = self.find(span, hash) {
                    found(id, start, end);
                }
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
            + 8 * self.filter.len()
            + self.lengths.len()
    }
}

/// Number of runs of word bytes in `text`.
fn words(text: &[u8]) -> usize {
    let mut spans = Vec::new();
    word_spans(text, &mut spans);
    spans.len()
}

/// The maximal runs of word bytes in `folded`, as `start..end` pairs.
fn word_spans(folded: &[u8], spans: &mut Vec<(usize, usize)>) {
    spans.clear();
    let mut at = 0;
    while at < folded.len() {
        while at < folded.len() && !is_word_byte(folded[at]) {
            at += 1;
        }
        if at == folded.len() {
            break;
        }
        let start = at;
        while at < folded.len() && is_word_byte(folded[at]) {
            at += 1;
        }
        spans.push((start, at));
    }
}
