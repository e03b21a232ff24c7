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
    /// The typos that begin and end with a word byte, by [`hash`] of their text (its
    /// filter refuses most spans of a post without touching the slots).
    table: IdTable,
    /// While building: hash and id of each typo `table` will hold. The table is built
    /// from it at the end, in slot order: inserting each typo as it comes would touch
    /// a random slot of a table larger than the CPU cache per typo.
    pending: Vec<(u64, u32)>,
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
        self.table.len() + self.pending.len()
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
            .filter(|&id| self.table.find(hash(self.text(id).as_bytes()), |found| found == id).is_some())
            .map(|id| self.text(id))
    }

    fn find(&self, span: &[u8], hash: u64) -> Option<u32> {
        self.table
            .find(hash, |id| self.text(id).as_bytes() == span)
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
                self.lengths.resize(text.len() + 1, false);
            }
            self.lengths[text.len()] = true;
            self.max_words = self.max_words.max(words(text.as_bytes()));
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
        self.text.shrink_to_fit();
        removed.sort_unstable();
        removed
    }

    /// True for the id of a typo [`TypoIndex::finish`] removed as a repetition.
    pub(super) fn is_removed(&self, id: u32) -> bool {
        self.term_of[id as usize] == REMOVED
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
        index.for_each(folded.as_bytes(), &mut Vec::new(), |id, start, end| {
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
        typos.for_each(b"koravl koravle", &mut Vec::new(), |id, _, _| ids.push(id));
        assert_eq!(ids, [0, 1]);
        assert_eq!(typos.term_of(0).entity, 0);
        assert_eq!(typos.looked_up_texts().collect::<Vec<_>>(), ["koravl", "koravle"]);
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
            let found = table.find(hash(absent.as_bytes()), |other| keys[other as usize] == absent);
            assert_eq!(found, None);
        }
        assert_eq!(IdTable::default().find(0, |_| true), None);
    }

    #[test]
    fn the_hash_tells_lengths_and_bytes_apart() {
        let texts = ["", "a", "a\0", "abcdefgh", "abcdefgh\0", "abcdefghi", "bacdefghi"];
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                assert_ne!(hash(a.as_bytes()), hash(b.as_bytes()), "{a:?} {b:?}");
            }
        }
    }
}
