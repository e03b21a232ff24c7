//! The glued-suffix verdict, cached: whether a pattern glued to letters without an
//! apostrophe (`turkcellden`) is the name with a Turkish suffix.
//!
//! The verdict is `suffix::is_suffix` of the letters and then
//! `typos::accepts_glued_suffix`, which reads a suffix chain and looks the whole word
//! up in every bundled word list: thousands of instructions, asked at every glued
//! occurrence, also in posts that end with no hit (a pattern that starts a longer
//! word). All of that is a pure function of static tables (`typos::glued_word`); the
//! post only enters through one test at the end (`typos::PostTest`: does it look
//! Turkish, does it read as another language). So the word's part is kept once per
//! form, and the post's test is asked by the caller, at most once per post. Real
//! streams repeat the same glued forms endlessly (`turkcellden`, `thynin`), so nearly
//! every verdict is a table probe.
//!
//! The cache is per thread (in the matcher's scratch buffers), so threads never wait
//! on each other, and it holds for every matcher: nothing in a verdict depends on the
//! keywords. It is bounded: [`SLOTS`] slots of a fixed size, direct-mapped (a form
//! takes the place of the one before it in its slot), allocated once at the first
//! glued word; a word longer than [`MAX_WORD`] bytes is decided afresh each time.
//! A cached verdict equals a fresh one (`glued::tests::cached_glued_verdicts_equal_fresh_ones`,
//! over posts in Turkish, English, Polish and German).

use super::typo_index::hash;
use super::typos::PostTest;
use super::{suffix, typos};

/// Slots in a thread's cache (a power of two): about 80 kB a thread.
pub(super) const SLOTS: usize = 1 << 10;

/// Longest glued word (the name's bytes and the letters after them) whose verdict is
/// cached.
pub(super) const MAX_WORD: usize = 62;

/// One cached verdict.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Bytes of `word` in use; 0 marks an empty slot (a glued word is never empty).
    len: u8,
    term_len: u8,
    /// The word's part of the verdict: refused, or the test the post must pass.
    verdict: Option<PostTest>,
    word: [u8; MAX_WORD],
}

const EMPTY: Slot = Slot {
    len: 0,
    term_len: 0,
    verdict: None,
    word: [0; MAX_WORD],
};

/// A thread's cache of glued-suffix verdicts (see the module documentation).
#[derive(Debug, Default)]
pub(super) struct GluedVerdicts {
    slots: Vec<Slot>,
}

impl GluedVerdicts {
    /// Whether folded `word`, a name of `term_len` bytes glued to letters, is the name
    /// with a Turkish suffix in a post that passes `post` (asked only when the word
    /// passed, with the test the word needs).
    pub(super) fn accepts(
        &mut self,
        word: &[u8],
        term_len: usize,
        post: impl FnOnce(PostTest) -> bool,
    ) -> bool {
        let verdict = if word.len() > MAX_WORD {
            fresh(word, term_len)
        } else {
            if self.slots.is_empty() {
                self.slots = vec![EMPTY; SLOTS];
            }
            // The slot from the top bits: the term's length (`turkcel` and `turkcell`
            // in `turkcellden`) multiplied up into them, so both forms get slots of
            // their own.
            let key = hash(word) ^ (term_len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let index = (key >> (64 - SLOTS.trailing_zeros())) as usize;
            let slot = &mut self.slots[index];
            let held = usize::from(slot.len) == word.len()
                && usize::from(slot.term_len) == term_len
                && slot.word[..word.len()] == *word;
            if !held {
                slot.len = word.len() as u8;
                slot.term_len = term_len as u8;
                slot.verdict = fresh(word, term_len);
                slot.word[..word.len()].copy_from_slice(word);
            }
            slot.verdict
        };
        verdict.is_some_and(post)
    }
}

/// The word's part of the verdict computed afresh.
pub(super) fn fresh(word: &[u8], term_len: usize) -> Option<PostTest> {
    let letters = word.get(term_len..)?;
    if !suffix::is_suffix(letters) {
        return None;
    }
    typos::glued_word(word, term_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verdict as the matcher asked it before the cache.
    fn uncached(word: &[u8], term_len: usize, post: &str) -> bool {
        suffix::is_suffix(&word[term_len..]) && typos::accepts_glued_suffix(word, term_len, post)
    }

    /// The post's test as the matcher asks it.
    fn test(post: &str) -> impl Fn(PostTest) -> bool + '_ {
        move |test| match test {
            PostTest::LooksTurkish => typos::looks_turkish(post),
            PostTest::NotForeign => !typos::reads_foreign(post),
        }
    }

    #[test]
    fn cached_glued_verdicts_equal_fresh_ones() {
        let names = [
            "turkcell",
            "marti",
            "thy",
            "samsung",
            "microsoft",
            "turk telekom",
        ];
        let endings = [
            "den",
            "e",
            "a",
            "u",
            "i",
            "ye",
            "nin",
            "ni",
            "yla",
            "la",
            "lerimizden",
            "ma",
            "sindan",
            "dan",
            "cu",
            "ler",
            "lar",
            "x",
            "ıdan",
            "a".repeat(60).leak(),
        ];
        let posts = [
            "bugün yine çekmiyor",
            "I love my new phone",
            "gibi",
            "",
            "ışık",
            "Dzień dobry, nie mam dziś czasu",
            "Ich habe heute leider keine Zeit",
            "Familiada: co zapuszczamy w domu",
        ];
        let mut cache = GluedVerdicts::default();
        let (mut accepted, mut asked) = (0, 0);
        for round in 0..2 {
            for name in names {
                for ending in endings {
                    let word = format!("{name}{ending}");
                    for post in posts {
                        let mut asks = 0;
                        let cached = cache.accepts(word.as_bytes(), name.len(), |kind| {
                            asks += 1;
                            test(post)(kind)
                        });
                        assert_eq!(
                            cached,
                            uncached(word.as_bytes(), name.len(), post),
                            "{word} ({}) in {post:?}, round {round}",
                            name.len()
                        );
                        assert!(asks <= 1);
                        accepted += usize::from(cached);
                        asked += asks;
                    }
                }
            }
        }
        // The table holds both answers, and posts that decide a one-letter ending.
        assert!(accepted > 0);
        assert!(asked > 0);
    }

    #[test]
    fn an_evicted_verdict_is_decided_again() {
        let mut cache = GluedVerdicts::default();
        let words: Vec<String> = (0..3 * SLOTS)
            .map(|i| {
                let stem: String = [i % 26, i / 26 % 26, i / 676 % 26]
                    .iter()
                    .map(|&n| char::from(b'a' + n as u8))
                    .collect();
                format!("mar{stem}dan")
            })
            .collect();
        for _ in 0..2 {
            for word in &words {
                let stem = word.len() - 3;
                let cached = cache.accepts(word.as_bytes(), stem, test("ışık"));
                assert_eq!(cached, uncached(word.as_bytes(), stem, "ışık"), "{word}");
            }
        }
    }
}
